/**
 * The HTTP fallback endpoint (server/http/http-sync.ts) driven request by request: retried,
 * duplicated and reordered sends change nothing; the same access rules, origin check and limits
 * as the WebSocket endpoint; bad input gets a clear error; sessions that stop polling go away.
 */
import http from 'node:http';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SESSION_HEADER } from '../../shared/http-frames.js';
import * as decoding from 'lib0/decoding';
import { CloseCode, MessageType, SyncMessageType } from '../../shared/protocol.js';
import { encodeFrame, writeAwareness, writeUpdate } from '../../server/sync/protocol.js';
import { connectClient, synced } from '../helpers/clients.js';
import { RawHttpSession } from '../helpers/raw-http-session.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { metricValue } from './cluster-harness.js';
import { startSecureServer, token } from './security-harness.js';

/** Two edits and an awareness state of one client, as y-websocket frames. */
function clientFrames() {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  doc.getText('body').insert(0, '<one>');
  doc.getText('body').insert(5, '<two>');
  const awareness = new Awareness(doc);
  awareness.setLocalState({ user: { name: 'Retry' } });
  return {
    one: encodeFrame(writeUpdate, updates[0]!),
    two: encodeFrame(writeUpdate, updates[1]!),
    presence: encodeFrame(writeAwareness, encodeAwarenessUpdate(awareness, [doc.clientID])),
  };
}

/** The updates of the sync step 2 messages among `messages`. */
function step2Updates(messages: Uint8Array[]): Uint8Array[] {
  return messages.flatMap((message) => {
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MessageType.Sync || decoding.readVarUint(decoder) !== SyncMessageType.Step2) return [];
    return [decoding.readVarUint8Array(decoder)];
  });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('HTTP fallback: retries', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('applies each numbered message once, however requests are duplicated, reordered or retried concurrently', async () => {
    const session = new RawHttpSession(`${server.httpUrl}/sync/retries`);
    const { one, two, presence } = clientFrames();
    // This test's session is the server's only client meanwhile: the count is of its messages.
    const handled = () => metricValue(server, 'collab_messages_in_total');

    expect(await json(await session.send(0, []))).toEqual({ next: 0 });
    const start = await handled();
    expect(await json(await session.send(0, [one, presence]))).toEqual({ next: 2 });
    expect(await handled()).toBe(start + 2);
    // The same request again (a retry whose answer was lost), twice at once, and a stale part of it.
    const again = await Promise.all([session.send(0, [one, presence]), session.send(0, [one, presence]), session.send(1, [presence])]);
    expect(again.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(await handled()).toBe(start + 2);
    expect(await json(await session.send(2, [two]))).toEqual({ next: 3 });
    // A delayed copy of an earlier request overtaken by later ones.
    expect(await json(await session.send(0, [one]))).toEqual({ next: 3 });
    expect(await json(await session.send(1, [presence, two]))).toEqual({ next: 3 });
    expect(await handled()).toBe(start + 3);

    const reader = connectClient(server.syncUrl, 'retries');
    await synced(reader);
    expect(reader.doc.getText('body').toString()).toBe('<one><two>');
    await waitFor(
      () => [...reader.provider.awareness.getStates().values()].some((state) => (state.user as { name?: string } | undefined)?.name === 'Retry'),
      "the session's presence to reach the reader",
    );
    reader.destroy();
  });

  it('starts a stream with what the cursor lacks, the server state vector and a new cursor', async () => {
    const writer = connectClient(server.syncUrl, 'cursor');
    const watcher = connectClient(server.syncUrl, 'cursor');
    await Promise.all([synced(writer), synced(watcher)]);
    // The server relays an edit only once committed: the watcher having it means it is.
    const committed = (what: string) => waitFor(() => watcher.doc.getText('body').toString().includes(what), `"${what}" to be committed`);
    writer.doc.getText('body').insert(0, 'first');
    const session = new RawHttpSession(`${server.httpUrl}/sync/cursor`);
    await committed('first');
    expect((await session.stream()).status).toBe(200);
    await waitFor(() => session.records.some((record) => record.kind === 'cursor'), 'the first cursor');
    const cursor = session.records.find((record) => record.kind === 'cursor')!;
    const local = new Y.Doc();
    for (const update of step2Updates(session.messages())) Y.applyUpdate(local, update);
    expect(local.getText('body').toString()).toBe('first');
    session.abort();

    // Written while no stream is open: the next stream, from the cursor, carries only that.
    writer.doc.getText('body').insert(5, ' second');
    await committed('second');
    const next = new RawHttpSession(`${server.httpUrl}/sync/cursor`, {}, session.id);
    await next.stream(cursor.kind === 'cursor' ? cursor.cursor : new Uint8Array([0]));
    await waitFor(() => next.records.some((record) => record.kind === 'cursor'), 'the second cursor');
    const [catchUp] = step2Updates(next.messages());
    // Only what came after the cursor: the first insert took clocks 0 to 4.
    expect(Y.decodeUpdate(catchUp!).structs.every((struct) => struct.id.clock >= 5)).toBe(true);
    Y.applyUpdate(local, catchUp!);
    expect(local.getText('body').toString()).toBe('first second');
    next.abort();
    writer.destroy();
    watcher.destroy();
  });

  it('tells a session the server closed why, on its stream and on its next request', async () => {
    const session = new RawHttpSession(`${server.httpUrl}/sync/bad-frame`);
    await session.stream();
    await waitFor(() => session.records.some((record) => record.kind === 'cursor'), 'the stream to start');
    const response = await session.send(0, [new Uint8Array([0, 2, 200])]); // a truncated sync update
    expect(response.status).toBe(410);
    expect(await json(response)).toEqual({ error: expect.stringContaining('truncated'), code: CloseCode.BadRequest });
    await waitFor(() => session.records.some((record) => record.kind === 'close'), 'the close record on the stream');
    expect(session.records.find((record) => record.kind === 'close')).toEqual({ kind: 'close', code: CloseCode.BadRequest, reason: expect.stringContaining('truncated') });
    expect((await session.send(1, [])).status).toBe(410);
  });

  it('refuses bad input with a clear error, and never crashes', async () => {
    const url = `${server.httpUrl}/sync/bad-input`;
    const bad = async (response: Response, status: number, error: RegExp) => {
      expect(response.status).toBe(status);
      expect(String((await json(response)).error)).toMatch(error);
    };
    const session = new RawHttpSession(url);
    await bad(await session.request('nothing', new Uint8Array()), 400, /op must be/);
    await bad(await session.request('send', new Uint8Array()), 400, /malformed message batch/);
    await bad(await session.request('send', new Uint8Array([0, 1, 0, 1, 5, 1])), 400, /malformed message batch/);
    await bad(await session.request('stream', new Uint8Array([0, 1, 5])), 400, /cursor is not a state vector/);
    await bad(await new RawHttpSession(url, {}, 'short').send(0, []), 400, /x-collab-session/i);
    await bad(await fetch(`${url}?op=send`, { method: 'POST', body: new Uint8Array([0, 0]) }), 400, /x-collab-session/i);
    await bad(await new RawHttpSession(`${server.httpUrl}/sync/%20padded`).send(0, []), 400, /whitespace/);
    await bad(await new RawHttpSession(`${server.httpUrl}/sync/%E0%A4%A`).send(0, []), 400, /percent-encoding/);
    // The same session id for another document.
    await session.send(0, []);
    await bad(await new RawHttpSession(`${server.httpUrl}/sync/elsewhere`, {}, session.id).send(0, []), 409, /another document/);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });
});

