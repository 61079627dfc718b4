import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { Connection } from './connection.js';
import { decodeAwarenessUpdate, encodeAwarenessEntries, encodeFrame, writeAwareness, type AwarenessEntry } from './protocol.js';

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

export interface AwarenessRelayOptions {
  /** Minimum spacing of frames; changes in between go out together in the next one. */
  intervalMs: number;
  /** Largest JSON text of one client's state. */
  maxStateBytes: number;
  broadcast(frame: Uint8Array): void;
  /**
   * Receives the changes this instance's connections made (coalesced like the frames), for other
   * instances. Changes relayed from other instances are never passed back here.
   */
  publish?(update: Uint8Array): void;
}

/** Awareness client ids one connection may hold (a stock client uses one). */
const MAX_CLIENTS_PER_CONNECTION = 4;

/** Origin of awareness changes relayed from another instance. */
class RemoteOrigin {
  constructor(readonly instanceId: string) {}
}

/** Who may change a client id's state: a connection here, or (by its id) another instance. */
type Owner = Connection | string;

/** Claims held for client ids owned by other instances (see AwarenessRelay.claims). */
const MAX_HELD_CLAIMS = 1_000;

/**
 * A room's awareness (cursors, presence): remembers which connection owns which client id,
 * refuses changes to states a connection does not own, and coalesces changes into few frames.
 * States relayed from other instances are owned by that instance: no connection here may change
 * them, and they go when that instance says so, is declared gone, or stops renewing them (the
 * Awareness' own 30 s timeout).
 * Every connection, the sender included, gets each frame: that echo is what keeps a client that is
 * alone in a room from hitting the stock provider's 30 s silence timeout.
 */
export class AwarenessRelay {
  readonly awareness: Awareness;
  private readonly owners = new Map<number, Owner>();
  private readonly changed = new Set<number>();
  /** The part of `changed` made by local connections, which is published. */
  private readonly changedLocally = new Set<number>();
  /**
   * The latest refused state a connection here sent for a client id owned by another instance: a
   * client that moved here from an instance that died. Applied as soon as that instance's state is
   * removed (it said so, was declared gone, or timed out), so the moved client's cursor shows at
   * once instead of at its next renewal.
   */
  private readonly claims = new Map<number, { connection: Connection; entry: AwarenessEntry }>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private lastFlushAt = 0;

  constructor(doc: Y.Doc, private readonly options: AwarenessRelayOptions) {
    this.awareness = new Awareness(doc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.onUpdate);
  }

  /**
   * Applies a client's awareness update; entries for client ids owned by others, states over
   * maxStateBytes, and new client ids beyond MAX_CLIENTS_PER_CONNECTION are dropped.
   */
  apply(connection: Connection, update: Uint8Array): { rejected: number } {
    const entries = decodeAwarenessUpdate(update);
    let added = 0;
    const allowed = entries.filter((entry) => {
      const owner = this.owners.get(entry.clientId);
      if (owner !== undefined && owner !== connection) {
        if (typeof owner === 'string' && (this.claims.size < MAX_HELD_CLAIMS || this.claims.has(entry.clientId))) {
          this.claims.set(entry.clientId, { connection, entry });
        }
        return false;
      }
      if (Buffer.byteLength(entry.stateJson) > this.options.maxStateBytes) return false;
      if (owner === undefined && entry.stateJson !== 'null' && connection.awarenessClients.size + ++added > MAX_CLIENTS_PER_CONNECTION) return false;
      return true;
    });
    if (allowed.length > 0) {
      applyAwarenessUpdate(this.awareness, allowed.length === entries.length ? update : encodeAwarenessEntries(allowed), connection);
    }
    return { rejected: entries.length - allowed.length };
  }

