import type { Node as PMNode } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import { fixTables } from 'prosemirror-tables';
import { schema } from '../../shared/schema.js';
import { ContentError, depthProblem, fitDocument } from './fit.js';
import type { ContentFormat } from './formats.js';
import { createHtmlConverter } from './html.js';
import { parseProseMirrorJson, serializeProseMirrorJson } from './json.js';
import { createMarkdownConverter } from './markdown.js';
import { parsePlainText, serializePlainText } from './text.js';

/**
 * Content conversion: the one place where documents become Markdown, HTML, ProseMirror JSON or
 * plain text and back, always with the project's schema (shared/schema.ts). No I/O. Every walk
 * over input is iterative or bounded by MAX_NESTING_DEPTH before anything recurses (ProseMirror's
 * serializers and toJSON recurse once per level: at most ~100 here). Used by the content API,
 * import, and search indexing (fragment.ts).
 *
 * Heavy to load: linkedom, htmlparser2, markdown-it and prosemirror-markdown add ~20 MB of
 * resident memory to a server that has not converted anything yet. The server therefore imports
 * this module through loadConversion() (lazy.ts) when content is first converted; the
 * formats themselves (formats.ts) cost nothing.
 */

const markdown = createMarkdownConverter(schema);
const html = createHtmlConverter(schema);

/**
 * Input in `format` → a document that fits the schema and the server's nesting bound. Input that
 * does not fit becomes the nearest thing the schema has (unknown HTML tags unwrapped, unknown JSON
 * nodes unwrapped, unsafe links dropped: their text stays). Throws ContentError for input that
 * cannot become a document (malformed JSON, nesting beyond the bounds).
 */
export function parseContent(format: ContentFormat, input: string): PMNode {
  let doc: PMNode;
  switch (format) {
    case 'markdown':
      doc = markdown.parse(input);
      break;
    case 'html':
      doc = html.parse(input);
      break;
    case 'json':
      doc = parseProseMirrorJson(schema, input, html);
      break;
    case 'text':
      doc = parsePlainText(schema, input);
      break;
  }
  const problem = depthProblem(doc);
  if (problem) throw new ContentError(problem);
  doc = fitDocument(doc);
  // Tables come out rectangular (missing cells added, as the editor's tableEditing plugin does),
  // whatever rows the input had.
  doc = fixTables(EditorState.create({ doc }))?.doc ?? doc;
  if (doc.childCount === 0) doc = schema.topNodeType.createAndFill()!;
  try {
    doc.check();
  } catch (error) {
    // The parsers build only what the schema accepts; this would be a bug in one of them.
    throw new ContentError(`the content does not fit the document schema: ${(error as Error).message}`);
  }
  return doc;
}

/** A document (depth within MAX_NESTING_DEPTH, as fragmentToDocument makes them) → text in `format`. */
export function serializeContent(format: ContentFormat, doc: PMNode): string {
  switch (format) {
    case 'markdown':
      return markdown.serialize(doc);
    case 'html':
      return html.serialize(doc);
    case 'json':
      return serializeProseMirrorJson(doc);
    case 'text':
      return serializePlainText(doc);
  }
}

export { ContentError, firstHeadingText } from './fit.js';
export type { ContentFormat } from './formats.js';
