/**
 * A token bucket: holds up to `capacity` tokens and refills at `ratePerSecond`. The server's one
 * implementation of "so much per second, with bursts": the frame and byte rates of a connection
 * (rate-limiter.ts), document creations per key (createTokenBuckets below), and the pacing of
 * commits, per room (sync/update-pipeline.ts) and per SQLite database (storage/sqlite-writes.ts).
 * Times are milliseconds on any one clock the caller keeps to (performance.now() by default).
 * Memory: four numbers.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private ratePerSecond: number,
    private readonly capacity: number,
    now = performance.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** The tokens held at `now`: negative while in debt (see charge()). */
  level(now = performance.now()): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    return this.tokens;
  }

  /** Takes `amount` tokens if there are enough; returns whether it did. */
  take(amount: number, now = performance.now()): boolean {
    if (amount > this.level(now)) return false;
    this.tokens -= amount;
    return true;
  }

  /**
   * Takes `amount` tokens even if there are fewer, for work that is done already (a frame that
   * was read): the bucket goes into debt, which refilling repays first.
   */
  charge(amount: number, now = performance.now()): void {
    this.level(now);
    this.tokens -= amount;
  }

  /** Takes `amount` tokens, or as many as there are: for work that ran anyway but must not push later work back. */
  takeAtMost(amount: number, now = performance.now()): void {
    const level = this.level(now);
    this.tokens = Math.max(Math.min(level, 0), level - amount);
  }

  /** Refills at `ratePerSecond` from `now` on (a pacing that follows the load). */
  setRate(ratePerSecond: number, now = performance.now()): void {
    if (ratePerSecond === this.ratePerSecond) return;
    this.level(now);
    this.ratePerSecond = ratePerSecond;
  }

  /** Milliseconds from `now` until the bucket holds `amount` tokens; 0 if it does. */
  msUntil(amount: number, now = performance.now()): number {
    const missing = amount - this.level(now);
    return missing > 0 ? (missing / this.ratePerSecond) * 1000 : 0;
  }

  /** Full, so no different from a new bucket (a map of buckets may forget it). */
  isFull(now = performance.now()): boolean {
    return this.level(now) >= this.capacity;
  }
}

/**
 * Token buckets by key (a token subject, a client address): each holds up to `capacity` tokens
 * and refills at `perMinute`; taking from an empty one says how long until the next token.
 * Memory: one small entry per key seen recently; full buckets are swept once the map holds
 * `maxKeys` (a full bucket is the same as no entry), and if most are in use the oldest entries go
 * down to half (their keys get a full bucket: a flood of distinct keys cannot exhaust memory).
 */
export interface TokenBuckets {
  /** Takes one token for `key`: null if granted, else seconds until one is available. */
  take(key: string, now?: number): number | null;
  readonly size: number;
}

export interface TokenBucketOptions {
  perMinute: number;
  capacity: number;
  maxKeys?: number;
}

export function createTokenBuckets({ perMinute, capacity, maxKeys = 100_000 }: TokenBucketOptions): TokenBuckets {
  const buckets = new Map<string, TokenBucket>();
  const sweep = (now: number) => {
    for (const [key, bucket] of buckets) {
      if (bucket.isFull(now)) buckets.delete(key);
    }
    // Maps iterate in insertion order: the first keys are the oldest. Down to half, so that a
    // sweep (O(maxKeys)) happens at most once per maxKeys/2 new keys.
    for (const key of buckets.keys()) {
      if (buckets.size <= maxKeys / 2) break;
      buckets.delete(key);
    }
  };
  return {
    take(key, now = Date.now()) {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys) sweep(now);
        bucket = new TokenBucket(perMinute / 60, capacity, now);
        buckets.set(key, bucket);
      }
      if (bucket.take(1, now)) return null;
      return Math.max(1, Math.ceil(bucket.msUntil(1, now) / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
