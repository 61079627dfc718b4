import * as Y from 'yjs';
import { CloseCode } from '../../shared/protocol.js';
import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import type { DocumentStore, StoredDocument } from '../storage/types.js';
import { AwarenessRelay } from './awareness-relay.js';
import type { Connection } from './connection.js';
import { ProtocolError, decodeClientMessage, encodeFrame, writeAccess, writeSavedState, writeSyncStep1, writeSyncStep2, writeUpdate } from './protocol.js';
import { deriveTitle } from './title.js';
import { UpdatePipeline } from './update-pipeline.js';
import { UpdateGuard } from './update-guard.js';

/** Origin of updates already committed to storage (read back, or committed by another instance). */
export const COMMITTED_ORIGIN = Symbol('committed');
/** Origin of changes the server itself makes (e.g. setting a title through the API). */
export const SERVER_ORIGIN = Symbol('server');

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
}

const TITLE_REFRESH_MS = 2_000;
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
/** How long an out-of-order committed update waits for the ones before it before storage is asked. */
const GAP_WAIT_MS = 150;
/** More updates than this waiting for a gap to fill: stop waiting and read storage. */
const MAX_AHEAD = 1_000;

/**
 * One loaded document: its Y.Doc, awareness and connections. Updates from clients are applied,
 * committed in batches, and only then relayed; the same encoded frame goes to every recipient.
 */
export class Room {
  readonly connections = new Set<Connection>();
  private readonly awarenessRelay: AwarenessRelay;
  private readonly updateGuard: UpdateGuard;
  private readonly pipeline: UpdatePipeline;
  /** Every log row up to this sequence number is contained in `doc`. */
  private seq: number;
  private rowsSinceCompaction: number;
  private compacting: Promise<void> | null = null;
  private catchingUp: Promise<void> | null = null;
  /**
   * Committed updates with seq > this.seq + 1, held until the ones before them arrive (relay
   * messages from several instances may come out of order); null marks a local commit, which is
   * in `doc` already. A gap that stays open for GAP_WAIT_MS is filled from storage.
   */
  private readonly ahead = new Map<number, Uint8Array | null>();
  private gapTimer: NodeJS.Timeout | null = null;
  private title: string;
  /** State vector of the batch being committed, for connections that want SavedState frames. */
  private batchStateVector: Uint8Array | null = null;
  private titleTimer: NodeJS.Timeout | null = null;
  private destroyed = false;
  /**
   * The sync-step-2 frame for a client that has nothing (empty state vector), kept while the
   * document is unchanged: every newcomer would otherwise re-encode the whole document. Seeded at
   * load with the stored snapshot, which is the whole document when there are no log rows.
   */
  private fullStateFrame: Uint8Array | null = null;

