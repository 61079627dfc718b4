import type { Node as PMNode, Schema } from 'prosemirror-model';
import { MarkdownSerializer, defaultMarkdownSerializer } from 'prosemirror-markdown';
import { MarkdownDepthError, createMarkdownParser } from '../../shared/markdown.js';
import { ContentError } from './fit.js';

export interface MarkdownConverter {
  parse(markdown: string): PMNode;
  serialize(doc: PMNode): string;
}

/**
 * Markdown ⇄ documents. The parser's configuration (CommonMark, linkify, what becomes which node)
 * is shared with the editor's Markdown paste (shared/markdown.ts). Images are written
 * `![alt](src)`; their width has no Markdown syntax and is not written.
 */
export function createMarkdownConverter(schema: Schema): MarkdownConverter {
  const parser = createMarkdownParser(schema);
  const serializer = new MarkdownSerializer(defaultMarkdownSerializer.nodes, defaultMarkdownSerializer.marks);
  return {
    parse: (markdown) => {
      try {
        return parser.parse(markdown);
      } catch (error) {
        if (error instanceof MarkdownDepthError) throw new ContentError(error.message);
        throw error;
      }
    },
    // Tight lists (no blank line between items): the schema does not record looseness, and
    // tight is how people write most lists.
    serialize: (doc) => serializer.serialize(doc, { tightLists: true }),
  };
}
