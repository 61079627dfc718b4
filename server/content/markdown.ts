import type { Node as PMNode, Schema } from 'prosemirror-model';
import { MarkdownSerializer, defaultMarkdownSerializer } from 'prosemirror-markdown';
import { MarkdownDepthError, createMarkdownParser } from '../../shared/markdown.js';
import { cellLine, richMarkSerializers, richNodeSerializers } from '../../shared/markdown-rich.js';
import { ContentError } from './fit.js';

export interface MarkdownConverter {
  parse(markdown: string): PMNode;
  serialize(doc: PMNode): string;
}

/**
 * Markdown ⇄ documents. The parser's configuration (CommonMark, linkify, GFM tables, task lists
 * and strikethrough, what becomes which node) is shared with the editor's Markdown paste
 * (shared/markdown.ts). Images are written `![alt](src)`; their width has no Markdown syntax and
 * is not written.
 */
export function createMarkdownConverter(schema: Schema): MarkdownConverter {
  const parser = createMarkdownParser(schema);
  const baseNodes = defaultMarkdownSerializer.nodes;
  const marks = { ...defaultMarkdownSerializer.marks, ...richMarkSerializers };
  // `<` before a letter or `/` is escaped (`\<`, plain CommonMark): text such as "<u>" or
  // "<https://x>" must not come back as a tag or an autolink. "a < b" stays as it is.
  const options = { escapeExtraCharacters: /<(?=[A-Za-z/])/g };
  // Table cells are one line each: their line breaks are written as <br>.
  const cellSerializer = new MarkdownSerializer({ ...baseNodes, hard_break: (state) => state.write('<br>') }, marks, options);
  const cellMarkdown = (cell: PMNode) => cellLine(cellSerializer.serialize(cell, { tightLists: true }));
  const nodes = { ...baseNodes, ...richNodeSerializers(baseNodes, cellMarkdown) };
  const serializer = new MarkdownSerializer(nodes, marks, options);
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
