import * as Y from 'yjs';
import { contentRules } from '../../shared/content-rules.js';
import { CloseCode, PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { writeAccess, writeSavedState } from '../../shared/saved-state.js';
import { schema } from '../../shared/schema.js';
import type { Author, EventBus } from '../events.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { fragmentText } from '../content/fragment.js';
import { DocumentDeletedError, type DocumentStore, type StoredDocument } from '../storage/types.js';
import { authorOf, authorsOf } from './authors.js';
import { AwarenessRelay } from './awareness-relay.js';
import { CommittedOrder } from './committed-order.js';
import { Connection, type ConnectionAccess } from './connection.js';
import { COMMITTED_ORIGIN, SERVER_ORIGIN, clientOrigin, completingPendingOrigin, isTransactionOrigin, type TransactionOrigin } from './origins.js';
import { PendingContent } from './pending-content.js';
import { ProtocolError, decodeClientMessage, encodeFrame, writeSyncStep1, writeSyncStep2, writeUpdate } from './protocol.js';
import { RoomUpkeep, type LogSize } from './room-upkeep.js';
import { deriveTitle } from './title.js';
import { UpdatePipeline } from './update-pipeline.js';
import { UpdateGuard } from './update-guard.js';
import type { SyncTransport } from './transport.js';

export interface RoomOptions {
  store: DocumentStore;
  metrics: SyncMetrics;
  logger: Logger;
  awarenessIntervalMs: number;
  maxAwarenessStateBytes: number;
  compactAfterRows: number;
  /** Told of every update this instance committed, e.g. to publish it to other instances. */
  onCommitted?: (room: Room, update: Uint8Array, seq: number) => void;
  /** Told of awareness changes made by this instance's connections (coalesced), e.g. to publish them. */
  onAwareness?: (room: Room, update: Uint8Array) => void;
  /** Internal events (server/events.ts): commits with their authors, presence joining and leaving. */
  events?: EventBus;
  /**
   * The room's document can no longer be trusted (Yjs threw half-way through applying an update):
   * every connection was closed, nothing of that update was committed; unload it and load afresh.
   */
  onBroken?: (room: Room) => void;
}

/**
 * Relaying a batch costs one socket write per connection (~10 µs each on loopback, most of it in
 * the kernel). Commits are paced to one per this long per connection on average (at most
 * MAX_BATCH_SPACING_MS; short bursts pass unpaced), so in a large room that receives edits faster
 * than that, edits arriving meanwhile share one commit and one frame: relaying stays around a
 * third of a core per room while an edit waits at most a few milliseconds (6 ms at 200 clients).
 * A room whose edit rate stays under the pace is never delayed.
 */
const BATCH_SPACING_PER_CONNECTION_MS = 0.03;
const MAX_BATCH_SPACING_MS = 20;

/**
 * The full-state reply is kept only for documents at least this large (encoded). Keeping it costs
 * its size for as long as the room is loaded, which adds up over thousands of small idle documents
 * (15 KB each for 10 KB of typed text, about 6% of what such a loaded document costs); re-encoding
 * a small one for a newcomer costs little (0.8 ms for that 15 KB document on the benchmark machine,
 * against 7 ms for an 80 KB one with a 5,000-edit history, which stays cached).
 */
const FULL_STATE_CACHE_MIN_BYTES = 32 * 1024;

/** The frame if it is worth keeping (see FULL_STATE_CACHE_MIN_BYTES), else null. */
const worthKeeping = (frame: Uint8Array | null | undefined): Uint8Array | null => (frame && frame.byteLength >= FULL_STATE_CACHE_MIN_BYTES ? frame : null);

const editorContent = { fragment: PROSEMIRROR_FRAGMENT, rules: contentRules(schema) };

/** The transport of an external update's connection (Room.applyExternal): it is never sent anything. */
const DETACHED_TRANSPORT: SyncTransport = { kind: 'internal', send() {}, close() {}, bufferedAmount: 0, pause() {}, resume() {} };

/**
 * One loaded document: its Y.Doc, awareness and connections. Updates from clients are checked,
 * applied whole or not at all, committed in batches, and only then relayed; the same encoded frame
 * goes to every recipient.
 */
export class Room {
  readonly connections = new Set<Connection>();
  private readonly awarenessRelay: AwarenessRelay;
  private readonly updateGuard: UpdateGuard;
  private readonly pending: PendingContent;
  private readonly pipeline: UpdatePipeline<TransactionOrigin, { seq: number; savedState: Uint8Array | null }>;
  private readonly order: CommittedOrder;
  private readonly upkeep: RoomUpkeep;
  /** While a client update is applied: what the document emitted for it, committed only if it applied whole. */
  private held: Uint8Array[] | null = null;
  private destroyed = false;
  private broken = false;
  private deleted = false;
  /**
   * The sync-step-2 frame for a client that has nothing (empty state vector), kept while the
   * document is unchanged and large (FULL_STATE_CACHE_MIN_BYTES): every newcomer would otherwise
   * re-encode the whole document. Seeded at load with the stored snapshot, which is the whole
   * document when there are no log rows.
   */
  private fullStateFrame: Uint8Array | null = null;
  /** Connections that showed presence (sent an awareness state), told as user.joined; user.left (as the same author) when they go. */
  private readonly present = new Map<Connection, Author>();
  /** Bytes pending before committed updates from elsewhere were applied (see onDocUpdate). */
  private pendingBytesBeforeCommitted = 0;

  /**
   * Builds a room from what storage returned for it (decoding it blocks for as long as the document
   * is large). `fullStateFrame`, if the loader built one from the same bytes, is kept as the reply
   * to clients that have nothing; `startedAt` is when the load began, for the load-time metric.
   */
  static fromStored(name: string, stored: StoredDocument, options: RoomOptions, loaded: { fullStateFrame?: Uint8Array | null; startedAt: number }): Room {
    const doc = new Y.Doc({ gc: true });
    doc.transact(() => {
      if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
      for (const update of stored.updates) Y.applyUpdate(doc, update);
    }, COMMITTED_ORIGIN);
    options.metrics.roomLoadSeconds.observe((performance.now() - loaded.startedAt) / 1000);
    const log = {
      rows: stored.updates.length,
      bytes: stored.updates.reduce((sum, update) => sum + update.byteLength, 0),
      snapshotBytes: stored.snapshot?.byteLength ?? 0,
    };
    const room = new Room(name, doc, stored.seq, log, options);
    room.fullStateFrame = worthKeeping(
      loaded.fullStateFrame ?? (stored.snapshot && stored.updates.length === 0 && stored.snapshot.byteLength >= FULL_STATE_CACHE_MIN_BYTES ? encodeFrame(writeSyncStep2, stored.snapshot) : null),
    );
    return room;
  }

  private constructor(
    readonly name: string,
    readonly doc: Y.Doc,
    seq: number,
    log: LogSize,
    private readonly options: RoomOptions,
  ) {
    const { store, metrics, logger } = options;
    this.pending = new PendingContent(doc);
    this.updateGuard = new UpdateGuard(doc, { announcedBy: (clientId) => this.awarenessRelay.connectionOf(clientId), content: editorContent });
    this.awarenessRelay = new AwarenessRelay(doc, {
      intervalMs: options.awarenessIntervalMs,
      maxStateBytes: options.maxAwarenessStateBytes,
      broadcast: (frame, except) => this.broadcast(frame, except),
      publish: options.onAwareness ? (update) => options.onAwareness!(this, update) : undefined,
    });
    this.order = new CommittedOrder(seq, {
      name,
      store,
      metrics,
      logger,
      apply: (updates) => {
        this.pendingBytesBeforeCommitted = this.pending.bytes;
        doc.transact(() => updates.forEach((update) => Y.applyUpdate(doc, update)), COMMITTED_ORIGIN);
      },
      deleted: () => this.markDeleted(),
    });
    this.upkeep = new RoomUpkeep(log, {
      name,
      store,
      metrics,
      logger,
      compactAfterRows: options.compactAfterRows,
      title: () => deriveTitle(doc),
      text: () => fragmentText(doc),
      snapshot: () => ({ update: this.pending.hidden(() => Y.encodeStateAsUpdate(doc)), seq: this.order.committedSeq }),
      settled: () => Promise.all([this.pipeline.whenIdle(), this.order.settled]),
      mayCompact: () => !this.order.isCatchingUp && !this.broken,
    });
    this.pipeline = new UpdatePipeline({
      commit: async (update) => {
        // The doc holds exactly this batch plus what is committed: its state vector is what
        // will be saved once the commit returns.
        const savedState = this.hasSavedStateSubscribers() ? Y.encodeStateVector(doc) : null;
        const started = performance.now();
        const committedSeq = await store.append(name, update);
        metrics.persistSeconds.observe((performance.now() - started) / 1000);
        return { seq: committedSeq, savedState };
      },
      committed: (update, commit, origins) => this.onCommitted(update, commit.seq, commit.savedState, origins),
      minSpacingMs: () => Math.min(this.connections.size * BATCH_SPACING_PER_CONNECTION_MS, MAX_BATCH_SPACING_MS),
      failed: (error, retryInMs) => {
        // Deleted meanwhile (on another instance, with the message about it not here yet).
        if (error instanceof DocumentDeletedError) return this.markDeleted();
        metrics.persistFailures.inc();
        logger.error({ err: error, document: name, retryInMs }, 'commit failed; updates held back and retried');
      },
    });
    doc.on('update', this.onDocUpdate);
    doc.on('afterTransaction', this.forgetFullState);
  }

  get awareness() {
    return this.awarenessRelay.awareness;
  }

  /** Adds a connection and starts the sync handshake. */
  join(connection: Connection): void {
    this.connections.add(connection);
    // A client that counts confirmations (Hocuspocus) gets our step 1 in answer to its own, as from
    // Hocuspocus' server (see receive): one more here would confirm one change too many.
    if (!connection.acknowledgesUpdates) connection.send(encodeFrame(writeSyncStep1, Y.encodeStateVector(this.doc)));
    const states = this.awarenessRelay.snapshotFrame();
    if (states) connection.send(states);
  }

  /** Removes a connection and its awareness states. */
  leave(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const present = this.present.get(connection);
    if (present && this.present.delete(connection)) this.options.events?.emit({ type: 'user.left', document: this.name, seq: this.committedSeq, user: present });
    this.awarenessRelay.removeConnection(connection);
    this.updateGuard.release(connection);
  }

  /** Handles one frame from a connection of this room. Never throws. */
  receive(connection: Connection, frame: Uint8Array): void {
    const { metrics } = this.options;
    metrics.bytesIn.inc(frame.byteLength);
    if (this.broken) return;
    try {
      const message = decodeClientMessage(frame);
      metrics.messagesIn.inc({ type: message.kind });
      switch (message.kind) {
        case 'sync-step1':
          this.replyAfterCommit(connection, () => this.syncStep2For(message.stateVector));
          // A client that counts unconfirmed changes (Hocuspocus) syncs with a step 1 of its own (on
          // connecting, and again with forceSyncInterval) and counts one change until its answer to
          // our step 1 is confirmed: each of its step 1s gets ours, as from Hocuspocus' server.
          if (connection.acknowledgesUpdates) connection.send(encodeFrame(writeSyncStep1, Y.encodeStateVector(this.doc)));
          break;
        case 'sync-step2':
        case 'sync-update':
          if (connection.access.canWrite) {
            this.applyClientUpdate(connection, message.update);
            // Sent when everything received before it is committed, this update included.
            if (connection.acknowledgesUpdates) this.afterCommit(() => connection.acknowledgeUpdate(true));
          } else {
            metrics.refused.inc({ reason: 'read-only update' });
            // A read-only client's answer to our sync step 1 that holds nothing new is not refused.
            if (connection.acknowledgesUpdates) connection.acknowledgeUpdate(message.kind === 'sync-step2' && this.holdsUpdate(message.update));
          }
          break;
        case 'awareness': {
          const { rejected } = this.awarenessRelay.apply(connection, message.update);
          if (rejected > 0) metrics.refused.inc({ reason: 'foreign or oversized awareness' }, rejected);
          if (this.options.events?.active && connection.awarenessClients.size > 0 && !this.present.has(connection)) {
            const user = authorOf(connection, this.awareness);
            this.present.set(connection, user);
            this.options.events.emit({ type: 'user.joined', document: this.name, seq: this.committedSeq, user });
          }
          break;
        }
        case 'query-awareness': {
          const states = this.awarenessRelay.snapshotFrame();
          if (states) connection.send(states);
          break;
        }
        case 'subscribe-saved':
          // Only our editor subscribes, so only it is told its access: stock clients never see type 101.
          connection.wantsSavedState = true;
          connection.send(encodeFrame(writeAccess, connection.access));
          this.replyAfterCommit(connection, () => encodeFrame(writeSavedState, Y.encodeStateVector(this.doc)));
          break;
        case 'auth':
          break;
      }
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : 'malformed frame';
      metrics.protocolErrors.inc({ reason: error instanceof ProtocolError ? 'protocol' : 'decode' });
      this.options.logger.warn({ document: this.name, connection: connection.id, reason }, 'closing connection after a bad frame');
      connection.close(CloseCode.BadRequest, reason);
    }
  }

  /** Sequence number of the last committed update this room's document contains in order. */
  get committedSeq(): number {
    return this.order.committedSeq;
  }

  /** Applies an update committed elsewhere (another instance), in sequence; gaps are filled from storage. */
  applyCommitted(update: Uint8Array, seq: number): void {
    if (!this.destroyed) this.order.received(update, seq);
  }

  /**
   * Re-reads everything committed after what this room has; for missed cross-instance messages.
   * Resolves with the number of log rows (or snapshots) it applied.
   */
  catchUp(): Promise<number> {
    return this.order.catchUp();
  }

  /** Applies awareness states relayed from another instance; they are not published again. */
  applyRemoteAwareness(instanceId: string, update: Uint8Array): void {
    if (!this.destroyed) this.awarenessRelay.applyRemote(instanceId, update);
  }

  /** Removes the awareness states of an instance that went away. */
  dropInstanceAwareness(instanceId: string): void {
    if (!this.destroyed) this.awarenessRelay.removeInstance(instanceId);
  }

  /** The awareness states of this instance's own connections, for another instance that asked. */
  localAwareness(): Uint8Array | null {
    return this.destroyed ? null : this.awarenessRelay.localStates();
  }

  /** Makes a change on behalf of the server; it is committed and relayed like any other. */
  change(fn: (doc: Y.Doc) => void): void {
    this.doc.transact(() => fn(this.doc), SERVER_ORIGIN);
  }

  /**
   * Applies an update made outside any connection (the HTTP content API, a backend) exactly as a
   * client's: checked by the same guard (well-formed, its own client ids, structure and schema),
   * applied whole or not at all, committed before it is relayed (to every connection). Checks and
   * applies synchronously, so a caller that computed the update from this document in the same
   * tick applies it to exactly that state. Resolves once committed; throws ProtocolError when
   * refused, DocumentDeletedError when the document was deleted meanwhile.
   */
  async applyExternal(update: Uint8Array, access: ConnectionAccess): Promise<void> {
    if (this.deleted || this.destroyed) throw new DocumentDeletedError(this.name);
    if (this.broken) throw new ProtocolError('document reloading; try again');
    // A connection of its own for the guard's bookkeeping, never joined: nothing is sent to it.
    const connection = new Connection(DETACHED_TRANSPORT, access, 0);
    try {
      this.applyClientUpdate(connection, update);
    } finally {
      this.updateGuard.release(connection);
    }
    await this.committed();
  }

  /** Resolves once everything applied so far is committed; throws DocumentDeletedError if the document was deleted meanwhile. */
  async committed(): Promise<void> {
    await this.pipeline.whenCommitted();
    if (this.deleted) throw new DocumentDeletedError(this.name);
  }

  /** The document as one update (everything beyond `stateVector`, if given), without content Yjs holds back. */
  encodeState(stateVector?: Uint8Array): Uint8Array {
    return this.pending.hidden(() => Y.encodeStateAsUpdate(this.doc, stateVector));
  }

  /** The state vector of the document (without content Yjs holds back). */
  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /**
   * The document was deleted (here, or on another instance): every connection is closed with 4404
   * `document deleted`, nothing more is committed (what waits is dropped) or saved, and the room
   * unloads (as a broken one: no title, no compaction). Stale clients reconnecting find the name
   * reserved (storage refuses to load it) and are closed again.
   */
  markDeleted(): void {
    if (this.deleted || this.destroyed) return;
    this.deleted = true;
    this.broken = true;
    this.upkeep.stop();
    this.order.stop();
    this.pipeline.discard();
    this.closeConnections(CloseCode.NotFound, 'document deleted');
    this.options.onBroken?.(this);
  }

  /** Stores the plain text for search now, if it changed (e.g. after an API write, so that search sees it at once). */
  saveText(): Promise<void> {
    return this.upkeep.saveText();
  }

  /** Resolves once every update received so far is committed. */
  async drain(): Promise<void> {
    await this.pipeline.whenIdle();
    await this.order.settled;
    await this.upkeep.settled;
  }

  /** Folds the update log into a snapshot now (if there is anything to fold). */
  compact(): Promise<void> {
    return this.upkeep.compact();
  }

  /** Persists the derived title now if it changed. */
  saveTitle(): Promise<void> {
    return this.upkeep.saveTitle();
  }

  /** Closes every connection with the given code and reason. */
  closeConnections(code: number, reason: string): void {
    for (const connection of this.connections) connection.close(code, reason);
  }

  destroy(): void {
    this.destroyed = true;
    this.upkeep.stop();
    this.order.stop();
    this.pipeline.stop();
    this.doc.off('update', this.onDocUpdate);
    this.doc.off('afterTransaction', this.forgetFullState);
    this.pending.destroy();
    this.awarenessRelay.destroy();
    this.doc.destroy();
  }

  /** The reply to a sync step 1: what the document has beyond `stateVector` (never pending content). */
  private syncStep2For(stateVector: Uint8Array): Uint8Array {
    // An empty state vector is the single byte 0 (no clients).
    if (stateVector.length !== 1 || stateVector[0] !== 0) return encodeFrame(writeSyncStep2, this.pending.hidden(() => Y.encodeStateAsUpdate(this.doc, stateVector)));
    if (this.fullStateFrame) return this.fullStateFrame;
    const frame = encodeFrame(writeSyncStep2, this.pending.hidden(() => Y.encodeStateAsUpdate(this.doc)));
    this.fullStateFrame = worthKeeping(frame);
    return frame;
  }

  /** Any transaction may change what a full-state encoding holds (content, deletions, pending items). */
  private readonly forgetFullState = (): void => {
    this.fullStateFrame = null;
  };

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (this.held) {
      this.held.push(update);
      return;
    }
    if (origin === COMMITTED_ORIGIN) {
      // What another instance committed can complete content a client sent here that waited for
      // it (pending): that content was never committed, so the whole transaction is committed
      // before it is relayed, as the server's own writes are (the part committed elsewhere is
      // written again: harmless, and only while something was pending, which honest clients
      // rarely cause).
      const completedPending = this.pendingBytesBeforeCommitted > 0 && this.pending.bytes < this.pendingBytesBeforeCommitted;
      this.pendingBytesBeforeCommitted = 0;
      if (!completedPending) {
        this.broadcast(encodeFrame(writeUpdate, update), null);
        return;
      }
      origin = SERVER_ORIGIN;
    }
    this.pipeline.push(update, isTransactionOrigin(origin) ? origin : SERVER_ORIGIN);
  };

  /**
   * Checks a client's update, then applies it whole or not at all: what the document emits for it
   * is held until Yjs returns, and dropped if Yjs threw half-way (the room is then unloaded, see
   * breakRoom). Throws ProtocolError for a refused update.
   */
  private applyClientUpdate(connection: Connection, update: Uint8Array): void {
    // No structs, no deletions: every stock client answers our sync step 1 with this when it has
    // nothing we lack, and a Yjs transaction for it would cost more than the rest of a handshake.
    if (update.length === 2 && update[0] === 0 && update[1] === 0) return;
    const checked = this.updateGuard.check(connection, update);
    let origin: TransactionOrigin = clientOrigin(connection);
    if (this.pending.waitsFor(checked.writes)) {
      origin = completingPendingOrigin(connection);
      const problem = this.updateGuard.pendingProblem(checked, this.pending.structs());
      if (problem) {
        // Held-back content that would not fit once completed is dropped; it is not the sender's.
        this.options.metrics.refused.inc({ reason: 'pending content' });
        this.options.logger.warn({ document: this.name, problem }, 'dropping held-back content that does not fit the document');
        this.pending.drop();
        origin = clientOrigin(connection);
      }
    }
    const held: Uint8Array[] = (this.held = []);
    try {
      Y.applyUpdate(this.doc, update, origin);
    } catch (error) {
      this.held = null;
      this.breakRoom(connection, error);
      throw new ProtocolError('update rejected by Yjs');
    }
    this.held = null;
    for (const emitted of held) this.pipeline.push(emitted, origin);
    this.updateGuard.claim(connection, checked.writes);
    const over = this.pending.overBounds();
    if (over) {
      this.options.metrics.refused.inc({ reason: 'pending content' });
      throw new ProtocolError(over);
    }
  }

  /**
   * Yjs threw half-way through applying an update: the document holds part of it, which must
   * never be committed or relayed. Everything else received is committed as usual; every other
   * connection is told to reconnect (1012), and the room is unloaded and loaded afresh from storage.
   */
  private breakRoom(sender: Connection, error: unknown): void {
    this.broken = true;
    this.upkeep.stop();
    this.options.metrics.refused.inc({ reason: 'update failed to apply' });
    this.options.logger.error({ err: error, document: this.name, connection: sender.id }, 'an update failed half-way; reloading the document from storage');
    for (const connection of this.connections) if (connection !== sender) connection.close(CloseCode.ServiceRestart, 'document reloading; reconnect');
    this.options.onBroken?.(this);
  }

  /**
   * A reply may contain updates that are applied but not yet committed: it is encoded now and
   * held until everything received before it is committed.
   */
  private replyAfterCommit(connection: Connection, encode: () => Uint8Array): void {
    const frame = encode();
    this.afterCommit(() => connection.send(frame));
  }

  /** Runs `action` once everything applied so far is committed (at once if nothing waits). */
  private afterCommit(action: () => void): void {
    if (this.pipeline.idle) {
      action();
      return;
    }
    void this.pipeline.whenCommitted().then(() => {
      if (!this.destroyed) action();
    });
  }

  /** Whether the document already holds everything `update` contains (false for one Yjs cannot read). */
  private holdsUpdate(update: Uint8Array): boolean {
    if (update.length === 2 && update[0] === 0 && update[1] === 0) return true;
    try {
      return Y.snapshotContainsUpdate(Y.snapshot(this.doc), update);
    } catch {
      return false;
    }
  }

  private onCommitted(update: Uint8Array, seq: number, savedState: Uint8Array | null, origins: ReadonlySet<TransactionOrigin>): void {
    // The sole sender of a batch has it already; a merged batch goes to everyone.
    const only = origins.size === 1 ? origins.values().next().value! : null;
    this.broadcast(encodeFrame(writeUpdate, update), only?.kind === 'client' ? only.connection : null);
    // Our own update is in `doc` already; it only moves the sequence once the ones before it are in too.
    this.order.committedHere(seq);
    this.options.onCommitted?.(this, update, seq);
    if (this.options.events?.active) this.options.events.emit({ type: 'document.committed', document: this.name, seq, authors: authorsOf(origins, this.awareness) });
    if (savedState) this.sendSavedState(savedState);
    this.upkeep.committed(update.byteLength);
  }

  private hasSavedStateSubscribers(): boolean {
    for (const connection of this.connections) if (connection.wantsSavedState) return true;
    return false;
  }

  private sendSavedState(stateVector: Uint8Array): void {
    const frame = encodeFrame(writeSavedState, stateVector);
    for (const connection of this.connections) if (connection.wantsSavedState) connection.send(frame);
  }

  private broadcast(frame: Uint8Array, except: Connection | null): void {
    let sent = 0;
    for (const connection of this.connections) {
      if (connection === except) continue;
      connection.send(frame);
      sent++;
    }
    this.options.metrics.framesOut.inc(sent);
    this.options.metrics.bytesOut.inc(sent * frame.byteLength);
  }
}
