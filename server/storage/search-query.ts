/**
 * The words of a search query, as both full-text backends match them: runs of letters and digits,
 * lower-cased, at most MAX_QUERY_WORDS of at most MAX_WORD_CHARS each. Nothing else of the query
 * reaches the index (no operators, no quotes), so a query cannot be malformed.
 */
export const MAX_QUERY_WORDS = 8;
const MAX_WORD_CHARS = 64;

export function queryWords(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((word) => word.slice(0, MAX_WORD_CHARS)))].slice(0, MAX_QUERY_WORDS);
}

/** FTS5 MATCH expression: every word, the last as a prefix (the search box matches while typing). */
export function fts5Query(words: readonly string[]): string {
  return words.map((word, i) => `"${word}"${i === words.length - 1 ? '*' : ''}`).join(' AND ');
}

/** PostgreSQL to_tsquery('simple', ...) text: every word, the last as a prefix. */
export function tsQuery(words: readonly string[]): string {
  return words.map((word, i) => `'${word}'${i === words.length - 1 ? ':*' : ''}`).join(' & ');
}
