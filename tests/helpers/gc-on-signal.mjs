// Preloaded into a server process by the leak test (NODE_OPTIONS="--expose-gc --import <this>"):
// SIGUSR2 runs full garbage collections, so memory can be measured after a forced settle.
if (typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
  });
}
