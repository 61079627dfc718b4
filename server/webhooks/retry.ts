/**
 * When to try a delivery again: `schedule[n]` after the (n+1)th failed attempt, stretched by up to
 * 20% of random jitter, so that the deliveries an outage failed together do not all come back in
 * the same second. Null once the schedule is exhausted: the delivery has failed for good.
 */
export function retryDelayMs(schedule: readonly number[], attemptsMade: number, random: () => number = Math.random): number | null {
  const base = schedule[attemptsMade - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + 0.2 * random()));
}
