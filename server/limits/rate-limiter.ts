/** A token bucket: `capacity` tokens, refilled at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now = performance.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes `amount` tokens if there are enough; returns whether it did. */
  take(amount: number, now = performance.now()): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (amount > this.tokens) return false;
    this.tokens -= amount;
    return true;
  }
}

export interface RateLimits {
  /** Sustained frames per second per connection; 0 disables the limit. */
  messagesPerSecond: number;
  /** Sustained bytes per second per connection; 0 disables the limit. */
  bytesPerSecond: number;
  /** The largest frame, which a full byte bucket must always admit. */
  maxMessageBytes: number;
}

/**
 * Seconds of the sustained rate a connection may send at once: an editor reconnecting after
 * offline work, or a script pasting thousands of edits, sends a burst it should not be closed for.
 */
const BURST_SECONDS = 10;

/** Shared by every connection when both limits are off, so that it costs them nothing. */
const unlimited = (): null => null;

/**
 * Per-connection frame limiter: returns a function that accounts one frame of `bytes` and says
 * why it is refused, or null. Bursts of ten seconds' worth are allowed; a single frame of the
 * maximum size always fits a full bucket.
 */
export function createFrameLimiter(limits: RateLimits): (bytes: number) => string | null {
  const messages = limits.messagesPerSecond > 0 ? new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * BURST_SECONDS) : null;
  const bytes =
    limits.bytesPerSecond > 0 ? new TokenBucket(limits.bytesPerSecond, Math.max(limits.bytesPerSecond * BURST_SECONDS, limits.maxMessageBytes)) : null;
  if (!messages && !bytes) return unlimited;
  return (size) => {
    const now = performance.now();
    if (messages && !messages.take(1, now)) return `rate limit: more than ${limits.messagesPerSecond} messages per second`;
    if (bytes && !bytes.take(size, now)) return `rate limit: more than ${limits.bytesPerSecond} bytes per second`;
    return null;
  };
}
