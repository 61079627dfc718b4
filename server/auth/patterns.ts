import { MAX_DOCUMENT_NAME_BYTES } from '../../shared/protocol.js';

/**
 * Document patterns in tokens: an exact document name, or a pattern in which `*` stands for any
 * run of characters (slashes included). `team/*` grants every document whose name starts with
 * `team/`; `*` grants every document. There is no escape for a literal `*`.
 */

export const MAX_PATTERNS = 100;

/** Why `pattern` is not acceptable in a token, or null. */
export function patternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'document patterns must be strings';
  if (pattern.length === 0) return 'document pattern is empty';
  if (new TextEncoder().encode(pattern).length > MAX_DOCUMENT_NAME_BYTES) return `document pattern is longer than ${MAX_DOCUMENT_NAME_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'document pattern contains control characters';
  return null;
}

/**
 * Whether `name` matches `pattern`. Linear-time glob matching (no regular expressions, so a
 * pattern like `*a*a*a*b` cannot make matching slow).
 */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starN = n;
    } else if (p < pattern.length && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether any of `patterns` grants `name`. */
export function grants(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, name));
}

/**
 * A prefix under which new documents may be created when the client gives no name: `*` → no
 * prefix (''), `team/*` → `team/`. Null when no pattern is a plain prefix.
 */
export function creationPrefix(patterns: readonly string[]): string | null {
  if (patterns.includes('*')) return '';
  for (const pattern of patterns) {
    if (pattern.endsWith('*') && !pattern.slice(0, -1).includes('*')) return pattern.slice(0, -1);
  }
  return null;
}
