/**
 * Preloaded into a server process by the compression benchmark (`node --expose-gc --import
 * dist/bench/lib/memory-report.js`): on SIGUSR2, two full GCs, then one stdout line
 * `{"memoryReport":<n>,"heapUsed":..,"external":..,"arrayBuffers":..,"rss":..}`. V8's heap plus
 * external memory (Buffers) after GC is what JavaScript keeps alive; RSS adds native memory (zlib's
 * streams) and what the allocator keeps of memory freed, so both are reported.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (typeof collect === 'function') {
  let reports = 0;
  process.on('SIGUSR2', () => {
    collect();
    collect();
    const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ memoryReport: ++reports, heapUsed, external, arrayBuffers, rss })}\n`);
  });
}
