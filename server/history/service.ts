import { randomBytes } from 'node:crypto';
import type { Node as PMNode } from 'prosemirror-model';
import { loadDiff } from '../content/lazy.js';
import type { Author, EventBus } from '../events.js';
import type { Logger } from '../logger.js';
import type { DocumentStore } from '../storage/types.js';
import type { AddOutcome, VersionKind, VersionRecord, VersionStore } from '../storage/version-store.js';
import type { ConnectionAccess } from '../sync/connection.js';
import type { Room } from '../sync/room.js';
import type { RoomRegistry } from '../sync/room-registry.js';
import { editorName } from '../webhooks/payload.js';
import { systemClock, type Clock } from './clock.js';
import type { HistoryConfig } from './config.js';
import { VersionPolicy } from './policy.js';
import { versionsToThin } from './retention.js';
import { decodeVersionState, encodeVersionState } from './version-state.js';

export interface HistoryOptions {
  config: HistoryConfig;
  /** The version part of the document store; absent: version history is off. */
  store: VersionStore | undefined;
  documents: Pick<DocumentStore, 'info'>;
  registry: Pick<RoomRegistry, 'withRoom' | 'peek'>;
  events: EventBus;
  logger: Logger;
  /** True when the server runs without AUTH_SECRET (authors are then named by display name). */
  open: boolean;
  clock?: Clock;
}

export interface RestoreResult {
  /** The version whose content the document now has. */
  restored: VersionRecord;
  /** The version of the content just before, recorded first (restoring it undoes the restore). */
  before: VersionRecord;
}

export interface History {
  readonly enabled: boolean;
  /** The document's versions, newest first; null if there is no such document. */
  list(document: string, limit: number): Promise<VersionRecord[] | null>;
  /** Saves the current content as a version named `label`; null if there is no such document. */
  save(document: string, label: string, by: Author): Promise<VersionRecord | null>;
  /** One version; null if the document or the version does not exist. */
  version(document: string, id: string): Promise<VersionRecord | null>;
  /** A version and its content; null if the document or the version does not exist. */
  content(document: string, id: string): Promise<{ version: VersionRecord; doc: PMNode } | null>;
  /** Names an existing version; null if there is none. */
  setLabel(document: string, id: string, label: string): Promise<VersionRecord | null>;
  /**
   * Makes the document's content equal to the version's, as a new edit on top of the present
   * (never by rewinding CRDT state), after recording the content just before as a version.
   * Null if the document or the version does not exist.
   */
  restore(document: string, id: string, access: ConnectionAccess): Promise<RestoreResult | null>;
  /** Starts the policy (automatic versions). */
  start(): void;
  /** Records what is pending and stops; call while rooms are still loaded (shutdown). */
  stop(): Promise<void>;
}

/** Versions read for thinning at most (retention keeps a few hundred a year per document). */
const MAX_THINNING_SCAN = 10_000;

/** See recordBefore. */
const RESTORE_CAPTURES = 3;

const newVersionId = () => `v_${randomBytes(12).toString('base64url')}`;

/**
 * Version history: the policy (policy.ts) decides when automatic versions are recorded; this
 * reads the document through its room (so what is recorded is what clients see, caught up with
 * other instances) and writes through the store, then thins by retention; restore writes through
 * Room.applyExternal like any client's edit.
 */
