import type { EventBus } from '../events.js';
import type { DocumentStore } from '../storage/types.js';
import type { RoomRegistry } from './room-registry.js';

export interface DocumentDeletionOptions {
  store: Pick<DocumentStore, 'delete' | 'info'>;
  registry: Pick<RoomRegistry, 'loadedOrLoading'>;
  /** Tells the other instances (Redis), after storage committed the deletion. */
  publish?: (name: string) => void;
  /** Told `document.deleted` once it is done. */
  events?: EventBus;
}

export type DeleteDocument = (name: string, by?: { subject: string }) => Promise<boolean>;

/**
 * Deletes a document everywhere: storage first (log, snapshot, title, search text; the name stays
 * reserved, so nothing can append to it), then this instance's room (connections closed with
 * 4404, nothing more committed, unloaded), then the other instances' (a cluster message; without
 * it they learn from storage). Resolves false if there was no such document.
 */
export function createDocumentDeletion(options: DocumentDeletionOptions): DeleteDocument {
  return async (name, by) => {
    const info = await options.store.info(name);
    if (!(await options.store.delete(name))) return false;
    // A room whose load read the document before it was deleted is built with it: closed too.
    (await options.registry.loadedOrLoading(name))?.markDeleted();
    options.publish?.(name);
    options.events?.emit({ type: 'document.deleted', document: name, title: info?.title ?? null, author: by ? { subject: by.subject, name: null } : null });
    return true;
  };
}
