/**
 * Settles like `promise`, or rejects with "<what> did not answer within <ms> ms" once `ms` have
 * passed; the timer is cleared either way, so a check that answered keeps no timer alive. The
 * server's one promise-against-a-timer race (storage and Redis health checks use it).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
