import type { IncomingMessage } from 'node:http';
import * as decoding from 'lib0/decoding';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import * as Y from 'yjs';
import { HttpFrameError, SESSION_HEADER, SESSION_ID_PATTERN, encodeStreamRecord, readMessageBatch, readStreamRequest, type MessageBatch, type StreamRequest } from '../../shared/http-frames.js';
import { CloseCode, SYNC_PATH } from '../../shared/protocol.js';
import { writeSubscribeSaved } from '../../shared/saved-state.js';
import { AuthError, requireDocument, type Access, type Authenticator } from '../auth/authenticator.js';
import { originProblem } from '../auth/origin.js';
import { clientAddress, type ConnectionLimiter } from '../limits/connection-limiter.js';
import type { UntrustedProxyCheck } from '../limits/untrusted-proxy.js';
import { RoomAttachment, type AttachOptions } from '../sync/room-attachment.js';
import type { Room } from '../sync/room.js';
import { encodeFrame, writeQueryAwareness, writeSyncStep1, writeSyncStep2 } from '../sync/protocol.js';
import { refuse, refusalHeaders, requestHead } from './auth.js';
import { HttpSession } from './http-session.js';
import { documentNameFromPath, targetPathname } from './sync.js';

export interface HttpSyncOptions extends AttachOptions {
  auth: Authenticator;
  /** The same limiter as the WebSocket endpoint's: a session counts as one connection. */
  limiter: ConnectionLimiter;
  trustProxy: boolean;
  untrustedProxy: UntrustedProxyCheck;
  /** Largest message (MAX_MESSAGE_BYTES); a request body may hold this plus framing. */
  maxMessageBytes: number;
  /** A session with no stream and no request this long is forgotten (default 60 s). */
  idleMs?: number;
  /** A stream quiet this long gets a heartbeat record (default 15 s: under proxies' usual 30–60 s read timeouts). */
  heartbeatMs?: number;
  /** A stream is ended after this long and the client opens the next (default 50 s; see README). */
  maxStreamMs?: number;
  /**
   * Answer a send only once what it carried is committed (with several instances). A request
   * carries every message the client has had no answer for, so the instance it reaches has the
   * client's own edits that its new ones build on, except those answered already: answered after
   * their commit, those are relayed or in storage wherever the next request lands, rather than
   * missing there (Yjs would hold the new edits back for want of them). One instance alone answers as soon as the messages
   * are in the room: nothing is lost either way (the client keeps its edits, and every stream
   * begins with the room's state vector, which the client answers with whatever the server lacks).
   */
  ackAfterCommit?: boolean;
}

export interface HttpSync {
  /** POST routes for `/sync/<document>?op=stream|send|close`; mount at SYNC_PATH. */
  routes: Hono;
  /** Every session of this instance. */
  sessions(): IterableIterator<HttpSession>;
  /** Stops the upkeep timer. */
  stop(): void;
}

/** Messages per request; the client sends fewer (it batches what the provider sent meanwhile). */
const MAX_BATCH_MESSAGES = 1_000;
/** Request framing beyond the messages' own bytes. */
const FRAMING_BYTES = 64 * 1024;
/** Closed sessions remembered (with why) for their client's next request, and for how long. */
const MAX_CLOSED_REMEMBERED = 10_000;
/** Closes that are no decision about the client (idle, restart): its next request simply starts afresh. */
const TRANSIENT_CLOSES: ReadonlySet<number> = new Set([CloseCode.GoingAway, CloseCode.ServiceRestart]);
const UPKEEP_INTERVAL_MS = 2_000;
/** A send whose `after` the room lacks waits for the relay this long, then reads storage... */
const AFTER_WAIT_CATCH_UP_MS = 100;
/** ...and goes ahead after this long at most. */
const AFTER_WAIT_MAX_MS = 2_000;

const QUERY_AWARENESS = encodeFrame(writeQueryAwareness);
const SUBSCRIBE_SAVED = encodeFrame(writeSubscribeSaved);

