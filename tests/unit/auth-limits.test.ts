import { describe, expect, it } from 'vitest';
import { ConnectionLimiter, clientAddress } from '../../server/limits/connection-limiter.js';
import { TokenBucket, createFrameLimiter } from '../../server/limits/rate-limiter.js';

describe('token bucket', () => {
  it('admits a burst up to its capacity, then the sustained rate', () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) expect(bucket.take(1, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
    expect(bucket.take(1, 100)).toBe(true);
    expect(bucket.take(1, 100)).toBe(false);
    expect(bucket.take(5, 600)).toBe(true);
  });

  it('frame limiter: says which limit, admits one maximum-size frame, and 0 disables', () => {
    const limit = createFrameLimiter({ messagesPerSecond: 1, bytesPerSecond: 10, maxMessageBytes: 1_000 });
    expect(limit(1_000)).toBeNull();
    expect(limit(1)).toMatch(/bytes per second/);
    const messages = createFrameLimiter({ messagesPerSecond: 1, bytesPerSecond: 0, maxMessageBytes: 1_000 });
    let refusal: string | null = null;
    for (let i = 0; i < 100 && !refusal; i++) refusal = messages(1);
    expect(refusal).toBe('rate limit: more than 1 messages per second');
    const none = createFrameLimiter({ messagesPerSecond: 0, bytesPerSecond: 0, maxMessageBytes: 1 });
    for (let i = 0; i < 10_000; i++) expect(none(1_000_000)).toBeNull();
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
