import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import type { Connection } from './connection.js';
import { decodeAwarenessUpdate, encodeAwarenessEntries, encodeFrame, writeAwareness } from './protocol.js';

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
}

/**
 * A room's awareness (cursors, presence): remembers which connection owns which client id,
 * refuses changes to states a connection does not own, and coalesces changes into few frames.
 * Every connection, the sender included, gets each frame: that echo is what keeps a client that is
 * alone in a room from hitting the stock provider's 30 s silence timeout.
 */
export class AwarenessRelay {
  readonly awareness: Awareness;
  private readonly owners = new Map<number, Connection>();
  private readonly changed = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private lastFlushAt = 0;

  constructor(doc: Y.Doc, private readonly options: AwarenessRelayOptions) {
    this.awareness = new Awareness(doc);
    this.awareness.setLocalState(null);
    this.awareness.on('update', this.onUpdate);
  }

  /** Applies a client's awareness update; entries for client ids owned by others are dropped. */
  apply(connection: Connection, update: Uint8Array): { rejected: number } {
    const entries = decodeAwarenessUpdate(update);
    const allowed = entries.filter((entry) => {
      const owner = this.owners.get(entry.clientId);
      if (owner !== undefined && owner !== connection) return false;
      return entry.stateJson.length <= this.options.maxStateBytes;
    });
    if (allowed.length > 0) {
      applyAwarenessUpdate(this.awareness, allowed.length === entries.length ? update : encodeAwarenessEntries(allowed), connection);
    }
    return { rejected: entries.length - allowed.length };
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
  }

  /** Sends what is still unsent, now. */
  flush(): void {
    this.clearSchedule();
    if (this.changed.size === 0) return;
    const ids = [...this.changed];
    this.changed.clear();
    this.lastFlushAt = performance.now();
    this.options.broadcast(encodeFrame(writeAwareness, encodeAwarenessUpdate(this.awareness, ids)));
  }

  destroy(): void {
    this.clearSchedule();
    this.awareness.off('update', this.onUpdate);
    this.awareness.destroy();
  }

  private readonly onUpdate = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    const owner = origin && typeof origin === 'object' && 'awarenessClients' in origin ? (origin as Connection) : null;
    for (const id of added) this.track(id, owner);
    for (const id of updated) this.track(id, owner);
    for (const id of removed) {
      this.changed.add(id);
      const previous = this.owners.get(id);
      previous?.awarenessClients.delete(id);
      this.owners.delete(id);
    }
    this.schedule();
  };

  private track(id: number, owner: Connection | null): void {
    this.changed.add(id);
    if (owner && !this.owners.has(id)) {
      this.owners.set(id, owner);
      owner.awarenessClients.add(id);
    }
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