export function createHistory(options: HistoryOptions): History {
  const { store, documents, registry, logger } = options;
  const clock = options.clock ?? systemClock;
  if (!store) {
    logger.warn('this storage backend keeps no versions: version history is off');
    const off = async () => null;
    return { enabled: false, list: off, save: off, version: off, content: off, setLabel: off, restore: off, start() {}, stop: async () => {} };
  }

  const withExisting = async <T>(document: string, fn: (room: Room) => Promise<T>): Promise<T | null> => {
    if (!(await documents.info(document))) return null;
    return registry.withRoom(document, async (room) => {
      await room.catchUp();
      await room.committed();
      return fn(room);
    });
  };

  /** The room's committed content, encoded; synchronous from the caller's last await, so state and seq agree. */
  const capture = (room: Room) => ({ state: encodeVersionState(room.doc), seq: room.committedSeq });

  const thin = async (document: string) => {
    const versions = await store.list(document, MAX_THINNING_SCAN);
    const drop = versionsToThin(versions, clock.now(), options.config.retention);
    if (drop.length > 0) await store.thin(document, drop);
  };

  const add = async (document: string, kind: VersionKind, label: string | null, authors: string[], captured: { state: Uint8Array; seq: number }, minSpacingMs = 0) => {
    const outcome = await store.add({ id: newVersionId(), document, createdAt: clock.now(), label, kind, authors, ...captured }, { minSpacingMs });
    if (outcome.status === 'added') {
      await thin(document).catch((error: unknown) => logger.warn({ err: error, document }, 'could not thin versions; trying after the next one'));
    }
    return outcome;
  };

  const policy = new VersionPolicy({
    intervalMs: options.config.intervalMs,
    events: options.events,
    clock,
    logger,
    open: options.open,
    hasConnections: (document) => (registry.peek(document)?.connections.size ?? 0) > 0,
    record: async (document, authors, minSpacingMs): Promise<AddOutcome | null> =>
      withExisting(document, async (room) => add(document, 'automatic', null, authors, capture(room), minSpacingMs)),
  });

  /** Runs `fn` with the authors of the edits not yet in a version; gives them back if it fails. */
  const withPendingAuthors = async <T>(document: string, fn: (authors: string[]) => Promise<T>): Promise<T> => {
    const authors = policy.take(document);
    try {
      return await fn(authors);
    } catch (error) {
      policy.putBack(document, authors);
      throw error;
    }
  };

  /**
   * Records the content a restore is about to replace. Storing takes a moment, during which
   * people may type: if the content changed meanwhile, it is recorded again (at most
   * RESTORE_CAPTURES times), so that the version is the state the restore edit is applied to.
   */
  const recordBefore = async (document: string, room: Room, authors: string[]): Promise<VersionRecord> => {
    let captured = capture(room);
    for (let attempt = 1; ; attempt++) {
      const outcome = await add(document, 'restore', null, authors, captured);
      if (outcome.status !== 'added') throw new Error(`the version before the restore was not recorded (${outcome.status})`);
      const now = capture(room);
      if (attempt >= RESTORE_CAPTURES || Buffer.compare(now.state, captured.state) === 0) return outcome.version;
      captured = now;
    }
  };

  const added = (outcome: AddOutcome): VersionRecord | null => (outcome.status === 'added' ? outcome.version : null);

  return {
    enabled: true,
    async list(document, limit) {
      if (!(await documents.info(document))) return null;
      return store.list(document, limit);
    },
    save: (document, label, by) =>
      withExisting(document, (room) => {
        const captured = capture(room);
        return withPendingAuthors(document, async (authors) => {
          const everyone = authors.includes(editorName(by, options.open)) ? authors : [...authors, editorName(by, options.open)];
          return added(await add(document, 'manual', label, everyone, captured));
        });
      }).then((version) => version ?? null),
    async version(document, id) {
      return (await store.read(document, id))?.version ?? null;
    },
    async content(document, id) {
      const read = await store.read(document, id);
      return read ? { version: read.version, doc: decodeVersionState(read.state) } : null;
    },
    setLabel: (document, id, label) => store.setLabel(document, id, label),
    async restore(document, id, access) {
      // Loaded before the room is entered: from the diff to the apply below nothing may wait.
      const { diffUpdate } = await loadDiff();
      return withExisting(document, async (room) => {
        const read = await store.read(document, id);
        if (!read) return null;
        const target = decodeVersionState(read.state);
        const before = await withPendingAuthors(document, (authors) => recordBefore(document, room, authors));
        // From the diff to applyExternal's check and apply nothing else runs: the edit is computed
        // from the state it is applied to, which `before` holds (unless typing never paused, see recordBefore).
        const update = diffUpdate(room.encodeState(), target);
        if (update) {
          await room.applyExternal(update, access);
          await Promise.all([room.saveTitle(), room.saveText()]);
        }
        return { restored: read.version, before };
      });
    },
    start: () => policy.start(),
    stop: () => policy.flush(),
  };
}