describe('HTTP fallback: access, origin and limits', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startSecureServer({ MAX_CONNECTIONS_PER_ADDRESS: '3', MAX_MESSAGE_BYTES: '4096' });
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('takes the token from the Authorization header or the cookie, never from the URL', async () => {
    const alice = await token({ documents: ['team/*'] });
    const url = `${server.httpUrl}/sync/team%2Fnotes`;
    const none = await new RawHttpSession(url).send(0, []);
    expect(none.status).toBe(401);
    expect(await json(none)).toEqual({ error: 'a token is required' });
    expect((await new RawHttpSession(`${url}?token=${alice}`).send(0, [])).status).toBe(401);
    const header = new RawHttpSession(url, { Authorization: `Bearer ${alice}` });
    expect((await header.send(0, [])).status).toBe(200);
    await header.request('close', new Uint8Array());
    const cookie = new RawHttpSession(url, { Cookie: `collab_token=${alice}` });
    expect((await cookie.send(0, [])).status).toBe(200);
    await cookie.request('close', new Uint8Array());
    expect((await new RawHttpSession(url, { Authorization: 'Bearer not-a-token' }).send(0, [])).status).toBe(401);
    const other = await new RawHttpSession(`${server.httpUrl}/sync/private`, { Authorization: `Bearer ${alice}` }).send(0, []);
    expect(other.status).toBe(403);
    expect(String((await json(other)).error)).toMatch(/does not grant/);
  });

  it("does not let another user's token use a session", async () => {
    const url = `${server.httpUrl}/sync/shared`;
    const alice = new RawHttpSession(url, { Authorization: `Bearer ${await token({ subject: 'alice' })}` });
    expect((await alice.send(0, [])).status).toBe(200);
    const mallory = new RawHttpSession(url, { Authorization: `Bearer ${await token({ subject: 'mallory' })}` }, alice.id);
    const refused = await mallory.send(0, [clientFrames().one]);
    expect(refused.status).toBe(403);
    expect(await json(refused)).toEqual({ error: 'this session belongs to another user' });
    expect((await mallory.stream()).status).toBe(403);
    await alice.request('close', new Uint8Array());
  });

  it('checks the Origin as the WebSocket endpoint does, and answers CORS preflights only for allowed ones', async () => {
    const alice = await token();
    const evil = await new RawHttpSession(`${server.httpUrl}/sync/origin`, { Authorization: `Bearer ${alice}`, Origin: 'https://evil.example' }).send(0, []);
    expect(evil.status).toBe(403);
    const own = new RawHttpSession(`${server.httpUrl}/sync/origin`, { Authorization: `Bearer ${alice}`, Origin: server.httpUrl });
    expect((await own.send(0, [])).status).toBe(200);
    await own.request('close', new Uint8Array());
    const preflight = await fetch(`${server.httpUrl}/sync/origin?op=send`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': `authorization,${SESSION_HEADER}` },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('counts sessions against the connection limits, and bounds message sizes', async () => {
    const alice = await token();
    const sessions = Array.from({ length: 4 }, () => new RawHttpSession(`${server.httpUrl}/sync/limits`, { Authorization: `Bearer ${alice}` }));
    const answers = [];
    for (const session of sessions) answers.push((await session.send(0, [])).status);
    expect(answers).toEqual([200, 200, 200, 429]);
    const big = await sessions[0]!.send(0, [new Uint8Array(5000)]);
    expect(big.status).toBe(410);
    expect(await json(big)).toEqual({ error: 'message larger than 4096 bytes', code: CloseCode.MessageTooBig });
    const huge = await sessions[1]!.send(0, [new Uint8Array(80 * 1024)]);
    expect(huge.status).toBe(413);
    // Without a Content-Length (chunked), the body is counted as it arrives.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${server.httpUrl}/sync/limits?op=send`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${alice}`, [SESSION_HEADER]: sessions[2]!.id, 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' },
      });
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      for (let i = 0; i < 20; i++) request.write(Buffer.alloc(8 * 1024));
      request.end();
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body).toMatch(/request body larger than/);
    for (const session of sessions) await session.request('close', new Uint8Array());
    // Closed sessions gave their places back.
    expect((await new RawHttpSession(`${server.httpUrl}/sync/limits`, { Authorization: `Bearer ${alice}` }).send(0, [])).status).toBe(200);
  });
});

