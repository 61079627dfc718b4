import type { Logger } from '../logger.js';
import type { SyncMetrics } from '../metrics.js';
import { LoadingStage, storedParts, type StoredStateAnswer } from './loading-stage.js';
import { Room, type RoomOptions } from './room.js';

export interface RoomRegistryOptions extends RoomOptions {
  /** How long a room with no connections stays loaded. */
  roomIdleMs: number;
  metrics: SyncMetrics;
  logger: Logger;
  /** A room finished loading (e.g. subscribe to other instances' changes of its document). */
  onLoaded?: (room: Room) => void;
  /** A room is being unloaded and will receive nothing more. */
  onUnloaded?: (room: Room) => void;
  /** Documents loaded at once; beyond it idle rooms are unloaded early, else RoomLimitError. */
  maxRooms?: number;
}

/**
 * What acquire() gives its caller: the room it waits for, and meanwhile the stored state to
 * answer from. The caller awaits them; nothing is called back.
 */
export interface RoomLoad {
  /**
   * The loaded room. The caller must add a connection to it or call release(); until then it is
   * not unloaded. Rejects with RoomLimitError, or with why the document could not be loaded.
   */
  readonly room: Promise<Room>;
  /**
   * The stored state to answer from while the room is still being decoded (see LoadingStage):
   * resolves once the stored bytes are read, or with null if the room is ready (or failed) first.
   * It settles no later than `room`.
   */
  readonly storedState: Promise<StoredStateAnswer | null>;
}

/** Every loaded room is in use and MAX_ROOMS are loaded. */
export class RoomLimitError extends Error {
  override name = 'RoomLimitError';
}

/**
 * Stored documents smaller than this decode in a few milliseconds, less than the loading stage
 * would hold the room back: their clients simply wait for the room.
 */
const EARLY_ANSWER_MIN_BYTES = 16 * 1024;

const byteLength = (parts: readonly Uint8Array[]): number => parts.reduce((sum, part) => sum + part.byteLength, 0);

interface Entry {
  loading: Promise<Room>;
  room: Room | null;
  /** Until the room is built: tells connections when they can answer from the stored bytes. */
  stage: LoadingStage | null;
  idleTimer: NodeJS.Timeout | null;
  /** Set while the room is being unloaded; a new acquire waits for it, then loads afresh. */
  unloading: Promise<void> | null;
  /** Users between acquire() and release() that are not connections (e.g. an API call). */
  holds: number;
}

/**
 * Loads each document once, however many clients arrive at the same moment, and unloads it
 * (after committing and compacting) once nobody has used it for `roomIdleMs`. While a document
 * is being decoded, clients that have nothing can already be answered from its stored bytes
 * (see LoadingStage).
 */
export class RoomRegistry {
  private readonly entries = new Map<string, Entry>();
  private shuttingDown = false;

  private readonly roomOptions: RoomRegistryOptions;

  constructor(private readonly options: RoomRegistryOptions) {
    this.roomOptions = { ...options, onBroken: (room) => void this.unload(room.name, { broken: true }) };
  }

  get loadedRooms(): number {
    return this.entries.size;
  }

  /** The room if it is loaded right now (not loading or unloading). */
  peek(name: string): Room | null {
    const entry = this.entries.get(name);
    return entry && !entry.unloading ? entry.room : null;
  }

  rooms(): Room[] {
    return [...this.entries.values()].flatMap((entry) => (entry.room ? [entry.room] : []));
  }

  /** The room of `name` for a connection, loading it if needed; see RoomLoad for what to do with it. */
  acquire(name: string): RoomLoad {
    const entered = this.enter(name, true);
    return {
      room: entered.then(({ entry }) => this.loaded(entry)),
      storedState: entered.then(
        ({ storedState }) => storedState,
        () => null,
      ),
    };
  }

  /**
   * The entry of `name`, created (and its load started) if needed, held until its room is loaded.
   * A connection's request for the stored state is made here, in the same turn as the load
   * starts: the stage must know of it before it decides that nobody waits for an early answer.
   */
  private async enter(name: string, wantsStoredState: boolean): Promise<{ entry: Entry; storedState: Promise<StoredStateAnswer | null> }> {
    if (this.shuttingDown) throw new Error('server is shutting down');
    let entry = this.entries.get(name);
    while (entry?.unloading || (!entry && this.entries.size >= (this.options.maxRooms ?? Infinity))) {
      await (entry?.unloading ?? this.makeRoom());
      entry = this.entries.get(name);
    }
    if (!entry) {
      const stage = new LoadingStage();
      const created: Entry = { loading: this.load(name, stage), room: null, stage, idleTimer: null, unloading: null, holds: 0 };
      entry = created;
      this.entries.set(name, created);
      this.options.metrics.rooms.set(this.entries.size);
      created.loading.then(
        (room) => {
          created.room = room;
          created.stage = null;
          this.options.onLoaded?.(room);
        },
        () => {
          created.stage = null;
          if (this.entries.get(name) === created) this.entries.delete(name);
          this.options.metrics.rooms.set(this.entries.size);
        },
      );
    }
    entry.holds++;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    return { entry, storedState: (wantsStoredState && entry.stage?.answering()) || Promise.resolve(null) };
  }

