import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Node as PMNode } from 'prosemirror-model';
import * as Y from 'yjs';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';
import { editorFragment, fragmentToDocument } from '../content/fragment.js';

/** A fixed client id for the copies: the same content always encodes to the same bytes. */
const COPY_CLIENT_ID = 1;
/** Inflating is bounded: a stored state never holds more than this (the content limits keep documents far smaller). */
const MAX_STATE_BYTES = 256 * 1024 * 1024;

/**
 * The stored state of a version: the document's content copied into a fresh Y.Doc (no deleted
 * items, no other clients' history), encoded with Yjs' V2 encoding, then deflated. Measured on the
 * automerge-paper document (105,000 characters after 260,000 edits; `npm run bench:history`): the
 * room's own state with its tombstones would be ~25× larger, and would grow with the edits rather
 * than with the content. Equal contents give equal bytes (the store compares them to skip
 * automatic versions that would repeat the previous one).
 */
export function encodeVersionState(doc: Y.Doc): Uint8Array {
  const copy = new Y.Doc({ gc: true });
  copy.clientID = COPY_CLIENT_ID;
  try {
    const source = editorFragment(doc);
    // Nesting is bounded by the update guard (MAX_NESTING_DEPTH), so clone()'s recursion is too.
    if (source) copy.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, source.toArray().flatMap((node) => (node instanceof Y.XmlHook ? [] : [node.clone()])));
    return new Uint8Array(deflateRawSync(Y.encodeStateAsUpdateV2(copy)));
  } finally {
    copy.destroy();
  }
}

/** A stored state as a ProseMirror document of the editor's schema (unknown nodes unwrapped, see fragmentToDocument). */
export function decodeVersionState(state: Uint8Array): PMNode {
  const doc = new Y.Doc({ gc: true });
  try {
    Y.applyUpdateV2(doc, inflateRawSync(state, { maxOutputLength: MAX_STATE_BYTES }));
    return fragmentToDocument(editorFragment(doc), schema);
  } finally {
    doc.destroy();
  }
}
