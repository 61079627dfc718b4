// Preloaded into a server process by the leak test (NODE_OPTIONS="--expose-gc --import <this>"):
// SIGUSR2 runs full garbage collections, so memory can be measured after a forced settle. Each run
// is acknowledged with a line on stdout ({"gcOnSignal":<n>}), which the test waits for.
if (typeof globalThis.gc === 'function') {
  let runs = 0;
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
    process.stdout.write(`${JSON.stringify({ gcOnSignal: ++runs })}\n`);
  });
}