  /** Loads a document from storage into a new room. */
  static async load(name: string, options: RoomOptions): Promise<Room> {
    const started = performance.now();
    return Room.fromStored(name, await options.store.load(name), options, { startedAt: started });
  }

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
    const room = new Room(name, doc, stored.seq, stored.updates.length, options);
    room.fullStateFrame = loaded.fullStateFrame ?? (stored.snapshot && stored.updates.length === 0 ? encodeFrame(writeSyncStep2, stored.snapshot) : null);
    return room;
  }

  private constructor(
    readonly name: string,
    readonly doc: Y.Doc,
    seq: number,
    logRows: number,
    private readonly options: RoomOptions,
  ) {
    this.seq = seq;
    this.rowsSinceCompaction = logRows;
    this.title = deriveTitle(doc);
    this.updateGuard = new UpdateGuard(doc, (clientId) => this.awarenessRelay.connectionOf(clientId));
    this.awarenessRelay = new AwarenessRelay(doc, {
      intervalMs: options.awarenessIntervalMs,
      maxStateBytes: options.maxAwarenessStateBytes,
      broadcast: (frame, except) => this.broadcast(frame, except),
      publish: options.onAwareness ? (update) => options.onAwareness!(this, update) : undefined,
    });
    this.pipeline = new UpdatePipeline({
      commit: async (update) => {
        // The doc holds exactly this batch plus what is committed: its state vector is what
        // will be saved once the commit returns.
        this.batchStateVector = this.hasSavedStateSubscribers() ? Y.encodeStateVector(doc) : null;
        const started = performance.now();
        const committedSeq = await options.store.append(name, update);
        options.metrics.persistSeconds.observe((performance.now() - started) / 1000);
        return committedSeq;
      },
      committed: (update, committedSeq, origins) => this.onCommitted(update, committedSeq, origins),
      minSpacingMs: () => Math.min(this.connections.size * BATCH_SPACING_PER_CONNECTION_MS, MAX_BATCH_SPACING_MS),
      failed: (error, retryInMs) => {
        options.metrics.persistFailures.inc();
        options.logger.error({ err: error, document: name, retryInMs }, 'commit failed; updates held back and retried');
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
    connection.send(encodeFrame(writeSyncStep1, Y.encodeStateVector(this.doc)));
    const states = this.awarenessRelay.snapshotFrame();
    if (states) connection.send(states);
  }

  /** Removes a connection and its awareness states. */
  leave(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    this.awarenessRelay.removeConnection(connection);
    this.updateGuard.release(connection);
  }

  /** Handles one frame from a connection of this room. Never throws. */
  receive(connection: Connection, frame: Uint8Array): void {
    const { metrics } = this.options;
    metrics.bytesIn.inc(frame.byteLength);
    try {
      const message = decodeClientMessage(frame);
      metrics.messagesIn.inc({ type: message.kind });
      switch (message.kind) {
        case 'sync-step1':
          this.replyAfterCommit(connection, () => this.syncStep2For(message.stateVector));
          break;
        case 'sync-step2':
        case 'sync-update':
          if (connection.access.canWrite) this.applyClientUpdate(connection, message.update);
          else metrics.refused.inc({ reason: 'read-only update' });
          break;
        case 'awareness': {
          const { rejected } = this.awarenessRelay.apply(connection, message.update);
          if (rejected > 0) metrics.refused.inc({ reason: 'foreign or oversized awareness' }, rejected);
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
    return this.seq;
  }

  /** Applies an update committed elsewhere (another instance), in sequence; gaps are filled from storage. */
  applyCommitted(update: Uint8Array, seq: number): void {
    if (this.destroyed || seq <= this.seq) return;
    this.ahead.set(seq, update);
    this.advance();
  }

  /**
   * Re-reads everything committed after what this room has; for missed cross-instance messages.
   * Resolves with the number of log rows (or snapshots) it applied.
   */
  catchUp(): Promise<number> {
    if (this.catchingUp) return this.catchingUp.then(() => 0);
    let applied = 0;
    const running = (async () => {
      try {
        const since = await this.options.store.readSince(this.name, this.seq);
        if (this.destroyed || since.seq <= this.seq) return;
        this.doc.transact(() => {
          if (since.snapshot) Y.applyUpdate(this.doc, since.snapshot);
          for (const row of since.updates) if (row.seq > this.seq) Y.applyUpdate(this.doc, row.update);
        }, COMMITTED_ORIGIN);
        applied = since.updates.filter((row) => row.seq > this.seq).length + (since.snapshot ? 1 : 0);
        this.seq = since.seq;
        this.options.metrics.catchUpRows.inc(applied);
      } catch (error) {
        this.options.logger.error({ err: error, document: this.name }, 'catching up from storage failed');
      } finally {
        this.catchingUp = null;
        if (!this.destroyed) this.advance();
      }
    })();
    this.catchingUp = running;
    return running.then(() => applied);
  }

  /** Applies held updates that are next in sequence; schedules a catch-up for a gap that stays open. */
  private advance(): void {
    if (this.catchingUp) return;
    for (let next = this.ahead.get(this.seq + 1); next !== undefined; next = this.ahead.get(this.seq + 1)) {
      this.ahead.delete(this.seq + 1);
      if (next) Y.applyUpdate(this.doc, next, COMMITTED_ORIGIN);
      this.seq++;
    }
    for (const seq of this.ahead.keys()) if (seq <= this.seq) this.ahead.delete(seq);
    if (this.ahead.size === 0) {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = null;
    } else if (this.ahead.size > MAX_AHEAD) {
      void this.catchUp();
    } else if (!this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (!this.destroyed && this.ahead.size > 0) void this.catchUp();
      }, GAP_WAIT_MS);
      this.gapTimer.unref();
    }
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

  /** Resolves once every update received so far is committed. */
  async drain(): Promise<void> {
    await this.pipeline.whenIdle();
    await this.catchingUp;
    await this.compacting;
  }

  /** Folds the update log into a snapshot now (if there is anything to fold). */
  async compact(): Promise<void> {
    await this.pipeline.whenIdle();
    if (this.compacting) return this.compacting;
    if (this.rowsSinceCompaction === 0 || this.catchingUp) return;
    const uptoSeq = this.seq;
    const snapshot = Y.encodeStateAsUpdate(this.doc);
    const rows = this.rowsSinceCompaction;
    this.compacting = this.options.store
      .compact(this.name, snapshot, uptoSeq)
      .then(() => {
        this.rowsSinceCompaction = Math.max(0, this.rowsSinceCompaction - rows);
        this.options.metrics.compactions.inc();
      })
      .catch((error: unknown) => this.options.logger.error({ err: error, document: this.name }, 'compaction failed'))
      .finally(() => {
        this.compacting = null;
      });
    return this.compacting;
  }

  /** Persists the derived title now if it changed. */
  async saveTitle(): Promise<void> {
    if (this.titleTimer) clearTimeout(this.titleTimer);
    this.titleTimer = null;
    const title = deriveTitle(this.doc);
    if (title === this.title) return;
    this.title = title;
    try {
      await this.options.store.setTitle(this.name, title);
    } catch (error) {
      this.options.logger.warn({ err: error, document: this.name }, 'saving the title failed');
    }
  }

  /** Closes every connection with the given code and reason. */
  closeConnections(code: number, reason: string): void {
    for (const connection of this.connections) connection.close(code, reason);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.titleTimer) clearTimeout(this.titleTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.ahead.clear();
    this.pipeline.stop();
    this.doc.off('update', this.onDocUpdate);
    this.doc.off('afterTransaction', this.forgetFullState);
    this.awarenessRelay.destroy();
    this.doc.destroy();
  }

  /** The reply to a sync step 1: what the document has beyond `stateVector`. */
  private syncStep2For(stateVector: Uint8Array): Uint8Array {
    // An empty state vector is the single byte 0 (no clients).
    if (stateVector.length !== 1 || stateVector[0] !== 0) return encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(this.doc, stateVector));
    this.fullStateFrame ??= encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(this.doc));
    return this.fullStateFrame;
  }

  /** Any transaction may change what a full-state encoding holds (content, deletions, pending items). */
  private readonly forgetFullState = (): void => {
    this.fullStateFrame = null;
  };

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === COMMITTED_ORIGIN) {
      this.broadcast(encodeFrame(writeUpdate, update), null);
      return;
    }
    this.pipeline.push(update, origin);
  };

  private applyClientUpdate(connection: Connection, update: Uint8Array): void {
    // No structs, no deletions: every stock client answers our sync step 1 with this when it has
    // nothing we lack, and a Yjs transaction for it would cost more than the rest of a handshake.
    if (update.length === 2 && update[0] === 0 && update[1] === 0) return;
    // Decode and check first so that garbage is refused whole instead of half-applied.
    const writes = this.updateGuard.check(connection, update);
    try {
      Y.applyUpdate(this.doc, update, this.updateGuard.originFor(connection, writes));
    } catch (error) {
      this.options.logger.warn({ err: error, document: this.name }, 'update failed to apply');
      throw new ProtocolError('update rejected by Yjs');
    }
    this.updateGuard.claim(connection, writes);
  }

  /**
   * A reply may contain updates that are applied but not yet committed: it is encoded now and
   * held until everything received before it is committed.
   */
  private replyAfterCommit(connection: Connection, encode: () => Uint8Array): void {
    const frame = encode();
    if (this.pipeline.idle) {
      connection.send(frame);
      return;
    }
    void this.pipeline.whenCommitted().then(() => {
      if (!this.destroyed) connection.send(frame);
    });
  }

  private onCommitted(update: Uint8Array, seq: number, origins: ReadonlySet<unknown>): void {
    // The sole sender of a batch has it already; a merged batch goes to everyone.
    const only = origins.size === 1 ? origins.values().next().value : null;
    this.broadcast(encodeFrame(writeUpdate, update), only as Connection | null);
    this.rowsSinceCompaction++;
    // Our own update is in `doc` already; it only moves `seq` once the ones before it are in too.
    if (seq > this.seq) {
      this.ahead.set(seq, null);
      this.advance();
    }
    this.options.onCommitted?.(this, update, seq);
    if (this.batchStateVector) this.sendSavedState(this.batchStateVector);
    if (this.rowsSinceCompaction >= this.options.compactAfterRows && !this.compacting) {
      setImmediate(() => {
        if (!this.destroyed) void this.compact();
      });
    }
    if (!this.titleTimer) {
      this.titleTimer = setTimeout(() => void this.saveTitle(), TITLE_REFRESH_MS);
      this.titleTimer.unref();
    }
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
