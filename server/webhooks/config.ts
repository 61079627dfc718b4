import { endpointUrlProblem } from './endpoint-rules.js';
import { DEFAULT_WEBHOOK_EVENTS, eventListProblem, expandEventList, type WebhookEventType } from './event-types.js';
import { secretProblem } from './signing.js';

export interface WebhookConfig {
  /** The default endpoint (`WEBHOOK_URL`); null: none (endpoints may still be added through the API). */
  url: string | null;
  secret: string | null;
  /** Event types of the default endpoint (`WEBHOOK_EVENTS`). */
  events: WebhookEventType[];
  /** document.updated goes out once no change came for this long... */
  debounceMs: number;
  /** ...or at the latest this long after the first change of the batch. */
  maxWaitMs: number;
  /** An attempt not answered with 2xx within this is a failure. */
  timeoutMs: number;
  /** Waits before the 2nd, 3rd... attempt; after the last one fails, the delivery is failed. */
  retryScheduleMs: number[];
  /** Deliver to private, loopback and link-local addresses too (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** An endpoint that has failed every attempt for this long is disabled. */
  disableAfterMs: number;
}

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DURATION_MS = 30 * 86_400_000;

/** `250`, `250ms`, `5s`, `5m`, `2h`, `1d` → milliseconds; null if it is none of those. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return null;
  const ms = Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  return Number.isFinite(ms) && ms <= MAX_DURATION_MS ? ms : null;
}

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about 28 hours. */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/**
 * Reads the WEBHOOK_* variables; `fail` throws the configuration error (server/config.ts passes
 * one that throws its ConfigError, which names the variable at start).
 */
export function readWebhookConfig(env: Env, fail: (message: string) => never): WebhookConfig {
  const duration = (key: string, fallback: number, min: number): number => {
    const raw = env[key]?.trim();
    if (!raw) return fallback;
    const ms = parseDuration(raw);
    if (ms === null) fail(`${key} must be a duration in milliseconds or like 500ms, 5s, 5m, 2h, 1d (at most 30d), got "${raw}"`);
    if (ms < min) fail(`${key} must be at least ${min} ms, got ${ms}`);
    return ms;
  };

  const url = env.WEBHOOK_URL?.trim() || null;
  const secret = env.WEBHOOK_SECRET?.trim() || null;
  const allowPrivateRaw = (env.WEBHOOK_ALLOW_PRIVATE ?? '').trim().toLowerCase();
  if (!['', '0', '1', 'true', 'false', 'yes', 'no'].includes(allowPrivateRaw)) fail(`WEBHOOK_ALLOW_PRIVATE must be 1 or 0, got "${env.WEBHOOK_ALLOW_PRIVATE}"`);
  const allowPrivate = ['1', 'true', 'yes'].includes(allowPrivateRaw);
  if (url) {
    const problem = endpointUrlProblem(url, allowPrivate);
    if (problem) fail(`WEBHOOK_URL: ${problem}`);
    if (!secret) fail('WEBHOOK_SECRET is required with WEBHOOK_URL: whsec_ followed by base64 of 24 to 64 random bytes, e.g. "whsec_$(openssl rand -base64 32)"');
  }
  if (secret) {
    const problem = secretProblem(secret);
    if (problem) fail(`WEBHOOK_SECRET: ${problem}`);
    if (!url) fail('WEBHOOK_SECRET is set but WEBHOOK_URL is not');
  }

  let events: WebhookEventType[] = [...DEFAULT_WEBHOOK_EVENTS];
  const eventsRaw = env.WEBHOOK_EVENTS?.trim();
  if (eventsRaw) {
    const list = eventsRaw.split(',').map((entry) => entry.trim()).filter(Boolean);
    const problem = eventListProblem(list);
    if (problem) fail(`WEBHOOK_EVENTS: ${problem}`);
    events = expandEventList(list);
  }

  let retryScheduleMs = DEFAULT_RETRY_SCHEDULE_MS;
  const scheduleRaw = env.WEBHOOK_RETRY_SCHEDULE?.trim();
  if (scheduleRaw) {
    const entries = scheduleRaw.split(',').map((entry) => entry.trim());
    retryScheduleMs = entries.map((entry) => {
      const ms = parseDuration(entry);
      if (ms === null || ms < 1) fail(`WEBHOOK_RETRY_SCHEDULE must be a comma-separated list of durations like 5s,5m,30m, got "${entry}"`);
      return ms;
    });
    if (retryScheduleMs.length > 20) fail(`WEBHOOK_RETRY_SCHEDULE may list at most 20 retries, got ${retryScheduleMs.length}`);
  }

  const debounceMs = duration('WEBHOOK_DEBOUNCE_MS', 2_000, 0);
  const maxWaitMs = duration('WEBHOOK_MAX_WAIT_MS', 10_000, 1);
  if (maxWaitMs < debounceMs) fail(`WEBHOOK_MAX_WAIT_MS (${maxWaitMs}) must be at least WEBHOOK_DEBOUNCE_MS (${debounceMs})`);
  return {
    url,
    secret,
    events,
    debounceMs,
    maxWaitMs,
    timeoutMs: duration('WEBHOOK_TIMEOUT_MS', 10_000, 100),
    retryScheduleMs,
    allowPrivate,
    disableAfterMs: duration('WEBHOOK_DISABLE_AFTER', 5 * 86_400_000, 1_000),
  };
}
