import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, literalAddressProblem, privateAddressKind } from '../../server/webhooks/address-guard.js';
import { DEFAULT_RETRY_SCHEDULE_MS, parseDuration, readWebhookConfig } from '../../server/webhooks/config.js';
import { Debouncer, type Batch } from '../../server/webhooks/debouncer.js';
import { endpointUrlProblem } from '../../server/webhooks/endpoint-rules.js';
import { editorName, eventBody } from '../../server/webhooks/payload.js';
import { retryDelayMs } from '../../server/webhooks/retry.js';
import { generateSecret, secretProblem, signatureHeaders } from '../../server/webhooks/signing.js';

describe('signing (Standard Webhooks)', () => {
  it('produces headers that the standardwebhooks package verifies', () => {
    const secret = generateSecret();
    expect(secretProblem(secret)).toBeNull();
    const body = eventBody('document.updated', Date.UTC(2026, 0, 2), { document: 'team/a', title: 'A', seq: 3, editors: ['ada'] });
    const headers = signatureHeaders(secret, 'msg_1', Math.floor(Date.now() / 1000), body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('"seq":3', '"seq":4'), { ...headers })).toThrow();
    expect(JSON.parse(body)).toEqual({ type: 'document.updated', timestamp: '2026-01-02T00:00:00.000Z', data: { document: 'team/a', title: 'A', seq: 3, editors: ['ada'] } });
  });

  it('refuses secrets that are not whsec_ and base64 of 24 to 64 bytes', () => {
    expect(secretProblem('hunter2')).toContain('whsec_');
    expect(secretProblem('whsec_not base64!')).toContain('base64');
    expect(secretProblem(`whsec_${Buffer.alloc(16).toString('base64')}`)).toContain('24 to 64 bytes, got 16');
    expect(secretProblem(`whsec_${Buffer.alloc(65).toString('base64')}`)).toContain('got 65');
    expect(secretProblem(`whsec_${Buffer.alloc(24).toString('base64')}`)).toBeNull();
  });

  it('names editors by token subject when secured, by display name when open', () => {
    expect(editorName({ subject: 'alice@example.com', name: 'Alice' }, false)).toBe('alice@example.com');
    expect(editorName({ subject: 'anonymous', name: 'Alice' }, true)).toBe('Alice');
    expect(editorName({ subject: 'anonymous', name: null }, true)).toBe('anonymous');
  });
});

describe('private addresses', () => {
  it('classifies loopback, private, link-local and mapped addresses; public ones pass', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '224.0.0.1']) {
      expect(privateAddressKind(address), address).not.toBeNull();
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect(privateAddressKind(address), address).toBeNull();
    expect(literalAddressProblem('[::1]')).toContain('loopback');
    expect(literalAddressProblem('LOCALHOST')).toContain('loopback');
    expect(literalAddressProblem('hooks.example.com')).toBeNull();
  });

  it('refuses a name that resolves to a loopback address', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(error?.code).toBe('EPRIVATEADDRESS');
    expect(error?.message).toContain('WEBHOOK_ALLOW_PRIVATE');
  });

  it('accepts http(s) endpoint URLs without credentials', () => {
    expect(endpointUrlProblem('https://hooks.example.com/x', false)).toBeNull();
    expect(endpointUrlProblem('http://127.0.0.1:9/x', true)).toBeNull();
    expect(endpointUrlProblem('http://127.0.0.1:9/x', false)).toContain('loopback');
    expect(endpointUrlProblem('file:///etc/passwd', true)).toContain('http');
    expect(endpointUrlProblem('https://a:b@example.com/', true)).toContain('credentials');
    expect(endpointUrlProblem('not a url', true)).toContain('absolute');
  });
});

