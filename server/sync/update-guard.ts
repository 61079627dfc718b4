import * as Y from 'yjs';
import type { Connection } from './connection.js';
import { ProtocolError } from './protocol.js';

/**
 * Checks a client's document update before it is applied, beyond what Y.decodeUpdate checks, and
 * keeps stale copies out of what Yjs holds back ("pending"). Yjs trusts updates; a writer could
 * otherwise break the document for everyone:
 *
 * - An item may refer (origin, right origin, parent) to an earlier item of its own client only.
 *   Yjs does not check this; such an item makes a later update throw half-way through being applied.
 * - A connection may not write new content as a client id that another connection of this room
 *   writes with or announced in awareness: a forged item at the clock an honest client is about to
 *   use makes the server drop that client's real edit as a duplicate, and the documents diverge.
 *   The id passes to another connection once its writer is gone, or to a connection of the same
 *   subject (the same person reconnecting before the old connection timed out). A server running
 *   open has one subject, "anonymous", so there ids move freely.
 * - Nor may it delete content of such a client id that the server does not have yet (Yjs would
 *   keep the deletion and apply it the moment the owner writes, erasing the owner's next edits).
 * - No stale copies stay pending. Yjs keeps items whose dependencies are missing (even copies of
 *   items it has by now) and merges them into every full-state encoding, which is what newcomers
 *   load and what compaction stores; there a forged copy can shadow the real item, and newcomers
 *   cannot load the document (the fuzz test found this). After every transaction, pending items
 *   the document already covers are discarded; genuinely new ones wait for their dependencies as
 *   usual (an update can arrive before one it builds on, e.g. from another instance).
 */
/** Origin of a client update applied while something was pending (see UpdateGuard.originFor). */
export const MAY_COMPLETE_PENDING = Symbol('client update that may complete pending content');

export class UpdateGuard {
  private readonly writers = new Map<number, Connection>();
  private readonly written = new Map<Connection, Set<number>>();

  constructor(
    private readonly doc: Y.Doc,
    /** The local connection that announced this client id in awareness, if any. */
    private readonly announcedBy: (clientId: number) => Connection | undefined = () => undefined,
  ) {
    doc.on('afterTransaction', this.prunePending);
  }

  /**
   * Throws ProtocolError if `update` may not be applied for `connection`; otherwise returns the
   * client ids it writes new content for, to be passed to claim() once it is applied.
   */
  check(connection: Connection, update: Uint8Array): number[] {
    let decoded: ReturnType<typeof Y.decodeUpdate>;
    try {
      decoded = Y.decodeUpdate(update);
    } catch {
      throw new ProtocolError('malformed update');
    }
    const clients = new Set<number>();
    for (const struct of decoded.structs) {
      if (struct instanceof Y.Skip) continue;
      const { client, clock } = struct.id;
      if (struct instanceof Y.Item) {
        const parent = struct.parent instanceof Y.ID ? struct.parent : null;
        for (const ref of [struct.origin, struct.rightOrigin, parent]) {
          if (ref && ref.client === client && ref.clock >= clock) throw new ProtocolError('malformed update: an item refers to a later item of its own client');
        }
      }
      if (clock + struct.length > Y.getState(this.doc.store, client)) clients.add(client);
    }
    for (const [client, deletions] of decoded.ds.clients) {
      const state = Y.getState(this.doc.store, client);
      if (deletions.some((deletion) => deletion.clock + deletion.len > state) && this.ownedByAnother(connection, client)) {
        throw new ProtocolError(`update deletes content of client ${client} that the server does not have yet`);
      }
    }
    for (const client of clients) {
      if (this.ownedByAnother(connection, client)) throw new ProtocolError(`update writes as client ${client}, which another connection writes with`);
    }
    return [...clients];
  }

  /**
   * The origin to apply a client's update with (`writes` from check()). An update that writes
   * for a client id something pending waits for may complete it, and the document then emits the
   * pending content (other clients' items or deletions) in the same transaction: a distinct
   * origin makes the room relay that to the sender too, instead of skipping the sender as it does
   * for its own update.
   */
  originFor(connection: Connection, writes: readonly number[]): unknown {
    const { pendingStructs, pendingDs } = this.doc.store;
    if (pendingStructs && writes.some((client) => pendingStructs.missing.has(client))) return MAY_COMPLETE_PENDING;
    if (pendingDs) {
      const waiting = Y.decodeUpdateV2(pendingDs).ds.clients;
      if (writes.some((client) => waiting.has(client))) return MAY_COMPLETE_PENDING;
    }
    return connection;
  }

  private ownedByAnother(connection: Connection, client: number): boolean {
    const owner = this.writers.get(client) ?? this.announcedBy(client);
    return owner !== undefined && owner !== connection && !this.mayTakeOver(connection, owner);
  }

  /** Records that `connection` writes with these client ids. */
  claim(connection: Connection, clients: readonly number[]): void {
    for (const client of clients) {
      const previous = this.writers.get(client);
      if (previous === connection) continue;
      if (previous) this.written.get(previous)?.delete(client);
      this.writers.set(client, connection);
      let own = this.written.get(connection);
      if (!own) this.written.set(connection, (own = new Set()));
      own.add(client);
    }
  }

  /** Discards pending items the document already covers (see above). */
  readonly prunePending = (): void => {
    const { store } = this.doc;
    const pending = store.pendingStructs;
    if (!pending) return;
    const rest = Y.diffUpdateV2(pending.update, Y.encodeStateVector(this.doc));
    if (Y.decodeUpdateV2(rest).structs.length === 0) store.pendingStructs = null;
    else pending.update = rest;
  };

  /** Forgets a connection that left. */
  release(connection: Connection): void {
    const own = this.written.get(connection);
    if (!own) return;
    for (const client of own) if (this.writers.get(client) === connection) this.writers.delete(client);
    this.written.delete(connection);
  }

  private mayTakeOver(connection: Connection, owner: Connection): boolean {
    return owner.closed || connection.access.subject === owner.access.subject;
  }
}