  /** The room of an entry once loaded; the entry's hold from enter() ends with the load. */
  private async loaded(entry: Entry): Promise<Room> {
    try {
      return await entry.loading;
    } finally {
      entry.holds--;
    }
  }

  /**
   * The room of `name` once it is loaded, if it is loaded or loading now; null otherwise (also if
   * the load fails). For deletion, which must reach a room whose load read the old content.
   */
  async loadedOrLoading(name: string): Promise<Room | null> {
    const entry = this.entries.get(name);
    if (!entry || entry.unloading) return null;
    return entry.room ?? entry.loading.catch(() => null);
  }

  /**
   * Whether `name` could be loaded now without RoomLimitError: it is loaded or loading, there is
   * room, or an idle room can make room. Lets a route refuse (503) before it changes anything.
   */
  hasRoomFor(name: string): boolean {
    if (this.entries.has(name) || this.entries.size < (this.options.maxRooms ?? Infinity)) return true;
    for (const entry of this.entries.values()) if (entry.unloading || entry.idleTimer) return true;
    return false;
  }

  /** Acquires a room and runs `fn` with it, keeping it loaded meanwhile. */
  async withRoom<T>(name: string, fn: (room: Room) => T | Promise<T>): Promise<T> {
    // An API call answers no client: it does not ask for the stored state (it would hold the decode).
    const { entry } = await this.enter(name, false);
    const room = await this.loaded(entry);
    entry.holds++;
    try {
      return await fn(room);
    } finally {
      entry.holds--;
      this.release(room);
    }
  }

  /** Call when a connection left or an acquire() ended without one: starts the idle countdown. */
  release(room: Room): void {
    const entry = this.entries.get(room.name);
    if (!entry || entry.room !== room || entry.unloading) return;
    if (room.connections.size > 0 || entry.holds > 0 || entry.idleTimer) return;
    entry.idleTimer = setTimeout(() => void this.unload(room.name), this.options.roomIdleMs);
    entry.idleTimer.unref();
  }

  /** Commits, compacts and unloads every room; used on shutdown. */
  async closeAll(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.entries.keys()].map((name) => this.unload(name)));
  }

  /**
   * Reads the document; lets waiting connections answer from the bytes while they are wanted
   * (within the stage's window); then decodes them into the room, which blocks the event loop.
   */
  private async load(name: string, stage: LoadingStage): Promise<Room> {
    const startedAt = performance.now();
    try {
      const stored = await this.options.store.load(name);
      const parts = storedParts(stored);
      const answeringFrom = performance.now();
      if (parts && byteLength(parts) >= EARLY_ANSWER_MIN_BYTES) await stage.answerUntilReleased(parts);
      // The load-time metric is about storage and decoding, not the time given to early answers.
      const answeringMs = performance.now() - answeringFrom;
      return Room.fromStored(name, stored, this.roomOptions, { fullStateFrame: stage.builtFrame, startedAt: startedAt + answeringMs });
    } finally {
      stage.finish();
    }
  }

  /** At MAX_ROOMS: waits for a room being unloaded, or unloads an idle one, or throws RoomLimitError. */
  private makeRoom(): Promise<void> {
    let idle: string | null = null;
    for (const [name, entry] of this.entries) {
      if (entry.unloading) return entry.unloading;
      if (entry.idleTimer && idle === null) idle = name;
    }
    if (idle !== null) return this.unload(idle);
    return Promise.reject(new RoomLimitError(`too many documents open on this server (${this.options.maxRooms}); try again later`));
  }

  /**
   * Commits what is pending, then (unless the room is `broken`: its document holds part of an
   * update that failed) saves its title and compacts, and unloads it. A broken room goes at once,
   * whoever is still connected; the next acquire loads the document afresh from storage.
   */
  private async unload(name: string, { broken = false } = {}): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) return;
    if (entry.unloading) return entry.unloading;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const room = entry.room ?? (await entry.loading.catch(() => null));
    if (!room) return;
    if (!this.shuttingDown && !broken && (room.connections.size > 0 || entry.holds > 0)) return;
    entry.unloading = (async () => {
      try {
        await room.drain();
        if (broken) return;
        await room.saveTitle();
        await room.compact();
      } catch (error) {
        this.options.logger.error({ err: error, document: name }, 'error while unloading a room');
      } finally {
        this.options.onUnloaded?.(room);
        room.destroy();
        this.entries.delete(name);
        this.options.metrics.rooms.set(this.entries.size);
      }
    })();
    return entry.unloading;
  }
}
