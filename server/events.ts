/**
 * Internal events: what happened to documents, told to whoever subscribes (webhooks today; version
 * history, search indexing and metrics later). The room and the HTTP routes only emit; none of the
 * subscribers is called from them directly, and a subscriber that throws never reaches the emitter.
 *
 * Listeners run synchronously inside `emit`, so they must be cheap (a map update, a timer): the
 * room emits `document.committed` once per commit, on the edit path.
 */

/** Who made a change or opened a document, as the server knows them. */
export interface Author {
  /** The token subject; `anonymous` on a server running open. */
  subject: string;
  /** The display name the client announced in its awareness state (`user.name`), if any. */
  name: string | null;
}

export type ServerEvent =
  /** A commit of this instance: `seq` is its sequence number; `authors` wrote the updates it holds. */
  | { type: 'document.committed'; document: string; seq: number; authors: readonly Author[] }
  /** A document was created empty (POST /api/documents). Creation by a first edit is a commit with seq 1. */
  | { type: 'document.created'; document: string; author?: Author | null }
  /**
   * A document was deleted. The route that deletes emits this right after the deletion committed:
   * `events.emit({ type: 'document.deleted', document, title, seq, author })` (title and seq as
   * they were, if known).
   */
  | { type: 'document.deleted'; document: string; title?: string | null; seq?: number | null; author?: Author | null }
  /** A connection showed presence in a document (its first awareness state) / left it. */
  | { type: 'user.joined' | 'user.left'; document: string; seq: number; user: Author };

export type ServerEventType = ServerEvent['type'];
export type EventListener = (event: ServerEvent) => void;

export interface EventBus {
  emit(event: ServerEvent): void;
  /** Returns a function that unsubscribes. */
  subscribe(listener: EventListener): () => void;
  /** Whether anyone listens (emitters may skip building an event nobody receives). */
  readonly active: boolean;
}

export function createEventBus(onListenerError: (error: unknown, event: ServerEvent) => void): EventBus {
  const listeners = new Set<EventListener>();
  return {
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error, event);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get active() {
      return listeners.size > 0;
    },
  };
}
