import * as Y from 'yjs';
import { META_MAP, PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { cleanTitle, MAX_TITLE_CHARS } from '../../shared/title.js';

/**
 * Nodes looked at to find the first line: the title is in the first few blocks of any real
 * document, and a bound keeps a hostile one (10,000 nested elements, a million empty paragraphs)
 * from costing more than a few milliseconds.
 */
const MAX_NODES_VISITED = 10_000;

/** The text of one block, walked iteratively (depth-first, in order), up to `limit` characters. */
function textOf(block: Y.XmlElement | Y.XmlText | Y.XmlHook, budget: { nodes: number }, limit: number): string {
  let text = '';
  const stack: Array<Y.XmlElement | Y.XmlText | Y.XmlHook> = [block];
  while (stack.length > 0 && budget.nodes-- > 0 && text.length < limit) {
    const node = stack.pop()!;
    if (node instanceof Y.XmlText) {
      for (const op of node.toDelta() as Array<{ insert: unknown }>) if (typeof op.insert === 'string') text += op.insert;
    } else if (node instanceof Y.XmlElement) {
      const children = node.toArray();
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return text;
}

/**
 * A document's title: the `title` in its meta map when someone set one, otherwise the text of its
 * first non-empty block. Reads only what exists; never defines root types on the document.
 */
export function deriveTitle(doc: Y.Doc): string {
  if (doc.share.has(META_MAP)) {
    let title: unknown;
    try {
      title = doc.getMap(META_MAP).get('title');
    } catch {
      title = undefined; // the name holds some other type
    }
    if (typeof title === 'string' && cleanTitle(title) !== '') return cleanTitle(title);
  }
  if (!doc.share.has(PROSEMIRROR_FRAGMENT)) return '';
  let fragment: Y.XmlFragment;
  try {
    fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
  } catch {
    return ''; // the name holds some other type: not an editor document
  }
  const budget = { nodes: MAX_NODES_VISITED };
  for (let block = fragment._first; block && budget.nodes > 0; block = block.right) {
    if (block.deleted || !(block.content instanceof Y.ContentType)) continue;
    const text = cleanTitle(textOf(block.content.type as Y.XmlElement, budget, MAX_TITLE_CHARS * 4));
    if (text !== '') return text;
  }
  return '';
}
