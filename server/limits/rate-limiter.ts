import { TokenBucket } from './token-bucket.js';

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
 * offline work, or a script pasting thousands of edits, sends a burst it should not be slowed for.
 */
const BURST_SECONDS = 10;
/**
 * A paused connection is read again once its buckets hold this many seconds of its rate. Less
 * would pause and resume it for every few frames (a timer and two epoll changes each; at the
 * default 1,000 frames/s that is 1,000 cycles a second); one second bounds it to one cycle a second.
 */
const RESUME_SECONDS = 1;
/**
 * A connection held back this long without a break is closed (4429). Being held back without a
 * break means paused, and paused again less than RESUME_SECONDS after each resume: it had more
 * waiting than the second's worth it was given. By then it has sent its burst plus this many
 * seconds' worth (20 s of its rate in all): far more than an editor, or an import paced to the
 * rate, ever sends; a history replay larger than that needs higher limits.
 */
const MAX_HELD_SECONDS = 10;

/** What a connection must do about a frame it has read: stop reading for a while, or be closed. */
export type RateVerdict = { pauseMs: number } | { refusal: string };

/**
 * The frame and byte rates of one connection, as backpressure: a frame that was read is always
 * counted (and handled: nothing read is lost), and a connection over its rate is told to stop
 * reading until its buckets hold RESUME_SECONDS of the rate again; TCP then slows the client down.
 * Only a connection still over its rate after MAX_HELD_SECONDS of that is refused. Bursts of
 * BURST_SECONDS' worth pass unpaced; a single frame of the maximum size always fits a full bucket.
 * A class rather than closures: every connection keeps one (two buckets and three numbers).
 */
export class RateLimiter {
  private readonly messages: TokenBucket | null;
  private readonly bytes: TokenBucket | null;
  private paused = false;
  /** When the current stretch of being held back began; null when there is none. */
  private heldSince: number | null = null;
  private resumedAt = -Infinity;

  /** A limiter for `limits`, or null when both limits are off (so that it costs nothing). */
  static create(limits: RateLimits, now = performance.now()): RateLimiter | null {
    return limits.messagesPerSecond > 0 || limits.bytesPerSecond > 0 ? new RateLimiter(limits, now) : null;
  }

  private constructor(
    private readonly limits: RateLimits,
    now: number,
  ) {
    const { messagesPerSecond, bytesPerSecond, maxMessageBytes } = limits;
    this.messages = messagesPerSecond > 0 ? new TokenBucket(messagesPerSecond, messagesPerSecond * BURST_SECONDS, now) : null;
    this.bytes = bytesPerSecond > 0 ? new TokenBucket(bytesPerSecond, Math.max(bytesPerSecond * BURST_SECONDS, maxMessageBytes), now) : null;
  }

  /**
   * Counts one frame of `bytes` that was read: null while the connection is within its rate;
   * else how long to stop reading it, or (held back for MAX_HELD_SECONDS, or with more read
   * already than that would repay) why it is refused.
   */
  account(bytes: number, now = performance.now()): RateVerdict | null {
    this.messages?.charge(1, now);
    this.bytes?.charge(bytes, now);
    const over = this.overProblem(now);
    if (!over) return null;
    if (!this.paused) {
      this.paused = true;
      // Paused again soon after a resume: the same stretch goes on; otherwise a new one begins.
      if (this.heldSince === null || now - this.resumedAt >= RESUME_SECONDS * 1000) this.heldSince = now;
    }
    const pauseMs = this.resumeDelay(now);
    // Decided now if the pause would outlast the bound: it would still be over when it ends.
    if (now + pauseMs - this.heldSince! > MAX_HELD_SECONDS * 1000) return { refusal: over };
    return { pauseMs };
  }

  /** Milliseconds until a paused connection may be read again (0: now). */
  resumeDelay(now = performance.now()): number {
    const messages = this.messages?.msUntil(this.limits.messagesPerSecond * RESUME_SECONDS, now) ?? 0;
    const bytes = this.bytes?.msUntil(this.limits.bytesPerSecond * RESUME_SECONDS, now) ?? 0;
    return Math.max(messages, bytes);
  }

  /** The connection is read again. */
  resumed(now = performance.now()): void {
    this.paused = false;
    this.resumedAt = now;
  }

  /** Which rate the connection is over (its bucket in debt), or null. */
  private overProblem(now: number): string | null {
    if (this.messages && this.messages.level(now) < 0) return `rate limit: more than ${this.limits.messagesPerSecond} messages per second`;
    if (this.bytes && this.bytes.level(now) < 0) return `rate limit: more than ${this.limits.bytesPerSecond} bytes per second`;
    return null;
  }
}
