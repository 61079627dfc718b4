import { parseRetention, type RetentionTier } from './retention.js';

export interface HistoryConfig {
  /** While a document is edited, an automatic version at most this often (`VERSION_INTERVAL_MS`). */
  intervalMs: number;
  /** How unnamed versions are thinned with age (`VERSION_RETENTION`). */
  retention: RetentionTier[];
}

type Env = Record<string, string | undefined>;

/** All for a day, then one an hour for a week, then one a day (named versions are always kept). */
export const DEFAULT_RETENTION = '1d:all,7d:1h,forever:1d';
export const DEFAULT_INTERVAL_MS = 5 * 60_000;

/** Reads VERSION_*; `fail` throws the configuration error naming the variable (server/config.ts). */
export function readHistoryConfig(env: Env, fail: (message: string) => never): HistoryConfig {
  const intervalRaw = env.VERSION_INTERVAL_MS?.trim();
  let intervalMs = DEFAULT_INTERVAL_MS;
  if (intervalRaw) {
    if (!/^\d+$/.test(intervalRaw)) fail(`VERSION_INTERVAL_MS must be a whole number of milliseconds, got "${intervalRaw}"`);
    intervalMs = Number(intervalRaw);
    if (intervalMs < 100 || intervalMs > 7 * 86_400_000) fail(`VERSION_INTERVAL_MS must be between 100 and ${7 * 86_400_000}, got ${intervalMs}`);
  }
  const retention = parseRetention(env.VERSION_RETENTION?.trim() || DEFAULT_RETENTION);
  if (typeof retention === 'string') fail(`VERSION_RETENTION: ${retention}`);
  return { intervalMs, retention };
}
