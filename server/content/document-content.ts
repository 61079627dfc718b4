import type { Node as PMNode } from 'prosemirror-model';
import { schema } from '../../shared/schema.js';
import type { DocumentStore } from '../storage/types.js';
import type { ConnectionAccess } from '../sync/connection.js';
import type { Room } from '../sync/room.js';
import type { RoomRegistry } from '../sync/room-registry.js';
import { documentEtag, ifMatchHolds } from './etag.js';
import { editorFragment, fragmentToDocument } from './fragment.js';
import { loadDiff } from './lazy.js';
import { missingDependency } from './update-dependencies.js';

/** An update refused because it needs content the server does not have (the API answers 409). */
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
}

export type WriteMode = 'replace' | 'append';

export type WriteOutcome = { status: 'written' | 'unchanged'; etag: string } | { status: 'precondition-failed'; etag: string };

export interface DocumentContent {
  /** The document as a ProseMirror document and its ETag (null: no such document), once everything in it is committed. */
  read(name: string): Promise<{ doc: PMNode; etag: string } | null>;
  /**
   * Replaces the document's content with `doc` (or appends it) as a minimal edit of the live
   * document, through its room like a client's edit; with `ifMatch`, only if the document is
   * still in that state (checked in the same tick as the edit is made and applied).
   */
  write(name: string, doc: PMNode, options: { mode: WriteMode; ifMatch?: string | null; access: ConnectionAccess }): Promise<WriteOutcome>;
  /** The Yjs update of everything beyond `stateVector` (all of it without), null if no such document. */
  update(name: string, stateVector?: Uint8Array): Promise<{ update: Uint8Array; etag: string } | null>;
  stateVector(name: string): Promise<{ stateVector: Uint8Array; etag: string } | null>;
  /** Applies a client's Yjs update through the room (ProtocolError if refused, MissingDependencyError if incomplete); null if no such document. */
  applyUpdate(name: string, update: Uint8Array, access: ConnectionAccess): Promise<{ etag: string } | null>;
}

/**
 * The content API's access to documents: always through the document's room (loaded through the
 * registry if it is not), so that what it reads is what clients see, and what it writes is
 * checked, committed before it is relayed, and relayed like any client's edit. Each call first
 * catches the room up with storage (one indexed read), so a write committed on another instance
 * is seen at once.
 */
export function createDocumentContent(store: Pick<DocumentStore, 'info'>, registry: Pick<RoomRegistry, 'withRoom'>): DocumentContent {
  const withExisting = async <T>(name: string, fn: (room: Room) => Promise<T>): Promise<T | null> => {
    if (!(await store.info(name))) return null;
    return registry.withRoom(name, async (room) => {
      await room.catchUp();
      return fn(room);
    });
  };

  return {
    read: (name) =>
      withExisting(name, async (room) => {
        const doc = fragmentToDocument(editorFragment(room.doc), schema);
        const etag = documentEtag(room.doc);
        await room.committed();
        return { doc, etag };
      }),

    async write(name, doc, { mode, ifMatch, access }) {
      // Loaded before the room is entered: from the precondition to the apply below nothing may wait.
      const { diffUpdate } = await loadDiff();
      const outcome = await withExisting(name, async (room): Promise<WriteOutcome> => {
        // From here to applyExternal's check and apply, nothing else runs: the edit is computed
        // from, and applied to, the same state the precondition saw.
        const before = documentEtag(room.doc);
        if (ifMatch && !ifMatchHolds(ifMatch, before)) return { status: 'precondition-failed', etag: before };
        const next = mode === 'append' ? appendTo(fragmentToDocument(editorFragment(room.doc), schema), doc) : doc;
        const update = diffUpdate(room.encodeState(), next);
        if (!update) return { status: 'unchanged', etag: before };
        await room.applyExternal(update, access);
        await Promise.all([room.saveTitle(), room.saveText()]);
        return { status: 'written', etag: documentEtag(room.doc) };
      });
      // The route creates the document first; it can only be gone if deleted meanwhile.
      return outcome ?? { status: 'precondition-failed', etag: '' };
    },

    update: (name, stateVector) =>
      withExisting(name, async (room) => {
        const update = room.encodeState(stateVector);
        const etag = documentEtag(room.doc);
        await room.committed();
        return { update, etag };
      }),

    stateVector: (name) =>
      withExisting(name, async (room) => {
        // Only what is committed: a client that diffs against it never skips uncommitted content.
        await room.committed();
        return { stateVector: encodeStateVector(room), etag: documentEtag(room.doc) };
      }),

    applyUpdate: (name, update, access) =>
      withExisting(name, async (room) => {
        const missing = missingDependency(room.doc, update);
        if (missing) throw new MissingDependencyError(missing);
        await room.applyExternal(update, access);
        await Promise.all([room.saveTitle(), room.saveText()]);
        return { etag: documentEtag(room.doc) };
      }),
  };
}

function encodeStateVector(room: Room): Uint8Array {
  return room.stateVector();
}

/** `current` with the blocks of `addition` after its own. */
function appendTo(current: PMNode, addition: PMNode): PMNode {
  return current.type.create(current.attrs, current.content.append(addition.content));
}
