import { setTimeout as delay } from 'node:timers/promises';
import * as Y from 'yjs';
import type { StoredDocument } from '../storage/types.js';
import { decodeClientMessage, encodeFrame, writeSyncStep2 } from './protocol.js';

/**
 * How long after the stored bytes are read the decode waits for clients to ask for them and for the
 * answers to reach their sockets (building the full state, if it has to be merged, does not count).
 * The decode blocks the event loop: an answer still buffered in this process would wait for it.
 */
const ANSWER_WINDOW_MS = 100;
/**
 * Clients that connect together (a crowd after a restart) are accepted one after the other: the
 * decode also waits until nobody joined for this long, so that the whole crowd is answered early.
 */
const QUIET_MS = 10;
/** Sockets offer no event for "everything written", so the holds are checked this often. */
const POLL_MS = 1;

/** What a connection waiting for its room gets once the room's stored bytes are read. */
export interface StoredStateAnswer {
  /**
   * Sync step 2 with everything committed: the reply to a sync step 1 with an empty state vector.
   * Null once the room is built: from then on the room answers.
   */
  fullStateFrame(): Uint8Array | null;
  /**
   * Keeps the decode waiting until `settled()` returns true (or the answer window closes). A
   * connection that wants its answer out before the decode calls it as soon as it has the answer,
   * before any timer runs (the decode waits at least QUIET_MS after the last connection was told,
   * so that is in time); one that does not call it does not hold the decode.
   */
  holdDecodeUntil(settled: () => boolean): void;
}

/**
 * The part of a room's load between reading its stored bytes and decoding them into a Y.Doc, which
 * blocks the event loop for as long as the document is large. Connections waiting for the room ask
 * for the stored state (answering()), and get it once it is read, so that a client that has nothing
 * is answered from the bytes meanwhile; the decode waits, within a short window, until those
 * answers have left the process.
 */
export class LoadingStage {
  private state: 'reading' | 'answering' | 'done' = 'reading';
  /** Connections that asked while the bytes were being read, told when they are (or at finish()). */
  private waiting: Array<(answer: StoredStateAnswer | null) => void> = [];
  /** Connections given the answer; while there are none, nothing holds the decode. */
  private told = 0;
  private holds: Array<() => boolean> = [];
  private parts: Uint8Array[] | null = null;
  private frame: Uint8Array | null = null;
  private deadline = 0;
  private lastJoinedAt = 0;
  private readonly answer: StoredStateAnswer = {
    fullStateFrame: () => this.fullStateFrame(),
    holdDecodeUntil: (settled) => {
      if (this.state === 'answering') this.holds.push(settled);
    },
  };

  /** The full-state frame if a client asked for it, for the room to keep answering with. */
  get builtFrame(): Uint8Array | null {
    return this.frame;
  }

  /**
   * The stored state to answer from, once it can be: already resolved while the stage answers,
   * resolved when the bytes are read while it reads them, null once the room is built (or failed).
   */
  answering(): Promise<StoredStateAnswer | null> {
    if (this.state === 'answering') return Promise.resolve(this.tell());
    if (this.state === 'done') return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Answers from `parts` (everything stored, see storedParts) and resolves once every hold has
   * settled or the window has closed; the caller decodes the document after that.
   */
  async answerUntilReleased(parts: Uint8Array[]): Promise<void> {
    this.parts = parts;
    this.state = 'answering';
    this.lastJoinedAt = performance.now();
    this.deadline = this.lastJoinedAt + ANSWER_WINDOW_MS;
    for (const resolve of this.waiting.splice(0)) resolve(this.tell());
    while (performance.now() < this.deadline && !this.released()) await delay(POLL_MS);
  }

  /** The room is built, or failed to load: connections arriving from now on wait for it. */
  finish(): void {
    this.state = 'done';
    for (const resolve of this.waiting.splice(0)) resolve(null);
    this.holds = [];
    this.parts = null;
    this.frame = null;
  }

  private tell(): StoredStateAnswer {
    this.told++;
    this.lastJoinedAt = performance.now();
    return this.answer;
  }

  /** Nobody joined lately, and every hold has settled; nothing to wait for if nobody was told. */
  private released(): boolean {
    if (this.told === 0) return true;
    return performance.now() - this.lastJoinedAt >= QUIET_MS && this.holds.every((settled) => settled());
  }

  private fullStateFrame(): Uint8Array | null {
    if (this.state !== 'answering' || !this.parts) return null;
    if (this.frame) return this.frame;
    const started = performance.now();
    try {
      this.frame = encodeFrame(writeSyncStep2, mergedState(this.parts));
    } catch {
      // Bytes Yjs cannot merge: the decode will say what is wrong; nobody is answered early.
      this.parts = null;
      return null;
    }
    // Merging is paid once; the window is for waiting on clients, not on us.
    this.deadline += performance.now() - started;
    return this.frame;
  }
}

/**
 * Everything stored as the parts to merge into one update, or null when there is nothing stored
 * (an empty document decodes in no time; it is not worth a window).
 */
export function storedParts(stored: StoredDocument): Uint8Array[] | null {
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
  return parts.length > 0 ? parts : null;
}

/** One update holding all of `parts`, merged on bytes: about half the cost of decoding them into a Y.Doc. */
function mergedState(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Y.mergeUpdates([...parts]);
}

/** How a frame queued while its room loads bears on answering the client from the stored state. */
export type EarlyFrameKind = 'full-state-request' | 'inert' | 'barrier';

/**
 * A sync step 1 with an empty state vector (the single byte 0) asks for everything; frames that
 * cannot change the document may be passed over to reach it; anything else (an update, a step 1
 * that needs a diff against the document, a malformed frame) must be handled by the room first.
 */
export function classifyEarlyFrame(frame: Uint8Array): EarlyFrameKind {
  let message;
  try {
    message = decodeClientMessage(frame);
  } catch {
    return 'barrier';
  }
  switch (message.kind) {
    case 'sync-step1':
      return message.stateVector.length === 1 && message.stateVector[0] === 0 ? 'full-state-request' : 'barrier';
    case 'awareness':
    case 'query-awareness':
    case 'subscribe-saved':
    case 'auth':
      return 'inert';
    default:
      return 'barrier';
  }
}
