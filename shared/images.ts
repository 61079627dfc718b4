/**
 * What an image in a document may point at and hold, for the schema (shared/schema.ts), the
 * server's update checks (which read the schema's attribute validators through content-rules.ts),
 * the files API and the editor. One place, so that the editor never makes an image the server
 * would refuse.
 */

/** The media types the files API accepts (checked by the bytes, never by name or declared type). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/**
 * A file's id: the SHA-256 of its bytes, base64url without padding (43 characters). The same bytes
 * uploaded twice to a document are one file, and a URL never changes what it shows (cacheable forever).
 */
export const FILE_ID = /^[A-Za-z0-9_-]{43}$/;

/** Longest `src`: own file URLs are ~100 characters plus the document name (≤ 512 bytes, encoded ≤ 1,536). */
export const MAX_IMAGE_SRC_CHARS = 2048;
/** Longest alt text: a description, not an essay (screen readers read it whole). */
export const MAX_IMAGE_ALT_CHARS = 1000;
/** Display widths in CSS pixels; null is the image's own width (bounded by the page). */
export const MIN_IMAGE_WIDTH = 16;
export const MAX_IMAGE_WIDTH = 4000;

const FILES_PREFIX = '/api/documents/';

/** The URL path of a document's file, as stored in `src` (relative to the server). */
export function fileUrl(document: string, id: string): string {
  return `${FILES_PREFIX}${encodeURIComponent(document)}/files/${id}`;
}

/** The document and file id of an own file URL, or null for anything else. */
export function parseFileUrl(src: string): { document: string; id: string } | null {
  if (!src.startsWith(FILES_PREFIX)) return null;
  const match = /^([^/?#\s]+)\/files\/([^/?#\s]+)$/.exec(src.slice(FILES_PREFIX.length));
  if (!match || !FILE_ID.test(match[2]!)) return null;
  let document: string;
  try {
    document = decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
  return encodeURIComponent(document) === match[1] ? { document, id: match[2]! } : null;
}

/** Why `src` may not be an image's source, or null: an own file URL, or an http(s) URL. */
export function imageSrcProblem(src: unknown): string | null {
  if (typeof src !== 'string') return 'must be a string';
  if (src.length > MAX_IMAGE_SRC_CHARS) return `must be at most ${MAX_IMAGE_SRC_CHARS} characters`;
  if (parseFileUrl(src)) return null;
  // Whitespace, control characters and backslashes change what browsers fetch (see safeHref).
  if (/[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2060\u3000\ufeff\\]/.test(src)) return 'must not contain spaces, control characters or backslashes';
  if (/^https?:\/\/[^/?#@]+([/?#]|$)/i.test(src)) return null;
  return 'must be a file of this server (/api/documents/<name>/files/<id>) or an http(s) URL';
}

export function imageAltProblem(alt: unknown): string | null {
  if (typeof alt !== 'string') return 'must be a string';
  return alt.length > MAX_IMAGE_ALT_CHARS ? `must be at most ${MAX_IMAGE_ALT_CHARS} characters` : null;
}

export function imageWidthProblem(width: unknown): string | null {
  if (width === null) return null;
  if (typeof width !== 'number' || !Number.isInteger(width)) return 'must be a whole number of pixels or null';
  return width < MIN_IMAGE_WIDTH || width > MAX_IMAGE_WIDTH ? `must be from ${MIN_IMAGE_WIDTH} to ${MAX_IMAGE_WIDTH} pixels` : null;
}

/** A width read from HTML (`width="300"`, `style="width: 300px"`) that fits, or null. */
export function parsedImageWidth(raw: string | null | undefined): number | null {
  if (!raw) return null;
  const match = /^\s*(\d{1,5})(\.\d+)?\s*(px)?\s*$/i.exec(raw);
  if (!match) return null;
  const width = Math.round(Number(match[1] + (match[2] ?? '')));
  return imageWidthProblem(width) === null ? width : null;
}