describe('HTTP fallback: sessions that stop polling', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // Sessions are forgotten after 2 × PING_INTERVAL_MS without a request.
    server = await startServer({ env: { PING_INTERVAL_MS: '1000' } });
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('are closed and forgotten; a client that comes back later simply starts a new one', async () => {
    const sessions = Array.from({ length: 50 }, () => new RawHttpSession(`${server.httpUrl}/sync/idle`));
    await Promise.all(sessions.map((session) => session.send(0, [])));
    expect(await metricValue(server, 'collab_connections')).toBe(50);
    await waitFor(async () => (await metricValue(server, 'collab_connections')) === 0, 'idle sessions to be closed', 15_000, 200);
    const back = await sessions[0]!.send(0, [clientFrames().one]);
    expect(back.status).toBe(200);
    expect(await metricValue(server, 'collab_connections')).toBe(1);
  });

  it('stays open while its client holds a stream, and goes once the client stops', async () => {
    const before = await metricValue(server, 'collab_connections');
    const quiet = new RawHttpSession(`${server.httpUrl}/sync/held`);
    await quiet.send(0, []);
    const held = new RawHttpSession(`${server.httpUrl}/sync/held`);
    await held.stream();
    await waitFor(() => held.records.some((record) => record.kind === 'cursor'), 'the stream to start');
    expect(await metricValue(server, 'collab_connections')).toBe(before + 2);
    // The quiet one is closed after the idle time (and the earlier test's); the one holding a stream is not.
    await waitFor(async () => (await metricValue(server, 'collab_connections')) === 1, 'the quiet session to be closed', 15_000, 200);
    expect(held.records.some((record) => record.kind === 'close')).toBe(false);
    held.abort();
    await waitFor(async () => (await metricValue(server, 'collab_connections')) === 0, 'the session to go once its stream is gone', 15_000, 200);
  });
});
