import * as Y from 'yjs';

/**
 * Bytes of content Yjs may hold back per room ("pending": items or deletions whose dependencies
 * have not arrived). Honest clients rarely cause any (an update overtaking the one it builds on);
 * a writer that withholds its first item could otherwise park megabytes there, which Yjs merges
 * into every full-state encoding.
 */
export const MAX_PENDING_BYTES = 512 * 1024;
/** Pending content older than this is dropped: whatever it waits for is not coming. */
export const MAX_PENDING_AGE_MS = 60_000;

/**
 * Keeps a room's pending content bounded and out of what others load. What Yjs holds back is
 * never in the update log (the document's update event leaves it out), so dropping it loses
 * nothing anyone was told about; its sender still has it and sends it again when it resyncs.
 *
 * Pending items that the document already covers (stale copies) are discarded, but only after a
 * transaction that advanced the state of a client that has pending items: the cost of an honest
 * edit does not depend on what is pending.
 */
export class PendingContent {
  private since = 0;
  /** The pending update the client set below was read from. */
  private readUpdate: Uint8Array | null = null;
  private clients = new Set<number>();
  private readDeletions: Uint8Array | null = null;
  private deletionClients = new Set<number>();

  constructor(
    private readonly doc: Y.Doc,
    private readonly maxBytes = MAX_PENDING_BYTES,
    private readonly maxAgeMs = MAX_PENDING_AGE_MS,
  ) {
    doc.on('afterTransaction', this.afterTransaction);
  }

  get bytes(): number {
    const { pendingStructs, pendingDs } = this.doc.store;
    return (pendingStructs?.update.byteLength ?? 0) + (pendingDs?.byteLength ?? 0);
  }

  /** The structs Yjs holds back (to check them with the update that may complete them). */
  structs(): Array<Y.Item | Y.GC | Y.Skip> {
    const pending = this.doc.store.pendingStructs;
    return pending ? Y.decodeUpdateV2(pending.update).structs : [];
  }

  /** Whether content is pending on new content of any of these clients. */
  waitsFor(clients: readonly number[]): boolean {
    const { pendingStructs, pendingDs } = this.doc.store;
    if (pendingStructs && clients.some((client) => pendingStructs.missing.has(client))) return true;
    if (!pendingDs) return false;
    if (pendingDs !== this.readDeletions) {
      this.readDeletions = pendingDs;
      this.deletionClients = new Set(Y.decodeUpdateV2(pendingDs).ds.clients.keys());
    }
    return clients.some((client) => this.deletionClients.has(client));
  }

  /** If the pending content is over its bound, drops it and says why; otherwise null. */
  overBounds(): string | null {
    if (this.bytes <= this.maxBytes) return null;
    this.drop();
    return `too much content waiting for missing dependencies (over ${this.maxBytes} bytes)`;
  }

  drop(): void {
    this.doc.store.pendingStructs = null;
    this.doc.store.pendingDs = null;
    this.forget();
  }

  /** Runs `encode` as if nothing were pending: what newcomers load and snapshots store. */
  hidden<T>(encode: () => T): T {
    const { store } = this.doc;
    const { pendingStructs, pendingDs } = store;
    if (!pendingStructs && !pendingDs) return encode();
    store.pendingStructs = null;
    store.pendingDs = null;
    try {
      return encode();
    } finally {
      store.pendingStructs = pendingStructs;
      store.pendingDs = pendingDs;
    }
  }

  destroy(): void {
    this.doc.off('afterTransaction', this.afterTransaction);
  }

  private forget(): void {
    this.since = 0;
    this.readUpdate = null;
    this.clients.clear();
    this.readDeletions = null;
    this.deletionClients.clear();
  }

  private readonly afterTransaction = (transaction: Y.Transaction): void => {
    const { store } = this.doc;
    if (!store.pendingStructs && !store.pendingDs) {
      if (this.since !== 0) this.forget();
      return;
    }
    const now = performance.now();
    if (this.since === 0) this.since = now;
    else if (now - this.since > this.maxAgeMs) {
      this.drop();
      return;
    }
    const pending = store.pendingStructs;
    if (!pending) return;
    if (pending.update !== this.readUpdate || this.advancedPendingClient(transaction)) this.prune(pending);
  };

  private advancedPendingClient(transaction: Y.Transaction): boolean {
    for (const [client, clock] of transaction.afterState) {
      if (this.clients.has(client) && transaction.beforeState.get(client) !== clock) return true;
    }
    return false;
  }

  /** Discards pending items the document already has; notes which clients the rest belong to. */
  private prune(pending: { missing: Map<number, number>; update: Uint8Array }): void {
    const rest = Y.diffUpdateV2(pending.update, Y.encodeStateVector(this.doc));
    const structs = Y.decodeUpdateV2(rest).structs;
    if (structs.length === 0) {
      this.doc.store.pendingStructs = null;
      this.readUpdate = null;
      this.clients.clear();
      return;
    }
    pending.update = rest;
    this.readUpdate = rest;
    this.clients = new Set(structs.map((struct) => struct.id.client));
  }
}
