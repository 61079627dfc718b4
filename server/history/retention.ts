/**
 * Retention of unnamed versions: tiers by age, each keeping all versions or one per period.
 * `VERSION_RETENTION=1d:all,7d:1h,forever:1d` keeps every version of the last day, the newest of
 * each hour up to a week, then the newest of each day; `…,90d:1d` would drop unnamed versions
 * older than 90 days. Named versions are never thinned.
 */
export interface RetentionTier {
  /** Versions younger than this belong to the tier (Infinity: `forever`). */
  maxAgeMs: number;
  /** Keep the newest version of each period this long; 0 keeps all. */
  spacingMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `90s`, `15m`, `1h`, `7d`, `2w` → milliseconds; null if not one of those. */
export function parseRetentionDuration(text: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  return ms > 0 && ms <= 100 * 365 * 86_400_000 ? ms : null;
}

/** The tiers of a VERSION_RETENTION value, or why it is not one. */
export function parseRetention(text: string): RetentionTier[] | string {
  const tiers: RetentionTier[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    const [ageText = '', spacingText = '', ...rest] = entry.split(':');
    if (rest.length > 0 || !ageText || !spacingText) return `each tier is <age>:<keep>, e.g. 7d:1h or forever:1d, got "${entry}"`;
    const maxAgeMs = ageText === 'forever' ? Infinity : parseRetentionDuration(ageText);
    if (maxAgeMs === null) return `age must be a duration like 36h, 7d, 2w or "forever", got "${ageText}"`;
    const spacingMs = spacingText === 'all' ? 0 : parseRetentionDuration(spacingText);
    if (spacingMs === null) return `keep must be "all" or a duration like 1h, 1d, got "${spacingText}"`;
    const previous = tiers[tiers.length - 1];
    if (previous && maxAgeMs <= previous.maxAgeMs) return 'tiers must be in order of increasing age';
    if (previous?.maxAgeMs === Infinity) return '"forever" must be the last tier';
    tiers.push({ maxAgeMs, spacingMs });
  }
  return tiers.length > 0 ? tiers : 'give at least one tier';
}

/**
 * The ids of the versions retention drops at `now`: unnamed ones older than every tier, and in
 * each tier with a period all but the newest of each period (periods are aligned to the epoch,
 * so the same versions stay whenever thinning runs). Pure: the caller deletes them.
 */
export function versionsToThin(versions: ReadonlyArray<{ id: string; createdAt: number; label: string | null }>, now: number, tiers: readonly RetentionTier[]): string[] {
  const drop: string[] = [];
  const kept = new Map<string, { id: string; createdAt: number }>();
  for (const version of versions) {
    if (version.label !== null) continue;
    const age = Math.max(0, now - version.createdAt);
    const tier = tiers.findIndex((t) => age < t.maxAgeMs);
    if (tier === -1) {
      drop.push(version.id);
      continue;
    }
    const { spacingMs } = tiers[tier]!;
    if (spacingMs === 0) continue;
    const period = `${tier}:${Math.floor(version.createdAt / spacingMs)}`;
    const holder = kept.get(period);
    if (!holder) kept.set(period, version);
    else if (version.createdAt > holder.createdAt) {
      drop.push(holder.id);
      kept.set(period, version);
    } else drop.push(version.id);
  }
  return drop;
}
