import type { Node as PMNode, Schema } from 'prosemirror-model';

/** Plain text → document: one paragraph per line (an empty line is an empty paragraph). */
export function parsePlainText(schema: Schema, text: string): PMNode {
  const paragraph = schema.nodes.paragraph!;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  return schema.topNodeType.create(
    null,
    lines.map((line) => paragraph.create(null, line === '' ? null : schema.text(line))),
  );
}

/**
 * Document → plain text: one line per text block (so text → document → text gives the text
 * back), hard breaks as line breaks, horizontal rules and other leaves as nothing.
 */
export function serializePlainText(doc: PMNode): string {
  return doc.textBetween(0, doc.content.size, '\n', (leaf) => (leaf.type.name === 'hard_break' ? '\n' : ''));
}
