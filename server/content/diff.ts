import type { Node as PMNode } from 'prosemirror-model';
import { updateYFragment } from 'y-prosemirror';
import * as Y from 'yjs';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';

/**
 * The Yjs update that turns a document (given as its full state, `state`) into `next`: a minimal
 * edit, computed by y-prosemirror's updateYFragment (the diff the editor itself makes for every
 * transaction): blocks that did not change keep their identity, so whatever people type into them
 * concurrently survives, and changed text is edited, not replaced. Null when nothing changes.
 *
 * The diff is made on a copy of the document, never on a room's live Y.Doc: the result is an
 * update like any client's, to be checked by the room before it is applied. updateYFragment
 * recurses once per level of `next`, which must be within MAX_NESTING_DEPTH (parseContent and
 * fragmentToDocument see to it).
 */
export function diffUpdate(state: Uint8Array, next: PMNode): Uint8Array | null {
  const scratch = new Y.Doc({ gc: false });
  try {
    Y.applyUpdate(scratch, state);
    // A client id the document has never seen, so that the update writes as nobody else.
    while (Y.getState(scratch.store, scratch.clientID) > 0) scratch.clientID = Math.floor(Math.random() * 0xffffffff);
    const updates: Uint8Array[] = [];
    scratch.on('update', (update: Uint8Array) => updates.push(update));
    const fragment = scratch.getXmlFragment(PROSEMIRROR_FRAGMENT);
    scratch.transact(() => updateYFragment(scratch, fragment, next, { mapping: new Map(), isOMark: new Map() }));
    if (updates.length === 0) return null;
    return updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
  } finally {
    scratch.destroy();
  }
}
