/**
 * Listing by access pattern (`team/*`, `notes`, `a/*\/b`): each pattern becomes an indexed range
 * on the document name (its literal prefix: `name >= prefix AND name < prefixEnd`) plus an exact
 * match in SQL (GLOB on SQLite, LIKE on PostgreSQL), so a list holds every granted document and
 * nothing else however many documents others create. Cost: the rows under the prefix are read and
 * sorted; a pattern starting with `*` has no prefix and reads the whole table.
 */

/** What one pattern asks of the name column. */
export interface NameRange {
  /** Exact name (a pattern without `*`). */
  exact: string | null;
  /** Literal prefix before the first `*` ('' for none), and the first string above every name with it (null: no bound). */
  prefix: string;
  prefixEnd: string | null;
}

/**
 * The first string greater than every string starting with `prefix`, in code point order (which
 * is SQLite's BINARY and PostgreSQL's "C" order of UTF-8 text): the last code point plus one,
 * skipping surrogates; null when there is none (a prefix of U+10FFFF only, or empty).
 */
export function prefixEnd(prefix: string): string | null {
  const points = Array.from(prefix, (char) => char.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last + 1 === 0xd800 ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

export function nameRange(pattern: string): NameRange {
  const star = pattern.indexOf('*');
  if (star === -1) return { exact: pattern, prefix: pattern, prefixEnd: null };
  const prefix = pattern.slice(0, star);
  return { exact: null, prefix, prefixEnd: prefix === '' ? null : prefixEnd(prefix) };
}

/** The SQLite GLOB pattern matching exactly what `pattern` grants (`*` any run; `?` and `[` literal). */
export function sqliteGlob(pattern: string): string {
  return pattern.replace(/[?[]/g, (char) => `[${char}]`);
}

/** The PostgreSQL LIKE pattern (escape character `\`) matching exactly what `pattern` grants. */
export function postgresLike(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (char) => `\\${char}`).replace(/\*/g, '%');
}

/** At most this many patterns per list query (a token holds at most 100). */
export const MAX_LIST_PATTERNS = 100;

/** Distinct patterns, at most MAX_LIST_PATTERNS; throws on more (callers pass a token's list). */
export function listPatterns(patterns: readonly string[]): string[] {
  const distinct = [...new Set(patterns)];
  if (distinct.length > MAX_LIST_PATTERNS) throw new Error(`at most ${MAX_LIST_PATTERNS} patterns per list`);
  return distinct;
}
