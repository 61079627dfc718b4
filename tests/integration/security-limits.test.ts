import { afterAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { counter, metric } from '../helpers/metrics.js';
import { useServer } from '../helpers/server.js';
import { once, waitFor } from '../helpers/wait.js';
import { HANDSHAKE, closed, frames, open, rawRequest, upgrade } from './security-harness.js';

describe('per-connection limits', () => {
  const server = useServer({
    env: { MAX_MESSAGE_BYTES: '65536', MAX_MESSAGES_PER_SECOND: '50', MAX_BYTES_PER_SECOND: '65536', MAX_AWARENESS_STATE_BYTES: '4096' },
  });
  const clients: TestClient[] = [];
  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  /** An honest pair that must keep working while one socket misbehaves. */
  async function honestPair(name: string): Promise<() => Promise<void>> {
    const a = connectClient(server().syncUrl, name);
    const b = connectClient(server().syncUrl, name);
    clients.push(a, b);
    await Promise.all([synced(a), synced(b)]);
    return async () => {
      a.doc.getText('t').insert(0, 'x');
      await waitFor(() => b.doc.getText('t').toString() === a.doc.getText('t').toString(), 'the honest clients to keep syncing');
    };
  }

  it('closes a message over MAX_MESSAGE_BYTES with 1009', async () => {
    const stillWorks = await honestPair('big');
    const socket = await open(`${server().syncUrl}/big`);
    const result = closed(socket);
    socket.send(new Uint8Array(70_000));
    expect((await result).code).toBe(1009);
    await stillWorks();
  });

  /** The rate limits' two outcomes so far: connections slowed (reads paused), and closed with 4429. */
  async function rateOutcomes(): Promise<{ paused: number; closed: number }> {
    return {
      paused: await metric(server().httpUrl, 'collab_reads_paused_total'),
      closed: await counter(server().httpUrl, 'collab_refused_total', '{reason="rate limit"}'),
    };
  }

  it('slows a bulk writer a little over the rate instead of closing it, and every edit of it arrives', async () => {
    const observer = connectClient(server().syncUrl, 'bulk');
    clients.push(observer);
    await synced(observer);
    const before = await rateOutcomes();
    const writer = await open(`${server().syncUrl}/bulk`);
    // A backend replaying history: one frame per edit, as fast as it can send them. 50/s with a
    // burst of ten seconds' worth (500): 600 at once is a little over it.
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const sendEdits = (count: number) => {
      for (let i = 0; i < count; i++) doc.getText('t').insert(0, String(i % 10));
      for (const update of updates.splice(0)) writer.send(frames.update(update));
    };
    sendEdits(600);
    await waitFor(async () => (await rateOutcomes()).paused > before.paused, 'the server to stop reading the writer for a while');
    // Sent while it is not read: they wait in TCP, and are handled once the writer is read again.
    sendEdits(20);
    const text = doc.getText('t').toString();
    await waitFor(() => observer.doc.getText('t').toString() === text, 'every edit of the writer to reach the observer', 30_000);
    expect(writer.readyState).toBe(writer.OPEN);
    expect((await rateOutcomes()).closed).toBe(before.closed);
    writer.close();
  });

  it('closes a flood of small messages with 4429 and a reason', async () => {
    const stillWorks = await honestPair('flood');
    const before = await rateOutcomes();
    const socket = await open(`${server().syncUrl}/flood`);
    const result = closed(socket, 30_000);
    // 50/s with a burst of ten seconds' worth: 5,000 frames at once is far over it (90 s of the
    // rate beyond the burst; a connection is closed once it would be held back for over 10 s).
    const query = frames.queryAwareness();
    for (let i = 0; i < 5_000 && socket.readyState === socket.OPEN; i++) socket.send(query);
    expect(await result).toEqual({ code: 4429, reason: 'rate limit: more than 50 messages per second' });
    expect((await rateOutcomes()).closed).toBe(before.closed + 1);
    await stillWorks();
  });

  it('slows a flood of bytes first, then closes it with 4429 and a reason as it stays over the rate', async () => {
    const stillWorks = await honestPair('bytes');
    const before = await rateOutcomes();
    const socket = await open(`${server().syncUrl}/bytes`);
    const result = closed(socket, 30_000);
    // Valid frames (awareness states over the size limit are dropped, not punished): ~60 KB each,
    // 2.4 MB in all against 64 KiB/s with a burst of ten seconds' worth: 27 s of the rate beyond
    // the burst. Each frame spans one socket read, so each pause holds the rest back in TCP.
    const big = frames.awareness([[4242, 1, { pad: 'x'.repeat(60_000) }]]);
    for (let i = 0; i < 40 && socket.readyState === socket.OPEN; i++) socket.send(big);
    expect(await result).toEqual({ code: 4429, reason: 'rate limit: more than 65536 bytes per second' });
    const after = await rateOutcomes();
    expect(after.paused).toBeGreaterThan(before.paused);
    expect(after.closed).toBe(before.closed + 1);
    await stillWorks();
  });

  it('never relays an awareness state over MAX_AWARENESS_STATE_BYTES', async () => {
    const observer = connectClient(server().syncUrl, 'aw-size');
    clients.push(observer);
    await synced(observer);
    const socket = await open(`${server().syncUrl}/aw-size`);
    socket.send(frames.awareness([[5001, 1, { pad: 'x'.repeat(5000) }], [5002, 1, { user: 'small' }]]));
    await waitFor(() => observer.provider.awareness.getStates().has(5002), 'the small state to arrive');
    expect(observer.provider.awareness.getStates().has(5001)).toBe(false);
    expect(socket.readyState).toBe(socket.OPEN);
    socket.close();
  });
});

describe('connection and document limits (behind a trusted proxy)', () => {
  const server = useServer({
    env: { MAX_CONNECTIONS: '5', MAX_CONNECTIONS_PER_ADDRESS: '3', TRUST_PROXY: '1', MAX_ROOMS: '2', ROOM_IDLE_MS: '60000', PING_INTERVAL_MS: '300' },
  });
  const sockets: WebSocket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.terminate();
  });
  const from = (address: string) => ({ headers: { 'x-forwarded-for': `203.0.113.9, ${address}` } });

  it('frees the slot of a connection that fails after admission: a handshake ws refuses (400), a bad document name (4400)', async () => {
    const address = from('10.0.3.1');
    // Four of each from an address allowed three: a slot kept by any of them would turn one into a 429.
    const { 'Sec-WebSocket-Key': _key, ...withoutKey } = HANDSHAKE;
    for (let i = 0; i < 4; i++) expect((await rawRequest(server().port, '/sync/c', { ...withoutKey, ...address.headers })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect(await closed(await open(`${server().syncUrl}/%20padded`, address))).toMatchObject({ code: 4400 });
    const held: WebSocket[] = [];
    await waitFor(async () => {
      const result = await upgrade(`${server().syncUrl}/c`, address);
      if (result.socket) held.push(result.socket);
      return held.length === 3;
    }, 'three connections from the address');
    for (const socket of held) socket.terminate();
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 0, 'every connection to be gone');
  });

  it('refuses connections beyond the per-address (429) and total (503) limits before the upgrade, and frees slots on abrupt disconnects', async () => {
    const url = `${server().syncUrl}/c`;
    const a = [await open(url, from('10.0.0.1')), await open(url, from('10.0.0.1')), await open(url, from('10.0.0.1'))];
    sockets.push(...a);
    expect(await upgrade(url, from('10.0.0.1'))).toMatchObject({ status: 429, reason: 'too many connections from your address (limit 3)' });
    const b = [await open(url, from('10.0.0.2')), await open(url, from('10.0.0.2'))];
    sockets.push(...b);
    expect(await upgrade(url, from('10.0.0.3'))).toMatchObject({ status: 503, reason: 'the server is at its limit of 5 connections; try again later' });

    // An abrupt disconnect (no close handshake) frees its slot.
    a[0]!.terminate();
    await waitFor(async () => (await upgrade(url, from('10.0.0.1')).then((r) => (r.socket?.terminate(), r.status))) === 101, 'the slot to be freed');
    for (const socket of [...a, ...b]) socket.terminate();
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 0, 'every connection to be gone');
  });

  /** Closes what earlier tests left open: the counts below are this test's own, and the rooms they loaded idle. */
  async function fromNoConnections(): Promise<void> {
    for (const socket of sockets.splice(0)) socket.terminate();
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 0, 'earlier connections to be gone');
  }

  it('refuses a document beyond MAX_ROOMS with 1013 while all loaded ones are in use, and unloads an idle one to make room', async () => {
    // Rooms that earlier tests loaded may still be loaded (ROOM_IDLE_MS is a minute), but idle: they
    // are unloaded early for r1 and r2, so the limit is reached by this test's rooms alone.
    await fromNoConnections();
    const r1 = await open(`${server().syncUrl}/r1`, from('10.0.1.1'));
    const r2 = await open(`${server().syncUrl}/r2`, from('10.0.1.2'));
    sockets.push(r1, r2);
    const r3 = await open(`${server().syncUrl}/r3`, from('10.0.1.3'));
    expect(await closed(r3)).toEqual({ code: 1013, reason: 'too many documents open on this server (2); try again later' });
    r1.close();
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 1, 'r1 to be gone');
    // r1's room is idle now (ROOM_IDLE_MS is a minute): it is unloaded early for r3.
    const again = await open(`${server().syncUrl}/r3`, from('10.0.1.3'));
    sockets.push(again);
    // Admitted, not merely upgraded: asked for the document (sync step 1), the server answers from
    // the loaded room, which it never does for a connection it closes with 1013.
    const answered = once(again, 'message', "the server's answer from the r3 room");
    again.send(frames.step1(new Uint8Array([0])));
    await answered;
    expect(again.readyState).toBe(again.OPEN);
    expect(await metric(server().httpUrl, 'collab_rooms')).toBe(2);
  });

  it('detects a half-open connection (no pongs) within two ping intervals and cleans it up', async () => {
    // Its own sockets and document: whatever earlier tests left open is closed first, so the rooms
    // they loaded are idle and one can be unloaded for this one (MAX_ROOMS is 2).
    await fromNoConnections();
    const silent = await open(`${server().syncUrl}/ping`, { ...from('10.0.2.1'), client: { autoPong: false } });
    sockets.push(silent);
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 1, 'the connection to count');
    // Documented: within two ping intervals (600 ms here). A deadline, not a measurement: the
    // margin is for a loaded machine, and still far below anything but the heartbeat (the
    // handshake and close timeouts do not apply to an open, silent socket).
    const result = await closed(silent, 2 * 300 + 5_000);
    expect(result.code).toBe(1006);
    await waitFor(async () => (await metric(server().httpUrl, 'collab_connections')) === 0, 'the connection to be cleaned up');
  });

  it('counts any message as an answer to a ping: a client that never pongs but keeps talking stays connected', async () => {
    await fromNoConnections();
    const talker = await open(`${server().syncUrl}/ping`, { ...from('10.0.2.2'), client: { autoPong: false } });
    sockets.push(talker);
    let pings = 0;
    let closedWith: number | null = null;
    talker.on('close', (code) => (closedWith = code));
    // Each ping is answered with a query-awareness message (type 3) instead of a pong.
    talker.on('ping', () => {
      pings++;
      talker.send(new Uint8Array([3]));
    });
    // A ping left unanswered ends the connection at the next one: four pings means three answered by messages.
    await waitFor(() => pings >= 4 || closedWith !== null, 'four pings to the client that answers with messages', 10_000);
    expect(closedWith).toBeNull();
    expect(pings).toBeGreaterThanOrEqual(4);
    talker.terminate();
  });
});

