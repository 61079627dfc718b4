import type { WebSocket } from 'ws';
import { CloseCode, documentNameProblem } from '../../shared/protocol.js';
import { AuthError, requireDocument, type Access, type Authenticator } from '../auth/authenticator.js';
import type { Slot } from '../limits/connection-limiter.js';
import { RateLimiter } from '../limits/rate-limiter.js';
import { ProtocolError, encodeFrame } from '../sync/protocol.js';
import { RoomAttachment, type AttachOptions } from '../sync/room-attachment.js';
import { closeReason } from '../http/ws-transport.js';
import {
  decodeHocuspocusFrame,
  documentNameOfKey,
  writeAuthenticated,
  writeKeyedMessage,
  writePermissionDenied,
  writePing,
  writeServerClose,
  writeSyncStatus,
  type HocuspocusClientMessage,
} from './hocuspocus-codec.js';
import { HocuspocusTransport, type HocuspocusCarrier } from './hocuspocus-transport.js';

export interface HocuspocusSocketOptions extends AttachOptions {
  auth: Authenticator;
  /** Sends one binary message on a socket (the endpoint's shared frame sender). */
  sendFrame(ws: WebSocket, payload: Uint8Array): void;
  /** A socket with no authenticated document this long after it opened is closed (4408). */
  authTimeoutMs: number;
}

/**
 * Documents (open, waiting for authentication, or refused) one socket may hold: each open one is a
 * connection to a room with its own rate limits, so a socket counts as at most this many
 * connections; Hocuspocus' own server allows 100 unauthenticated ones.
 */
export const MAX_DOCUMENTS_PER_SOCKET = 100;
/**
 * Frames and bytes a socket may send for documents not yet authenticated. A provider sends three
 * frames per document before the answer to its Auth (Auth, sync step 1, its awareness), plus the
 * edits typed meanwhile; 4 MiB holds a large paste. Beyond: closed with 4429.
 */
export const MAX_QUEUED_FRAMES = 1_000;
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Close codes that concern one document only and that reconnecting would not cure: the document
 * alone is ended (a Close message; the socket's other documents go on). Any other code (token
 * expired, slow consumer, rate limit, document reloading, storage down, restart) closes the socket,
 * because what the provider must do then is reconnect, and it only does that for the whole socket.
 */
const DOCUMENT_ONLY_CODES: ReadonlySet<number> = new Set([CloseCode.BadRequest, CloseCode.Forbidden, CloseCode.NotFound]);

type DocumentEntry =
  /** Waiting for its Auth message, or for the token's verification; frames queued meanwhile. */
  | { state: 'pending'; queue: Uint8Array[]; queuedBytes: number; authorizing: boolean }
  | { state: 'open'; transport: HocuspocusTransport }
  /** Permission denied, or ended by the server: frames dropped until the client authenticates again. */
  | { state: 'refused' };

/** The server's messages, keyed, shared by every socket: a broadcast to N providers of one document is wrapped once. */
const keyedFrames = new WeakMap<Uint8Array, { key: string; frame: Uint8Array }>();

const PING = encodeFrame(writePing);

/**
 * One WebSocket speaking the Hocuspocus protocol: several documents multiplexed over it, each
 * authorised by its own Auth message and, once authorised, attached to its room through a
 * HocuspocusTransport. Frames that reach no room (Auth, Stateless, Close, Pong, frames waiting for
 * authentication) count against the socket's own rate limits.
 */
export class HocuspocusSocket implements HocuspocusCarrier {
  private readonly documents = new Map<string, DocumentEntry>();
  private queuedFrames = 0;
  private queuedBytes = 0;
  /** Pauses in force (documents over their rate, and the socket's own); reading resumes at 0. */
  private pauses = 0;
  private readonly rate: RateLimiter | null;
  private resumeTimer: NodeJS.Timeout | null = null;
  private authTimer: NodeJS.Timeout | null;
  private closed = false;
  /** A 4.x provider announced its version: it answers Ping (a 3.x one would fail to read it). */
  private answersPing = false;
  lastSentAt = performance.now();