describe('configuration', () => {
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('has the documented defaults', () => {
    expect(readWebhookConfig({}, fail)).toEqual({
      url: null,
      secret: null,
      events: ['document.created', 'document.updated', 'document.deleted'],
      debounceMs: 2_000,
      maxWaitMs: 10_000,
      timeoutMs: 10_000,
      retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
      allowPrivate: false,
      disableAfterMs: 5 * 86_400_000,
    });
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  });

  it('reads every variable', () => {
    const config = readWebhookConfig(
      {
        WEBHOOK_URL: 'https://hooks.example.com/in',
        WEBHOOK_SECRET: secret,
        WEBHOOK_EVENTS: 'document.updated, user.joined',
        WEBHOOK_DEBOUNCE_MS: '500',
        WEBHOOK_MAX_WAIT_MS: '3s',
        WEBHOOK_TIMEOUT_MS: '2500',
        WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,1m',
        WEBHOOK_ALLOW_PRIVATE: '1',
        WEBHOOK_DISABLE_AFTER: '2d',
      },
      fail,
    );
    expect(config).toMatchObject({ events: ['document.updated', 'user.joined'], debounceMs: 500, maxWaitMs: 3_000, timeoutMs: 2_500, retryScheduleMs: [100, 200, 60_000], allowPrivate: true, disableAfterMs: 2 * 86_400_000 });
    expect(readWebhookConfig({ WEBHOOK_EVENTS: '*' }, fail).events).toHaveLength(5);
  });

  it('refuses bad values with a message naming the variable', () => {
    const problem = (env: Record<string, string>) => {
      try {
        readWebhookConfig(env, fail);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problem({ WEBHOOK_URL: 'https://hooks.example.com/' })).toMatch(/^WEBHOOK_SECRET is required/);
    expect(problem({ WEBHOOK_URL: 'ftp://hooks.example.com/', WEBHOOK_SECRET: secret })).toMatch(/^WEBHOOK_URL: url must start with http/);
    expect(problem({ WEBHOOK_URL: 'https://hooks.example.com/', WEBHOOK_SECRET: 'abc' })).toMatch(/^WEBHOOK_SECRET: secret must start with whsec_/);
    expect(problem({ WEBHOOK_SECRET: secret })).toBe('WEBHOOK_SECRET is set but WEBHOOK_URL is not');
    expect(problem({ WEBHOOK_EVENTS: 'document.updated,page.viewed' })).toMatch(/^WEBHOOK_EVENTS: unknown event type "page.viewed"/);
    expect(problem({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toMatch(/^WEBHOOK_RETRY_SCHEDULE must be/);
    expect(problem({ WEBHOOK_DEBOUNCE_MS: 'fast' })).toMatch(/^WEBHOOK_DEBOUNCE_MS must be a duration/);
    expect(problem({ WEBHOOK_DEBOUNCE_MS: '5000', WEBHOOK_MAX_WAIT_MS: '1000' })).toMatch(/^WEBHOOK_MAX_WAIT_MS \(1000\) must be at least WEBHOOK_DEBOUNCE_MS/);
    expect(problem({ WEBHOOK_TIMEOUT_MS: '10' })).toMatch(/^WEBHOOK_TIMEOUT_MS must be at least 100/);
    expect(problem({ WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toMatch(/^WEBHOOK_ALLOW_PRIVATE/);
  });

  it('parses durations', () => {
    expect([parseDuration('250'), parseDuration('250ms'), parseDuration('5s'), parseDuration('5m'), parseDuration('2h'), parseDuration('1d'), parseDuration('1.5s')]).toEqual([250, 250, 5_000, 300_000, 7_200_000, 86_400_000, 1_500]);
    expect([parseDuration('-1'), parseDuration('5 w'), parseDuration('31d')]).toEqual([null, null, null]);
  });
});

describe('retry delays', () => {
  it('follows the schedule, with up to 20% jitter, then gives up', () => {
    expect(retryDelayMs([1_000, 60_000], 1, () => 0)).toBe(1_000);
    expect(retryDelayMs([1_000, 60_000], 1, () => 0.999)).toBe(1_200);
    expect(retryDelayMs([1_000, 60_000], 2, () => 0.5)).toBe(66_000);
    expect(retryDelayMs([1_000, 60_000], 3)).toBeNull();
  });
});

describe('Debouncer', () => {
  let fired: Batch[];
  let debouncer: Debouncer;
  beforeEach(() => {
    vi.useFakeTimers();
    fired = [];
    debouncer = new Debouncer({ debounceMs: 2_000, maxWaitMs: 10_000, due: (batch) => fired.push(batch) });
  });
  afterEach(() => vi.useRealTimers());

  it('fires once, after the quiet time, with every editor of the batch', () => {
    debouncer.touch('a', ['ada']);
    vi.advanceTimersByTime(1_500);
    debouncer.touch('a', ['bob', 'ada']);
    vi.advanceTimersByTime(1_999);
    expect(fired).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(fired.map((b) => [b.document, [...b.editors]])).toEqual([['a', ['ada', 'bob']]]);
    vi.advanceTimersByTime(60_000);
    expect(fired).toHaveLength(1);
    expect(debouncer.size).toBe(0);
  });

  it('fires at the maximum wait while changes never pause, then starts a new batch', () => {
    for (let t = 0; t < 25_000; t += 500) {
      debouncer.touch('busy', []);
      vi.advanceTimersByTime(500);
    }
    expect(fired.map((b) => b.firstAt)).toEqual([0, 10_000].map((ms) => fired[0]!.firstAt + ms));
    expect(fired[1]!.firstAt - fired[0]!.lastAt).toBeLessThanOrEqual(500);
  });

  it('keeps documents apart, and gives up what is pending on cancel and takeAll', () => {
    debouncer.touch('a', []);
    debouncer.touch('b', []);
    expect(debouncer.cancel('a')?.document).toBe('a');
    expect(debouncer.takeAll().map((b) => b.document)).toEqual(['b']);
    vi.advanceTimersByTime(60_000);
    expect(fired).toHaveLength(0);
  });
});