describe('behind a reverse proxy without TRUST_PROXY', () => {
  const server = useServer({ env: { MAX_CONNECTIONS_PER_ADDRESS: '2' } });
  const sockets: WebSocket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.terminate();
  });
  const proxied = { headers: { 'x-forwarded-for': '203.0.113.7' } };
  const warnings = () => server().logs.filter((line) => line.includes('"level":40') && line.includes('TRUST_PROXY is off'));

  it('warns once when requests carry X-Forwarded-For, and says so when the per-address limit refuses one', async () => {
    const url = `${server().syncUrl}/proxied`;
    sockets.push(await open(url), await open(url));
    // Without the header nothing hints at a proxy: the plain refusal, and no warning.
    expect(await upgrade(url)).toMatchObject({ status: 429, reason: 'too many connections from your address (limit 2)' });
    expect(warnings()).toHaveLength(0);

    expect(await upgrade(url, proxied)).toMatchObject({
      status: 429,
      reason: 'too many connections from your address (limit 2); requests carry X-Forwarded-For: set TRUST_PROXY=1 behind a reverse proxy',
    });
    const api = await fetch(`${server().httpUrl}/api/documents`, proxied);
    expect(api.status).toBe(200);
    await api.body?.cancel();
    expect(await upgrade(url, proxied)).toMatchObject({ status: 429 });
    await waitFor(() => warnings().length > 0, 'the warning to be logged');
    expect(warnings()).toHaveLength(1);
  });
});
