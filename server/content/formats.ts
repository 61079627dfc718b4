/**
 * The content formats and their media types: what routes check before any conversion runs. Kept
 * apart from conversion.ts, whose parsers (linkedom, htmlparser2, markdown-it,
 * prosemirror-markdown) are loaded only when content is first converted (lazy.ts).
 */

export const FORMATS = ['markdown', 'html', 'json', 'text'] as const;
export type ContentFormat = (typeof FORMATS)[number];

/** The media type each format is sent and received as. */
export const MEDIA_TYPES: Record<ContentFormat, string> = {
  markdown: 'text/markdown',
  html: 'text/html',
  json: 'application/json',
  text: 'text/plain',
};

export function isFormat(value: unknown): value is ContentFormat {
  return typeof value === 'string' && (FORMATS as readonly string[]).includes(value);
}

/** The format of a body by its Content-Type (parameters such as charset ignored), or null. */
export function formatOfMediaType(contentType: string | undefined): ContentFormat | null {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return FORMATS.find((format) => MEDIA_TYPES[format] === mediaType) ?? null;
}