  /** Applies states relayed from another instance (which checked ownership for its connections). */
  applyRemote(instanceId: string, update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, new RemoteOrigin(instanceId));
  }

  /** Removes every state owned by an instance that went away. */
  removeInstance(instanceId: string): void {
    const ids = [...this.owners].filter(([, owner]) => owner === instanceId).map(([id]) => id);
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, new RemoteOrigin(instanceId));
  }

  /** An update with the states of this instance's connections, or null if there are none. */
  localStates(): Uint8Array | null {
    const ids = [...this.owners].filter(([id, owner]) => typeof owner !== 'string' && this.awareness.states.has(id)).map(([id]) => id);
    return ids.length > 0 ? encodeAwarenessUpdate(this.awareness, ids) : null;
  }

  /** The local connection that owns this client id's state, if any. */
  connectionOf(clientId: number): Connection | undefined {
    const owner = this.owners.get(clientId);
    return typeof owner === 'object' ? owner : undefined;
  }

  /** A frame with every current state, for a connection that just joined or asked. */
  snapshotFrame(): Uint8Array | null {
    if (this.awareness.states.size === 0) return null;
    return encodeFrame(writeAwareness, encodeAwarenessUpdate(this.awareness, [...this.awareness.states.keys()]));
  }

  /** Removes the states of a connection that left and tells the others. */
  removeConnection(connection: Connection): void {
    const ids = [...connection.awarenessClients].filter((id) => this.owners.get(id) === connection);
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, connection);
    for (const id of ids) this.owners.delete(id);
    connection.awarenessClients.clear();
    for (const [id, claim] of this.claims) if (claim.connection === connection) this.claims.delete(id);
  }

  /** Sends what is still unsent, now. */
  flush(): void {
    this.clearSchedule();
    if (this.changed.size === 0) return;
    const ids = [...this.changed];
    this.changed.clear();
    this.lastFlushAt = performance.now();
    const update = encodeAwarenessUpdate(this.awareness, ids);
    this.options.broadcast(encodeFrame(writeAwareness, update));
    if (this.changedLocally.size === 0) return;
    const local = this.changedLocally.size === ids.length ? update : encodeAwarenessUpdate(this.awareness, [...this.changedLocally]);
    this.changedLocally.clear();
    this.options.publish?.(local);
  }

  destroy(): void {
    this.clearSchedule();
    this.awareness.off('update', this.onUpdate);
    this.awareness.destroy();
  }

  private readonly onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    const connection = origin && typeof origin === 'object' && 'awarenessClients' in origin ? (origin as Connection) : null;
    const instance = origin instanceof RemoteOrigin ? origin.instanceId : null;
    for (const id of added) this.track(id, connection, instance);
    for (const id of updated) this.track(id, connection, instance);
    for (const id of removed) {
      this.changed.add(id);
      if (connection && this.options.publish) this.changedLocally.add(id);
      this.disown(id);
      if (this.claims.has(id)) queueMicrotask(() => this.applyClaim(id));
    }
    this.schedule();
  };

  private applyClaim(id: number): void {
    const claim = this.claims.get(id);
    this.claims.delete(id);
    if (!claim || claim.connection.closed || this.owners.has(id)) return;
    this.apply(claim.connection, encodeAwarenessEntries([claim.entry]));
  }

  private track(id: number, connection: Connection | null, instance: string | null): void {
    this.changed.add(id);
    if (connection) {
      if (this.options.publish) this.changedLocally.add(id);
      if (!this.owners.has(id)) {
        this.owners.set(id, connection);
        connection.awarenessClients.add(id);
      }
    } else if (instance !== null && this.owners.get(id) !== instance) {
      // The client now speaks through that instance (it moved there): it owns the id from now on.
      this.disown(id);
      this.owners.set(id, instance);
    }
  }

  private disown(id: number): void {
    const previous = this.owners.get(id);
    if (previous !== undefined && typeof previous !== 'string') previous.awarenessClients.delete(id);
    this.owners.delete(id);
  }

  private schedule(): void {
    if (this.timer || this.immediate || this.changed.size === 0) return;
    const wait = this.lastFlushAt + this.options.intervalMs - performance.now();
    if (wait <= 0) {
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.flush();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
    }
  }

  private clearSchedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}
