import * as Y from 'yjs';
import { META_MAP, PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';

const MAX_TITLE_CHARS = 120;

function textOf(node: Y.XmlElement | Y.XmlText | Y.XmlHook): string {
  if (node instanceof Y.XmlText) {
    return (node.toDelta() as Array<{ insert: unknown }>).map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');
  }
  if (node instanceof Y.XmlElement) return node.toArray().map(textOf).join('');
  return '';
}

/**
 * A document's title: the `title` in its meta map when someone set one, otherwise the text of its
 * first non-empty block. Reads only what exists; never defines root types on the document.
 */
export function deriveTitle(doc: Y.Doc): string {
  const meta = doc.share.get(META_MAP);
  if (meta) {
    const title = doc.getMap(META_MAP).get('title');
    if (typeof title === 'string' && title.trim() !== '') return title.trim().slice(0, MAX_TITLE_CHARS);
  }
  if (!doc.share.has(PROSEMIRROR_FRAGMENT)) return '';
  let fragment: Y.XmlFragment;
  try {
    fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
  } catch {
    return ''; // the name holds some other type: not an editor document
  }
  for (const block of fragment.toArray()) {
    const text = textOf(block).replace(/\s+/g, ' ').trim();
    if (text !== '') return text.slice(0, MAX_TITLE_CHARS);
  }
  return '';
}
