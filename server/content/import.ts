import type { Node as PMNode } from 'prosemirror-model';
import { cleanTitle } from '../../shared/title.js';
import { ContentError, firstHeadingText } from './fit.js';
import { FORMATS, isFormat } from './formats.js';
import { loadConversion } from './lazy.js';

/**
 * The content of a `POST /api/documents` import (`{ "content": "...", "format": "markdown" }`,
 * format defaulting to Markdown), converted before anything is created; null when the body has
 * no content (a plain creation). `title` is the first heading's text, for a document given no title.
 */
export async function importedContent(body: Record<string, unknown>): Promise<{ doc: PMNode; title: string } | { error: string } | null> {
  if (body.content === undefined) {
    return body.format === undefined ? null : { error: 'format without content: give the content to import' };
  }
  if (typeof body.content !== 'string') return { error: 'content must be a string' };
  const format = body.format ?? 'markdown';
  if (!isFormat(format)) return { error: `format must be one of ${FORMATS.join(', ')}` };
  const { parseContent } = await loadConversion();
  try {
    const doc = parseContent(format, body.content);
    return { doc, title: cleanTitle(firstHeadingText(doc) ?? '') };
  } catch (error) {
    if (error instanceof ContentError) return { error: error.message };
    throw error;
  }
}