  constructor(
    readonly ws: WebSocket,
    /** The connection limiter's place, freed when the socket closes. */
    readonly slot: Slot,
    private readonly options: HocuspocusSocketOptions,
  ) {
    this.rate = options.rateLimits ? RateLimiter.create(options.rateLimits) : null;
    this.authTimer = setTimeout(() => {
      this.authTimer = null;
      options.metrics.refused.inc({ reason: 'handshake timeout' });
      this.close(CloseCode.Timeout, 'no document was authenticated in time');
    }, options.authTimeoutMs);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Handles one binary frame from the client. Never throws. */
  receive(frame: Uint8Array): void {
    if (this.closed) return;
    let message: HocuspocusClientMessage;
    try {
      message = decodeHocuspocusFrame(frame);
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : 'malformed frame';
      this.options.metrics.protocolErrors.inc({ reason: 'protocol' });
      this.options.logger.warn({ reason }, 'closing Hocuspocus socket after a bad frame');
      this.close(CloseCode.BadRequest, reason);
      return;
    }
    if (message.kind === 'pong') {
      this.pace(frame.byteLength);
      return;
    }
    const entry = this.documents.get(message.key);
    if (entry?.state === 'open' && message.kind === 'yjs') {
      // Counted against the document's own rate limits by its attachment.
      entry.transport.attachment!.receive(message.message);
      return;
    }
    if (!this.pace(frame.byteLength)) return;
    switch (message.kind) {
      case 'auth':
        this.authenticate(message.key, entry, message.token, message.providerVersion);
        return;
      case 'close':
        this.detach(message.key, entry);
        return;
      case 'stateless':
        // Accepted and ignored: the server has no stateless hooks (Hocuspocus' default too).
        this.options.metrics.messagesIn.inc({ type: 'stateless' });
        return;
      case 'yjs':
        if (entry?.state !== 'refused') this.queue(message.key, entry, message.message);
        return;
    }
  }

  /** The socket closed, however it went: every document leaves its room. */
  socketClosed(): void {
    if (this.closed && this.documents.size === 0) return;
    this.closed = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.authTimer = this.resumeTimer = null;
    for (const entry of this.documents.values()) if (entry.state === 'open') entry.transport.end();
    this.documents.clear();
    this.queuedFrames = this.queuedBytes = 0;
  }

  /** Closes the whole socket (every document on it). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // A paused socket could not read the client's answering close frame (see WebSocketTransport).
    if (this.ws.isPaused) this.ws.resume();
    this.ws.close(code, closeReason(reason));
  }

  /** Sends a Ping if nothing was sent for `idleMs` (4.x providers only). */
  keepAlive(idleMs: number, now: number): void {
    if (this.answersPing && !this.closed && now - this.lastSentAt >= idleMs) this.send(PING);
  }

  sendKeyed(key: string, message: Uint8Array): void {
    let keyed = keyedFrames.get(message);
    if (keyed?.key !== key) {
      keyed = { key, frame: encodeFrame(writeKeyedMessage, key, message) };
      keyedFrames.set(message, keyed);
    }
    this.send(keyed.frame);
  }

  sendSyncStatus(key: string, applied: boolean): void {
    this.send(encodeFrame(writeSyncStatus, key, applied));
  }

  closeDocument(transport: HocuspocusTransport, code: number, reason: string): void {
    if (!DOCUMENT_ONLY_CODES.has(code)) {
      this.close(code, reason);
      return;
    }
    const entry = this.documents.get(transport.key);
    if (entry?.state === 'open' && entry.transport === transport) this.documents.set(transport.key, { state: 'refused' });
    this.send(encodeFrame(writeServerClose, transport.key, reason));
    // Later, not inside whatever room code is closing it (a broadcast, a deletion) to leave the room.
    queueMicrotask(() => transport.end());
  }

  pauseReading(): void {
    if (this.pauses++ === 0 && !this.closed) this.ws.pause();
  }

  resumeReading(): void {
    if (--this.pauses === 0) this.ws.resume();
  }

  private send(frame: Uint8Array): void {
    if (this.closed) return;
    this.lastSentAt = performance.now();
    this.options.sendFrame(this.ws, frame);
  }

  /** Counts a frame no room accounts for against the socket's own rate: false if the socket is closed for it. */
  private pace(bytes: number): boolean {
    const verdict = this.rate?.account(bytes);
    if (!verdict) return true;
    if ('refusal' in verdict) {
      this.options.metrics.refused.inc({ reason: 'rate limit' });
      this.close(CloseCode.TooManyRequests, verdict.refusal);
      return false;
    }
    if (!this.resumeTimer) {
      this.options.metrics.readsPaused.inc();
      this.pauseReading();
      this.resumeTimer = setTimeout(() => this.resumeAfterPace(), verdict.pauseMs);
    }
    return true;
  }

  private resumeAfterPace(): void {
    const wait = this.rate!.resumeDelay();
    if (wait > 0 && !this.closed) {
      this.resumeTimer = setTimeout(() => this.resumeAfterPace(), wait);
      return;
    }
    this.resumeTimer = null;
    this.rate!.resumed();
    this.resumeReading();
  }

  /** A new document on this socket, or null (and the socket closed) when it holds too many. */
  private addPending(key: string): Extract<DocumentEntry, { state: 'pending' }> | null {
    if (!this.documents.has(key) && this.documents.size >= MAX_DOCUMENTS_PER_SOCKET) {
      this.options.metrics.refused.inc({ reason: 'documents per socket' });
      this.close(CloseCode.TooManyRequests, `more than ${MAX_DOCUMENTS_PER_SOCKET} documents on one connection`);
      return null;
    }
    const entry = { state: 'pending' as const, queue: [], queuedBytes: 0, authorizing: false };
    this.documents.set(key, entry);
    return entry;
  }

  private queue(key: string, entry: DocumentEntry | undefined, message: Uint8Array): void {
    const pending = entry?.state === 'pending' ? entry : this.addPending(key);
    if (!pending) return;
    if (this.queuedFrames + 1 > MAX_QUEUED_FRAMES || this.queuedBytes + message.byteLength > MAX_QUEUED_BYTES) {
      this.options.metrics.refused.inc({ reason: 'frames before authentication' });
      this.close(CloseCode.TooManyRequests, 'too much sent before authentication');
      return;
    }
    pending.queue.push(message);
    pending.queuedBytes += message.byteLength;
    this.queuedFrames++;
    this.queuedBytes += message.byteLength;
  }

  private unqueue(entry: Extract<DocumentEntry, { state: 'pending' }>): Uint8Array[] {
    this.queuedFrames -= entry.queue.length;
    this.queuedBytes -= entry.queuedBytes;
    const queued = entry.queue;
    entry.queue = [];
    entry.queuedBytes = 0;
    return queued;
  }

  /** The provider detached the document (or gave up on it before it was authorised). */
  private detach(key: string, entry: DocumentEntry | undefined): void {
    if (!entry) return;
    this.documents.delete(key);
    if (entry.state === 'pending') this.unqueue(entry);
    if (entry.state === 'open') entry.transport.end();
  }

  private authenticate(key: string, entry: DocumentEntry | undefined, token: string, providerVersion: string | null): void {
    if (entry?.state === 'open') return; // A token sent again for an open document changes nothing (its access was decided).
    if (entry?.state === 'pending' && entry.authorizing) return;
    const pending = entry?.state === 'pending' ? entry : this.addPending(key);
    if (!pending) return;
    pending.authorizing = true;
    if (providerVersion !== null) this.answersPing = true;
    this.authorize(key, pending, token).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'Hocuspocus authentication failed');
      this.close(CloseCode.InternalError, 'internal server error');
    });
  }

  private async authorize(key: string, pending: Extract<DocumentEntry, { state: 'pending' }>, token: string): Promise<void> {
    const name = documentNameOfKey(key);
    let access: Access;
    try {
      const problem = documentNameProblem(name);
      if (problem) throw new AuthError(403, problem);
      access = await this.options.auth.authenticate(token === '' ? null : token);
      requireDocument(access, name);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      this.options.metrics.refused.inc({ reason: error.status === 401 ? 'unauthenticated' : 'forbidden' });
      if (this.closed || this.documents.get(key) !== pending) return;
      this.unqueue(pending);
      this.documents.set(key, { state: 'refused' });
      this.send(encodeFrame(writePermissionDenied, key, error.message));
      return;
    }
    // Detached, or the socket gone, while the token was checked.
    if (this.closed || this.documents.get(key) !== pending) return;
    this.send(encodeFrame(writeAuthenticated, key, access.canWrite ? 'read-write' : 'readonly'));
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    const transport = new HocuspocusTransport(this, key, name);
    this.documents.set(key, { state: 'open', transport });
    const attachment = new RoomAttachment(name, transport, access, this.options);
    transport.attachment = attachment;
    // Ends the document when its token expires or is revoked.
    transport.untrack = this.options.auth.sessions.track(access, (code, reason) => {
      this.options.metrics.refused.inc({ reason });
      attachment.connection.close(code, reason);
    });
    for (const message of this.unqueue(pending)) attachment.receive(message);
  }
}
