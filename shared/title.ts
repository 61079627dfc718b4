/**
 * Title rules, one set for every place a title is made: set in the editor, sent to the API, or
 * derived by the server from a document's first line.
 */

/** Longest title kept; longer ones are refused by the API and cut elsewhere. */
export const MAX_TITLE_CHARS = 200;

/** Why `title` is not an acceptable title, or null. */
export function titleProblem(title: unknown): string | null {
  if (typeof title !== 'string') return 'title must be a string';
  if (title.length > MAX_TITLE_CHARS) return `title is longer than ${MAX_TITLE_CHARS} characters`;
  return null;
}

/** A title as stored and shown: white space collapsed and trimmed, at most MAX_TITLE_CHARS. */
export function cleanTitle(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_TITLE_CHARS);
}
