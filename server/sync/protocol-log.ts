import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { MessageType } from '../../shared/protocol.js';
import { readAccess, readSavedState } from '../../shared/saved-state.js';
import { grants } from '../auth/patterns.js';
import type { Logger } from '../logger.js';
import { decodeAwarenessUpdate, decodeClientMessage } from './protocol.js';

/**
 * LOG_PROTOCOL: a one-line summary of every frame of the documents it names, both directions,
 * for debugging a misbehaving client. A summary has the message type and sub-type, the size, and
 * the Yjs client ids with their clocks (from an update's structure, a state vector, an awareness
 * update's entries); never text, attributes, awareness states (user names, cursors) or tokens.
 * Connections of other documents pay one null check per frame.
 */

export type Direction = 'in' | 'out';

/** At most this many clients are listed per frame (a merged update can carry thousands); `moreClients` counts the rest. */
const MAX_CLIENTS_LISTED = 20;

export interface FrameSummary {
  /** `sync`, `awareness`, `auth`, `query-awareness`, `saved-state`, `access`, or `malformed` (also an unknown type). */
  type: string;
  /** Sync: `step1`, `step2`, `update`; saved-state: `subscribe` or `state`. */
  subtype?: string;
  bytes: number;
  /** Update (sync step 2, update): client id → [first clock, end clock) of its new structs. */
  structs?: Record<string, [number, number]>;
  /** Update: how many items its delete set deletes (characters, for text). */
  deleted?: number;
  /** State vector (sync step 1, saved state): client id → clock. */
  stateVector?: Record<string, number>;
  /** Awareness: client id → clock; a removed client (state null) as a negative clock. */
  awareness?: Record<string, number>;
  /** Clients beyond MAX_CLIENTS_LISTED. */
  moreClients?: number;
  /** Access flags (server → our editor). */
  canWrite?: boolean;
}

function stateVectorSummary(summary: FrameSummary, bytes: Uint8Array): void {
  const entries = [...Y.decodeStateVector(bytes)];
  summary.stateVector = Object.fromEntries(entries.slice(0, MAX_CLIENTS_LISTED).map(([client, clock]) => [String(client), clock]));
  if (entries.length > MAX_CLIENTS_LISTED) summary.moreClients = entries.length - MAX_CLIENTS_LISTED;
}

/**
 * Clients and clock ranges of an update, and the size of its delete set. Yjs has no way to skip a
 * struct without reading it (its length depends on its content), so Y.decodeUpdate reads them;
 * only ids, clocks and lengths are kept, and nothing of the content leaves this function.
 */
function updateSummary(summary: FrameSummary, update: Uint8Array): void {
  const { structs, ds } = Y.decodeUpdate(update);
  const ranges = new Map<number, [number, number]>();
  for (const struct of structs) {
    if (struct instanceof Y.Skip) continue;
    const { client, clock } = struct.id;
    const range = ranges.get(client);
    if (!range) ranges.set(client, [clock, clock + struct.length]);
    else range[1] = Math.max(range[1], clock + struct.length);
  }
  const clients = [...ranges.keys()];
  summary.structs = Object.fromEntries(clients.slice(0, MAX_CLIENTS_LISTED).map((client) => [String(client), ranges.get(client)!]));
  if (clients.length > MAX_CLIENTS_LISTED) summary.moreClients = clients.length - MAX_CLIENTS_LISTED;
  let deleted = 0;
  for (const items of ds.clients.values()) for (const item of items) deleted += item.len;
  summary.deleted = deleted;
}

/** Awareness entries' client ids and clocks; their states (names, cursors) are not kept. */
function awarenessSummary(summary: FrameSummary, update: Uint8Array): void {
  const entries = decodeAwarenessUpdate(update);
  summary.awareness = Object.fromEntries(entries.slice(0, MAX_CLIENTS_LISTED).map((entry) => [String(entry.clientId), entry.stateJson === 'null' ? -entry.clock : entry.clock]));
  if (entries.length > MAX_CLIENTS_LISTED) summary.moreClients = entries.length - MAX_CLIENTS_LISTED;
}

/**
 * What a frame is, from its structure alone, read with the protocol's own readers (the client
 * messages' decoder also reads the server's sync and awareness frames, which have the same form).
 * Never throws: a frame it cannot read is `malformed`.
 */
export function summarizeFrame(frame: Uint8Array): FrameSummary {
  const bytes = frame.byteLength;
  try {
    const decoder = decoding.createDecoder(frame);
    const type = decoding.readVarUint(decoder);
    if (type === MessageType.SavedState && decoding.hasContent(decoder)) {
      const summary: FrameSummary = { type: 'saved-state', subtype: 'state', bytes };
      stateVectorSummary(summary, readSavedState(decoder));
      return summary;
    }
    if (type === MessageType.Access) return { type: 'access', bytes, canWrite: readAccess(decoder).canWrite };
    const message = decodeClientMessage(frame);
    switch (message.kind) {
      case 'sync-step1': {
        const summary: FrameSummary = { type: 'sync', subtype: 'step1', bytes };
        stateVectorSummary(summary, message.stateVector);
        return summary;
      }
      case 'sync-step2':
      case 'sync-update': {
        const summary: FrameSummary = { type: 'sync', subtype: message.kind === 'sync-step2' ? 'step2' : 'update', bytes };
        updateSummary(summary, message.update);
        return summary;
      }
      case 'awareness': {
        const summary: FrameSummary = { type: 'awareness', bytes };
        awarenessSummary(summary, message.update);
        return summary;
      }
      case 'subscribe-saved':
        return { type: 'saved-state', subtype: 'subscribe', bytes };
      case 'query-awareness':
      case 'auth':
        return { type: message.kind, bytes };
    }
  } catch {
    return { type: 'malformed', bytes };
  }
}

/** Logs the frames of one document's connections. */
export interface FrameLog {
  frame(connection: number, direction: Direction, frame: Uint8Array): void;
}

export interface ProtocolLog {
  /** The log of a document's frames, or null if LOG_PROTOCOL does not name it. */
  forDocument(name: string): FrameLog | null;
}

/** LOG_PROTOCOL's patterns (as in tokens: `team/*`, `*`); null when unset. */
export function createProtocolLog(patterns: readonly string[] | null, logger: Logger): ProtocolLog | null {
  if (!patterns || patterns.length === 0) return null;
  const log = logger.child({ protocol: true });
  return {
    forDocument(document) {
      if (!grants(patterns, document)) return null;
      return {
        frame(connection, direction, frame) {
          log.info({ document, connection, direction, ...summarizeFrame(frame) }, 'frame');
        },
      };
    },
  };
}
