import { Mark, type Node as PMNode, type NodeType, type Schema } from 'prosemirror-model';
import * as Y from 'yjs';
import { MAX_NESTING_DEPTH, attributeProblem, contentRules, formatProblem, markNameOf } from '../../shared/content-rules.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';

/**
 * The editor's Yjs fragment of a document, read without changing anything: unlike y-prosemirror's
 * own reader (createNodeFromYElement), which deletes from the document whatever it cannot turn
 * into a node, and recurses. Null if the document has no editor content of that type.
 */
export function editorFragment(doc: Y.Doc): Y.XmlFragment | null {
  if (!doc.share.has(PROSEMIRROR_FRAGMENT)) return null;
  try {
    return doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
  } catch {
    return null; // the name holds another type: not an editor document
  }
}

interface Frame {
  /** Null for something the schema has no node for: its content goes to the parent (unwrapped). */
  type: NodeType | null;
  attrs: Record<string, unknown> | null;
  children: PMNode[];
  items: Array<Y.XmlElement | Y.XmlText | Y.XmlHook>;
  index: number;
  depth: number;
}

/**
 * Document fragment → ProseMirror document, iteratively (an explicit stack). Nodes are created
 * without checking their content's order (as the editor does: concurrent edits merge into orders
 * the content expression does not accept, and ProseMirror repairs them by filling). What the
 * schema cannot hold (past the server's checks, e.g. stored before them) is left out: unknown
 * elements are unwrapped, unknown attributes and marks dropped, and anything nested deeper than
 * MAX_NESTING_DEPTH omitted, so everything downstream (serializers recurse) stays bounded.
 */
export function fragmentToDocument(fragment: Y.XmlFragment | null, schema: Schema): PMNode {
  const rules = contentRules(schema);
  const root: Frame = { type: schema.topNodeType, attrs: null, children: [], items: fragment ? fragment.toArray() : [], index: 0, depth: 0 };
  const stack: Frame[] = [root];
  for (;;) {
    const frame = stack[stack.length - 1]!;
    if (frame.index < frame.items.length) {
      const item = frame.items[frame.index++]!;
      // Unwrapped elements lend their parent's type for the rules of what they hold.
      const parentType = frame.type ?? nearestType(stack);
      if (item instanceof Y.XmlText) {
        if (frame.depth + 1 <= MAX_NESTING_DEPTH) frame.children.push(...textNodes(schema, rules, parentType, item));
      } else if (item instanceof Y.XmlElement && frame.depth + 1 <= MAX_NESTING_DEPTH) {
        const type = schema.nodes[item.nodeName];
        const known = type && !type.isText && type !== schema.topNodeType ? type : null;
        stack.push({ type: known, attrs: known ? nodeAttrs(rules, known, item) : null, children: [], items: item.toArray(), index: 0, depth: frame.depth + 1 });
      }
      continue;
    }
    stack.pop();
    if (stack.length === 0) return schema.topNodeType.create(null, frame.children);
    const parent = stack[stack.length - 1]!;
    if (!frame.type) {
      parent.children.push(...frame.children);
      continue;
    }
    try {
      parent.children.push(frame.type.create(frame.attrs, frame.children));
    } catch {
      // attributes the type cannot take: left out like an unknown node
    }
  }
}

function nearestType(stack: Frame[]): NodeType {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.type) return stack[i]!.type!;
  return stack[0]!.type!;
}

function nodeAttrs(rules: ReturnType<typeof contentRules>, type: NodeType, element: Y.XmlElement): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(element.getAttributes() as Record<string, unknown>)) {
    if (attributeProblem(rules, type.name, name, value) === null) attrs[name] = value;
  }
  return attrs;
}

function textNodes(schema: Schema, rules: ReturnType<typeof contentRules>, parent: NodeType, text: Y.XmlText): PMNode[] {
  if (!parent.inlineContent) return [];
  const nodes: PMNode[] = [];
  for (const run of text.toDelta() as Array<{ insert: unknown; attributes?: Record<string, unknown> }>) {
    if (typeof run.insert !== 'string' || run.insert === '') continue;
    let marks = Mark.none;
    for (const [key, value] of Object.entries(run.attributes ?? {})) {
      if (value === null || formatProblem(rules, parent.name, key, value) !== null) continue;
      try {
        marks = schema.marks[markNameOf(key)]!.create(value as Record<string, unknown>).addToSet(marks);
      } catch {
        // attributes the mark cannot take: the text stays, unmarked
      }
    }
    nodes.push(schema.text(run.insert, marks));
  }
  return nodes;
}

/** Characters of text indexed for search per document (about 60 pages); the rest is not searchable. */
export const MAX_INDEXED_TEXT_CHARS = 200_000;

/**
 * The plain text of a document for the search index: its text, a line per block, at most
 * `maxChars`. Walks the Yjs types directly and iteratively (no ProseMirror nodes), reading only.
 */
export function fragmentText(doc: Y.Doc, maxChars = MAX_INDEXED_TEXT_CHARS): string {
  const fragment = editorFragment(doc);
  if (!fragment) return '';
  let text = '';
  const stack: Array<Y.XmlElement | Y.XmlText | Y.XmlHook | 'end'> = fragment.toArray().reverse();
  while (stack.length > 0 && text.length < maxChars) {
    const item = stack.pop()!;
    if (item === 'end') {
      if (text !== '' && !text.endsWith('\n')) text += '\n';
    } else if (item instanceof Y.XmlText) {
      for (const run of item.toDelta() as Array<{ insert: unknown }>) if (typeof run.insert === 'string') text += run.insert;
    } else if (item instanceof Y.XmlElement) {
      stack.push('end');
      const children = item.toArray();
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return text.slice(0, maxChars).trimEnd();
}
