import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { Connection } from './connection.js';
import { connectionAwarenessOrigin, instanceAwarenessOrigin, isAwarenessOrigin } from './origins.js';
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
  /** Sends a frame to every connection of the room but `except` (if given). */
  broadcast(frame: Uint8Array, except: Connection | null): void;
  /**
   * Receives the changes this instance's connections made (coalesced like the frames), for other
   * instances. Changes relayed from other instances are never passed back here.
   */
  publish?(update: Uint8Array): void;
}

/** Awareness client ids one connection may hold (a stock client uses one). */
const MAX_CLIENTS_PER_CONNECTION = 4;

/**
 * Awareness bytes (JSON of every state) a room holds, as a multiple of the per-state bound: 16 ×
 * 64 KB = 1 MiB at the defaults. A newcomer receives all of it at once, so without a room bound
 * 100 read-only connections × 4 ids × 60 KB would send each newcomer 24 MB.
 */
const MAX_ROOM_STATES_FACTOR = 16;

/** Who may change a client id's state: a connection here, or (by its id) another instance. */
type Owner = Connection | string;

/**
 * A frame that holds only a connection's own changes is not echoed back to it if it received some
 * frame within this time. The echo only matters as a sign of life: the stock provider reconnects
 * after 30 s without any message, and a client alone in a room hears nothing else.
 */
const ECHO_UNLESS_HEARD_WITHIN_MS = 10_000;

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
  /**
   * Each connection's own client id: the one entry of its first awareness frame (the stock provider
   * sends its own state first on every new socket). Another connection may hold that id only by
   * having forwarded it (two tabs share a BroadcastChannel, and the provider forwards what it hears);
   * a connection's own claim then takes the id over. A self-claimed id is never taken over.
   */
  private readonly selfIds = new WeakMap<Connection, number | null>();
  private readonly selfOwned = new Set<number>();
  private readonly changed = new Set<number>();
  /** JSON bytes of each state this room holds, and their sum (bounded, see MAX_ROOM_STATES_FACTOR). */
  private readonly stateBytes = new Map<number, number>();
  private totalStateBytes = 0;
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
    if (!this.selfIds.has(connection)) this.selfIds.set(connection, entries.length === 1 ? entries[0]!.clientId : null);
    let added = 0;
    let roomGrowth = 0;
    const allowed = entries.filter((entry) => {
      const owner = this.owners.get(entry.clientId);
      if (owner !== undefined && owner !== connection && typeof owner === 'object' && this.isOwnClaim(connection, entry.clientId)) {
        this.disown(entry.clientId);
        this.own(entry.clientId, connection);
        return true;
      }
      if (owner !== undefined && owner !== connection) {
        if (typeof owner === 'string' && (this.claims.size < MAX_HELD_CLAIMS || this.claims.has(entry.clientId))) {
          this.claims.set(entry.clientId, { connection, entry });
        }
        return false;
      }
      const bytes = entry.stateJson === 'null' ? 0 : Buffer.byteLength(entry.stateJson);
      if (bytes > this.options.maxStateBytes) return false;
      if (owner === undefined && bytes > 0 && connection.awarenessClients.size + ++added > MAX_CLIENTS_PER_CONNECTION) return false;
      const growth = bytes - (this.stateBytes.get(entry.clientId) ?? 0);
      if (growth > 0 && this.totalStateBytes + roomGrowth + growth > this.options.maxStateBytes * MAX_ROOM_STATES_FACTOR) return false;
      roomGrowth += growth;
      return true;
    });
    if (allowed.length > 0) {
      applyAwarenessUpdate(this.awareness, allowed.length === entries.length ? update : encodeAwarenessEntries(allowed), connectionAwarenessOrigin(connection));
      // Counted from the sender's JSON (no re-encoding); states relayed from other instances are bounded there.
      for (const entry of allowed) if (this.awareness.states.has(entry.clientId)) this.countBytes(entry.clientId, entry.stateJson === 'null' ? 0 : Buffer.byteLength(entry.stateJson));
    }
    return { rejected: entries.length - allowed.length };
  }

  /** Applies states relayed from another instance (which checked ownership for its connections). */
  applyRemote(instanceId: string, update: Uint8Array): void {
    applyAwarenessUpdate(this.awareness, update, instanceAwarenessOrigin(instanceId));
  }

  /** Removes every state owned by an instance that went away. */
  removeInstance(instanceId: string): void {
    const ids = [...this.owners].filter(([, owner]) => owner === instanceId).map(([id]) => id);
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, instanceAwarenessOrigin(instanceId));
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
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, connectionAwarenessOrigin(connection));
    for (const id of ids) this.disown(id);
    connection.disownAllAwarenessClients();
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
    const sole = this.soleLocalOwner(ids);
    const skipEcho = sole !== null && this.lastFlushAt - sole.lastSentAt < ECHO_UNLESS_HEARD_WITHIN_MS;
    this.options.broadcast(encodeFrame(writeAwareness, update), skipEcho ? sole : null);
    if (this.changedLocally.size === 0) return;
    const local = this.changedLocally.size === ids.length ? update : encodeAwarenessUpdate(this.awareness, [...this.changedLocally]);
    this.changedLocally.clear();
    this.options.publish?.(local);
  }

  /** The local connection that owns every one of these client ids, if there is one. */
  private soleLocalOwner(ids: readonly number[]): Connection | null {
    let sole: Connection | null = null;
    for (const id of ids) {
      const owner = this.owners.get(id);
      if (owner === undefined || typeof owner === 'string' || (sole !== null && owner !== sole)) return null;
      sole = owner;
    }
    return sole;
  }

  destroy(): void {
    this.clearSchedule();
    this.awareness.off('update', this.onUpdate);
    this.awareness.destroy();
  }

  private readonly onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    const known = isAwarenessOrigin(origin) ? origin : null;
    const connection = known?.kind === 'connection' ? known.connection : null;
    const instance = known?.kind === 'instance' ? known.instanceId : null;
    for (const id of added) this.track(id, connection, instance);
    for (const id of updated) this.track(id, connection, instance);
    for (const id of removed) {
      this.countBytes(id, 0);
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

  /** Sets the room's count of awareness bytes for one client id (0: it has no state). */
  private countBytes(id: number, bytes: number): void {
    this.totalStateBytes += bytes - (this.stateBytes.get(id) ?? 0);
    if (bytes === 0) this.stateBytes.delete(id);
    else this.stateBytes.set(id, bytes);
  }

  private track(id: number, connection: Connection | null, instance: string | null): void {
    this.changed.add(id);
    if (connection) {
      if (this.options.publish) this.changedLocally.add(id);
      if (!this.owners.has(id)) this.own(id, connection);
    } else if (instance !== null && this.owners.get(id) !== instance) {
      // The client now speaks through that instance (it moved there): it owns the id from now on.
      this.disown(id);
      this.owners.set(id, instance);
    }
  }

  private own(id: number, connection: Connection): void {
    this.owners.set(id, connection);
    connection.ownAwarenessClient(id);
    if (this.selfIds.get(connection) === id) this.selfOwned.add(id);
  }

  /** Whether `connection` claims `id` as its own while its owner only forwarded it. */
  private isOwnClaim(connection: Connection, id: number): boolean {
    return this.selfIds.get(connection) === id && !this.selfOwned.has(id);
  }

  private disown(id: number): void {
    const previous = this.owners.get(id);
    if (previous !== undefined && typeof previous !== 'string') previous.disownAwarenessClient(id);
    this.owners.delete(id);
    this.selfOwned.delete(id);
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
