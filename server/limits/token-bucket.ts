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

interface Bucket {
  tokens: number;
  at: number;
}

export function createTokenBuckets({ perMinute, capacity, maxKeys = 100_000 }: TokenBucketOptions): TokenBuckets {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  const refill = (bucket: Bucket, now: number) => {
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
  };
  const sweep = (now: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now);
      if (bucket.tokens >= capacity) buckets.delete(key);
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
        bucket = { tokens: capacity, at: now };
        buckets.set(key, bucket);
      }
      refill(bucket, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return null;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
