import type { Node as PMNode } from 'prosemirror-model';
import { parseFileUrl } from '../../shared/images.js';

/**
 * The ids of `document`'s own files that its content shows: images whose src is one of its file
 * URLs. Images of other documents' files or of other sites do not count. The document comes from
 * fragmentToDocument, whose depth is bounded, so walking it recursively is safe.
 */
export function referencedFileIds(doc: PMNode, document: string): Set<string> {
  const ids = new Set<string>();
  doc.descendants((node) => {
    if (node.type.name !== 'image') return true;
    const file = parseFileUrl(String(node.attrs.src));
    if (file && file.document === document) ids.add(file.id);
    return false;
  });
  return ids;
}