/**
 * The HTTP fallback transport's server side: clients whose WebSocket cannot get through (a proxy
 * that strips `Upgrade`) speak the same y-websocket messages over plain requests to the same URL.
 *
 *   POST /sync/<document>?op=stream  body: cursor (a state vector) → a long response of records
 *   POST /sync/<document>?op=send    body: numbered messages       → { "next": <first seq not yet handled> }
 *   POST /sync/<document>?op=close                                  → 204
 *
 * Every request carries the session id (`X-Collab-Session`) and is checked like a WebSocket
 * upgrade: Host and Origin, the token (`Authorization: Bearer` or the `collab_token` cookie, never
 * the URL), the document grant. Consecutive requests of a session may reach different instances
 * (no sticky sessions): each instance keeps its own HttpSession for the id, attached to its room
 * like a WebSocket connection, and a stream starts, wherever it lands, with everything the room
 * has beyond the client's cursor (see catchUp).
 */
export function createHttpSync(options: HttpSyncOptions): HttpSync {
  const { auth, limiter, metrics } = options;
  const idleMs = options.idleMs ?? 60_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxStreamMs = options.maxStreamMs ?? 50_000;
  const sessions = new Map<string, HttpSession>();
  /** Sessions the server closed, by id: their client's next request is told why (410). */
  const closed = new Map<string, { code: number; reason: string; at: number }>();

  function sessionClosed(session: HttpSession): void {
    if (sessions.get(session.id) === session) sessions.delete(session.id);
    session.slot.release();
    session.untrack();
    session.attachment?.transportClosed();
    const why = session.closed!;
    if (TRANSIENT_CLOSES.has(why.code)) return;
    closed.set(session.id, { ...why, at: performance.now() });
    if (closed.size > MAX_CLOSED_REMEMBERED) closed.delete(closed.keys().next().value!);
  }

  const upkeep = setInterval(() => {
    const now = performance.now();
    const limits = { heartbeatMs, maxStreamMs, idleMs };
    for (const session of sessions.values()) {
      if (session.tick(now, limits)) session.close(CloseCode.GoingAway, 'session idle');
    }
    for (const [id, entry] of closed) {
      if (now - entry.at <= idleMs) break; // oldest first
      closed.delete(id);
    }
  }, UPKEEP_INTERVAL_MS);
  upkeep.unref();

  /** The session of this request on this instance, made if new; or the response that refuses it. */
  function sessionFor(c: Context, id: string, name: string, access: Access): HttpSession | Response {
    const existing = sessions.get(id);
    if (existing) {
      if (existing.document !== name) return c.json({ error: 'this session belongs to another document' }, 409);
      if (existing.subject !== access.subject) return refuse(c, 403, 'this session belongs to another user');
      existing.lastSeen = performance.now();
      return existing;
    }
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const forwardedFor = c.req.header('x-forwarded-for');
    const admission = limiter.admit(clientAddress(incoming?.socket.remoteAddress, forwardedFor, options.trustProxy));
    if (!admission.ok) {
      const perAddress = admission.status === 429;
      metrics.refused.inc({ reason: perAddress ? 'connections per address' : 'connections' });
      const hint = perAddress ? options.untrustedProxy.forwardedForProblem(forwardedFor) : null;
      return refuse(c, admission.status, hint ? `${admission.reason}; ${hint}` : admission.reason);
    }
    const session = new HttpSession(id, name, access.subject, admission, sessionClosed);
    sessions.set(id, session);
    const attachment = new RoomAttachment(name, session, access, options);
    session.attachment = attachment;
    if (access.authenticated) {
      // Ends the session when its token expires or is revoked, as a WebSocket's.
      session.untrack = auth.sessions.track(access, (code, reason) => {
        metrics.refused.inc({ reason });
        attachment.connection.close(code, reason);
      });
    }
    return session;
  }

  /** The session's room once its connection joined it; null if the session closed first. */
  async function joinedRoom(session: HttpSession): Promise<Room | null> {
    for (;;) {
      if (session.closed) return null;
      const room = session.attachment!.joinedRoom;
      if (room) return room;
      // Loading: the attachment joins right after the load resolves.
      await options.registry.loadedOrLoading(session.document);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * A new stream: first everything the room has beyond the client's cursor (one sync step 2), the
   * room's state vector as a sync step 1 (the client answers with what the server lacks, e.g.
   * edits made offline or sent to an instance that died before committing them), then the
   * cursor for its next stream. Every awareness state follows, and the SavedState answer if the
   * client subscribed. Then whatever the room sends, as to a WebSocket.
   *
   * The cursor is the room's state vector when the step 2 was encoded: the client has everything
   * it covers once it has read the step 2, which is sent only after every update it holds was
   * committed (nothing a client receives may be lost by a crash). Updates after that moment reach
   * the client through this stream, so a stream that breaks, or ends, loses nothing: the next one
   * starts from the cursor, on whichever instance it lands (every instance's room has every commit,
   * through the Redis relay and storage).
   */
  async function catchUp(session: HttpSession, request: StreamRequest): Promise<void> {
    const room = await joinedRoom(session);
    if (!room || session.closed) return;
    const step2 = encodeFrame(writeSyncStep2, room.encodeState(request.cursor));
    const stateVector = room.stateVector();
    const attachment = session.attachment!;
    attachment.receive(QUERY_AWARENESS);
    if (request.savedState) attachment.receive(SUBSCRIBE_SAVED);
    try {
      await room.committed();
    } catch {
      return; // deleted meanwhile: the room closed the session, and said why
    }
    session.release([
      encodeStreamRecord({ kind: 'message', message: step2 }),
      encodeStreamRecord({ kind: 'message', message: encodeFrame(writeSyncStep1, stateVector) }),
      encodeStreamRecord({ kind: 'cursor', cursor: stateVector }),
    ]);
  }

  /** Hands a batch's messages to the room in order, each once; resolves then (or once committed, see ackAfterCommit). */
  async function receiveBatch(session: HttpSession, batch: MessageBatch): Promise<void> {
    const attachment = session.attachment!;
    const loaded = attachment.joinedRoom;
    if (loaded && batch.messages.length > 0 && batch.firstSeq + batch.messages.length > session.nextSeq) await roomHas(loaded, batch.after);
    for (let i = 0; i < batch.messages.length; i++) {
      const seq = batch.firstSeq + i;
      if (seq < session.nextSeq) continue; // a retried request: handled already
      const message = batch.messages[i]!;
      if (message.byteLength > options.maxMessageBytes) {
        metrics.refused.inc({ reason: 'message too big' });
        attachment.connection.close(CloseCode.MessageTooBig, `message larger than ${options.maxMessageBytes} bytes`);
        return;
      }
      // Over its rate: the request waits (the client sends nothing more meanwhile).
      const readable = session.readable();
      if (readable) await readable;
      if (session.closed) return;
      attachment.receive(message);
      session.nextSeq = seq + 1;
    }
    const room = attachment.joinedRoom;
    if (options.ackAfterCommit && room && !session.closed) await room.committed().catch(() => {});
  }

  /**
   * Waits until the room has everything in `stateVector` (a client's messages build on it: what
   * another instance sent the client, or its own edits it committed, may not have been relayed
   * here yet; applied before them, the new edits would wait in Yjs, uncommitted). Reads storage
   * after AFTER_WAIT_CATCH_UP_MS; gives up after AFTER_WAIT_MAX_MS (the edits then wait in Yjs, as
   * they would have). A room that was loaded after the edits were committed has them already.
   */
  async function roomHas(room: Room, stateVector: Uint8Array): Promise<void> {
    let needed: Map<number, number>;
    try {
      needed = Y.decodeStateVector(stateVector);
    } catch {
      throw new HttpFrameError('malformed message batch: `after` is not a state vector');
    }
    const covered = () => {
      for (const [client, clock] of needed) if (Y.getState(room.doc.store, client) < clock) return false;
      return true;
    };
    if (covered()) return;
    await new Promise<void>((resolve) => {
      const check = () => {
        if (covered()) done();
      };
      const catchUp = setTimeout(() => void room.catchUp().then(check, check), AFTER_WAIT_CATCH_UP_MS);
      const deadline = setTimeout(() => done(), AFTER_WAIT_MAX_MS);
      const done = () => {
        clearTimeout(catchUp);
        clearTimeout(deadline);
        room.doc.off('update', check);
        resolve();
      };
      room.doc.on('update', check);
    });
  }

  function closedAnswer(c: Context, why: { code: number; reason: string }): Response {
    return c.json({ error: why.reason, code: why.code }, 410);
  }

  async function handle(c: Context): Promise<Response> {
    const op = c.req.query('op');
    if (op !== 'stream' && op !== 'send' && op !== 'close') return c.json({ error: 'op must be stream, send or close' }, 400);
    const target = documentNameFromPath(targetPathname(c.req.url) ?? '', SYNC_PATH);
    if ('problem' in target) return c.json({ error: target.problem }, 400);
    const id = c.req.header(SESSION_HEADER);
    if (!id || !SESSION_ID_PATTERN.test(id)) return c.json({ error: `${SESSION_HEADER} must be 16 to 64 characters of base64url` }, 400);
    let access: Access;
    try {
      const request = requestHead(c);
      auth.checkOrigin(request);
      // Never from the URL: proxies log it.
      access = await auth.authenticateRequest(request, ['authorization', 'cookie']);
      requireDocument(access, target.name);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      metrics.refused.inc({ reason: error.status === 401 ? 'unauthenticated' : 'forbidden' });
      return refuse(c, error.status, error.message);
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    const gone = closed.get(id);
    if (gone) return closedAnswer(c, gone);
    if (op === 'close') {
      const session = sessions.get(id);
      if (session && session.subject === access.subject) session.close(CloseCode.Normal, 'closed by the client');
      return c.body(null, 204);
    }
    const found = sessionFor(c, id, target.name, access);
    if (found instanceof Response) return found;
    const session = found;
    // Closing (its cleanup runs right after): the client is told, and starts afresh if it may.
    if (session.closed) return closedAnswer(c, session.closed);
    try {
      if (op === 'stream') {
        const request = readStreamRequest(decoding.createDecoder(body));
        try {
          Y.decodeStateVector(request.cursor);
        } catch {
          throw new HttpFrameError('malformed stream request: the cursor is not a state vector');
        }
        const stream = session.openStream();
        void catchUp(session, request).catch((error: unknown) => {
          options.logger.error({ err: error, document: session.document }, 'HTTP stream catch-up failed');
          session.close(CloseCode.InternalError, 'internal server error');
        });
        return new Response(stream, {
          headers: {
            'Content-Type': 'application/octet-stream',
            'Cache-Control': 'no-store',
            // nginx would otherwise buffer the response and deliver it only when it ends.
            'X-Accel-Buffering': 'no',
          },
        });
      }
      const batch = readMessageBatch(decoding.createDecoder(body), MAX_BATCH_MESSAGES);
      const handled = session.inbound.then(() => receiveBatch(session, batch));
      session.inbound = handled.catch(() => {});
      await handled;
      if (session.closed) return closedAnswer(c, session.closed);
      return c.json({ next: Math.max(session.nextSeq, batch.firstSeq + batch.messages.length) });
    } catch (error) {
      if (!(error instanceof HttpFrameError)) throw error;
      metrics.protocolErrors.inc({ reason: 'decode' });
      return c.json({ error: error.message }, 400);
    }
  }

  const routes = new Hono();
  // Embedding pages on allowed origins call these from the browser, with a Bearer token.
  const corsHeaders = cors({
    origin: (origin, c) => (originProblem(origin, c.req.header('host'), auth.origins) === null ? origin : null),
    allowHeaders: ['Authorization', 'Content-Type', 'X-Collab-Session'],
    allowMethods: ['POST', 'OPTIONS'],
    maxAge: 600,
  });
  routes.on(['POST', 'OPTIONS'], '/*', corsHeaders);
  const maxBodyBytes = options.maxMessageBytes + FRAMING_BYTES;
  const tooLarge = (c: Context) => {
    const reason = `request body larger than ${maxBodyBytes} bytes`;
    for (const [name, value] of Object.entries(refusalHeaders(413, reason))) c.header(name, value);
    return c.json({ error: reason }, 413);
  };
  const countedLimit = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge });
  routes.post(
    '/*',
    (c, next) => {
      // A declared length is checked here (Node reads no more than it); only a body without one
      // is counted as it arrives, which costs about 0.3 ms of CPU per request (of about 0.5).
      const declared = c.req.header('content-length');
      if (declared !== undefined && /^\d+$/.test(declared)) return Number(declared) > maxBodyBytes ? Promise.resolve(tooLarge(c)) : next();
      return countedLimit(c, next);
    },
    handle,
  );

  return {
    routes,
    sessions: () => sessions.values(),
    stop: () => clearInterval(upkeep),
  };
}
