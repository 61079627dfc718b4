import { describe, expect, it } from 'vitest';
import { ConnectionLimiter, clientAddress } from '../../server/limits/connection-limiter.js';
import { RateLimiter, type RateVerdict } from '../../server/limits/rate-limiter.js';
import { TokenBucket } from '../../server/limits/token-bucket.js';

describe('token bucket', () => {
  it('admits a burst up to its capacity, then the sustained rate', () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) expect(bucket.take(1, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
    expect(bucket.take(1, 100)).toBe(true);
    expect(bucket.take(1, 100)).toBe(false);
    expect(bucket.take(5, 600)).toBe(true);
  });

  it('charges work done already into debt, which refilling repays before anything is taken', () => {
    const bucket = new TokenBucket(10, 20, 0);
    bucket.charge(25, 0);
    expect(bucket.level(0)).toBe(-5);
    expect(bucket.msUntil(1, 0)).toBe(600);
    expect(bucket.take(1, 500)).toBe(false);
    expect(bucket.take(1, 600)).toBe(true);
    expect(bucket.isFull(600)).toBe(false);
    expect(bucket.isFull(2_600)).toBe(true);
  });

  it('takes at most what it holds (pacing: a commit without a token delays nothing after it), and follows a new rate', () => {
    const bucket = new TokenBucket(10, 2, 0);
    bucket.takeAtMost(1, 0);
    bucket.takeAtMost(1, 0);
    bucket.takeAtMost(1, 0);
    expect(bucket.level(0)).toBe(0);
    expect(bucket.msUntil(1, 0)).toBe(100);
    bucket.setRate(100, 50);
    // Half a token at the old rate, then the new one: the other half takes 5 ms.
    expect(bucket.msUntil(1, 50)).toBe(5);
  });
});

describe('rate limiter (backpressure)', () => {
  const refusal = (verdict: RateVerdict | null) => (verdict && 'refusal' in verdict ? verdict.refusal : null);

  it('says which limit, admits one maximum-size frame, and 0 disables', () => {
    const limiter = RateLimiter.create({ messagesPerSecond: 1, bytesPerSecond: 10, maxMessageBytes: 1_000 }, 0)!;
    expect(limiter.account(1_000, 0)).toBeNull();
    // Over the byte rate: not read again until a second's worth (10 bytes) is back, debt included.
    expect(limiter.account(1, 0)).toEqual({ pauseMs: 1_100 });
    const messages = RateLimiter.create({ messagesPerSecond: 1, bytesPerSecond: 0, maxMessageBytes: 1_000 }, 0)!;
    let refused: string | null = null;
    for (let i = 0; i < 100 && !refused; i++) refused = refusal(messages.account(1, 0));
    expect(refused).toBe('rate limit: more than 1 messages per second');
    expect(RateLimiter.create({ messagesPerSecond: 0, bytesPerSecond: 0, maxMessageBytes: 1 })).toBeNull();
  });

  it('pauses a connection a little over its rate until a second of it has refilled, and never refuses one that then keeps to it', () => {
    const limiter = RateLimiter.create({ messagesPerSecond: 10, bytesPerSecond: 0, maxMessageBytes: 1 }, 0)!;
    // The burst: ten seconds' worth at once.
    for (let i = 0; i < 100; i++) expect(limiter.account(1, 0)).toBeNull();
    expect(limiter.account(1, 0)).toEqual({ pauseMs: 1_100 });
    expect(limiter.resumeDelay(1_000)).toBe(100);
    expect(limiter.resumeDelay(1_100)).toBe(0);
    limiter.resumed(1_100);
    for (let t = 1_200; t < 120_000; t += 100) expect(limiter.account(1, t)).toBeNull();
  });

  it('starts afresh after a break: a writer over its rate now and then is slowed each time, never refused', () => {
    const limiter = RateLimiter.create({ messagesPerSecond: 10, bytesPerSecond: 0, maxMessageBytes: 1 }, 0)!;
    let now = 0;
    let pauses = 0;
    for (let burst = 0; burst < 50; burst++) {
      let pauseMs = 0;
      for (let i = 0; i < 30; i++) {
        const verdict = limiter.account(1, now);
        expect(refusal(verdict)).toBeNull();
        if (verdict && 'pauseMs' in verdict) pauseMs = verdict.pauseMs;
      }
      if (pauseMs > 0) pauses++;
      now += pauseMs;
      limiter.resumed(now);
      // Nothing to send for 1.5 s: the stretch of being held back is over.
      now += 1_500;
    }
    expect(pauses).toBeGreaterThan(40);
  });

  it('refuses a connection still over its rate after 10 s of being held back, or at once if what it sent already takes longer', () => {
    const limiter = RateLimiter.create({ messagesPerSecond: 10, bytesPerSecond: 0, maxMessageBytes: 1 }, 0)!;
    for (let i = 0; i < 100; i++) limiter.account(1, 0);
    // Each time it is read again, it sends more than it may at once.
    let now = 0;
    let refused: string | null = null;
    while (!refused) {
      const verdict = limiter.account(1, now);
      refused = refusal(verdict);
      if (verdict && 'pauseMs' in verdict) {
        now += verdict.pauseMs;
        limiter.resumed(now);
      }
    }
    expect(refused).toBe('rate limit: more than 10 messages per second');
    // Simulated time: held back for 9.9 s; one more pause would have ended past 10 s.
    expect(now).toBeGreaterThan(8_000);
    expect(now).toBeLessThanOrEqual(10_000);

    const flood = RateLimiter.create({ messagesPerSecond: 10, bytesPerSecond: 0, maxMessageBytes: 1 }, 0)!;
    const verdicts = Array.from({ length: 300 }, () => flood.account(1, 0));
    // The burst of 100, then a debt of up to 90 frames (9 s, plus the second's worth to resume with).
    expect(verdicts.findIndex((verdict) => refusal(verdict) !== null)).toBe(100 + 90);
  });
});

describe('connection limiter', () => {
  it('refuses beyond the per-address and total limits and frees slots once', () => {
    const limiter = new ConnectionLimiter({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const a1 = limiter.admit('a');
    const a2 = limiter.admit('a');
    expect(limiter.admit('a')).toMatchObject({ ok: false, status: 429 });
    const b1 = limiter.admit('b');
    expect(limiter.admit('c')).toMatchObject({ ok: false, status: 503 });
    if (!a1.ok || !a2.ok || !b1.ok) throw new Error('expected admissions');
    a1.release();
    a1.release();
    expect(limiter.open).toBe(2);
    a2.release();
    b1.release();
    expect(limiter.open).toBe(0);
    expect(limiter.addresses).toBe(0);
  });

  it('takes the client address from the proxy only when trusted', () => {
    expect(clientAddress('10.0.0.1', '1.2.3.4, 5.6.7.8', false)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '1.2.3.4, 5.6.7.8', true)).toBe('5.6.7.8');
    expect(clientAddress('10.0.0.1', undefined, true)).toBe('10.0.0.1');
  });
});
