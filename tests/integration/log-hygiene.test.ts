/**
 * "Logs ... never contain document content or tokens" (README, docs/security.md). A secured server
 * logging at its most verbose goes through the paths that log (refusals, bad frames, revocation,
 * expiry, titles, shutdown) with distinctive text and tokens sent every way a token travels; then
 * none of that text, and no token nor any part of one, is anywhere in what the process printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import * as Y from 'yjs';
import { tokenSubprotocols } from '../../shared/auth.js';
import { mintToken } from '../../server/auth/tokens.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, closed, frames, open, startSecureServer, token, upgrade } from './security-harness.js';

// Distinctive enough that no log line contains them by chance.
const BODY = 'zebra-quokka-7731 body text';
const FIRST_LINE = 'Heliotrope ledger 5519';
const API_TITLE = 'Marzipan forecast 8842';
const RENAMED = 'Obsidian roster 3306';
const READ_ONLY_TEXT = 'periwinkle-attempt-4410';
const GARBAGE_TEXT = 'tamarind-garbage-9923';

describe('what the server logs', () => {
  let server: ServerProcess;
  const clients: TestClient[] = [];
  const sockets: WebSocket[] = [];
  const tokens: string[] = [];
  beforeAll(async () => {
    server = await startSecureServer({ LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const socket of sockets) socket.terminate();
    await server.kill('SIGKILL');
  });
  const minted = async (options: Parameters<typeof token>[0]) => {
    const t = await token(options);
    tokens.push(t);
    return t;
  };
  const api = (route: string, t: string, init: RequestInit = {}) =>
    fetch(`${server.httpUrl}${route}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${t}`, ...(init.headers as Record<string, string>) } });

  it('holds no token and no document content, after every path that logs has run', async () => {
    // A writer with the token in the URL (what the stock provider does), editing text and the
    // editor's fragment, whose first line becomes the stored title.
    const writerToken = await minted({ subject: 'writer', tokenId: 'writer-jti-6161' });
    const writer = connectClient(server.syncUrl, 'logged', { params: { token: writerToken } });
    clients.push(writer);
    await synced(writer);
    writer.doc.getText('t').insert(0, BODY);
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText(FIRST_LINE)]);
    writer.doc.getXmlFragment('prosemirror').insert(0, [paragraph]);
    const reader = await minted({ subject: 'reader', canWrite: false });
    await waitFor(async () => ((await (await api('/api/documents/logged', reader)).json()) as { title?: string }).title === FIRST_LINE, 'the derived title to be stored', 15_000, 100);

    // The API, with Bearer tokens and a cookie: a titled creation and a retitling.
    const apiToken = await minted({ subject: 'api-user' });
    expect((await api('/api/documents', apiToken, { method: 'POST', body: JSON.stringify({ name: 'titled', title: API_TITLE }) })).status).toBe(201);
    expect((await api('/api/documents/titled', apiToken, { method: 'PATCH', body: JSON.stringify({ title: RENAMED }) })).status).toBe(200);
    const cookieToken = await minted({ subject: 'cookie-user' });
    expect((await fetch(`${server.httpUrl}/api/documents`, { headers: { cookie: `collab_token=${cookieToken}` } })).status).toBe(200);

    // A token as a subprotocol.
    const subprotocolToken = await minted({ subject: 'tab' });
    const tab = await open(`${server.syncUrl}/logged`, { protocols: tokenSubprotocols(subprotocolToken) });
    sockets.push(tab);

    // Refusals before the upgrade: a forged signature, an expired token, a document not granted.
    const forged = `${writerToken.slice(0, -6)}AAAAAA`;
    tokens.push(forged);
    expect((await upgrade(`${server.syncUrl}/logged?token=${forged}`)).status).toBe(401);
    expect((await upgrade(`${server.syncUrl}/logged`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    const expired = await mintToken(SECRET, { subject: 'late', documents: ['*'], canWrite: true, expiresInSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    tokens.push(expired);
    expect(await upgrade(`${server.syncUrl}/logged?token=${expired}`)).toMatchObject({ status: 401, reason: 'token expired' });
    const narrow = await minted({ subject: 'narrow', documents: ['other/*'] });
    expect((await upgrade(`${server.syncUrl}/logged?token=${narrow}`)).status).toBe(403);

    // A read-only connection's update carrying text (dropped), and a malformed frame carrying text
    // (closed with 4400, which the server logs).
    const readOnly = await open(`${server.syncUrl}/logged?token=${reader}`);
    sockets.push(readOnly);
    const attempt = new Y.Doc();
    attempt.getText('t').insert(0, READ_ONLY_TEXT);
    readOnly.send(frames.update(Y.encodeStateAsUpdate(attempt)));
    const garbler = await open(`${server.syncUrl}/logged?token=${await minted({ subject: 'garbler' })}`);
    const garbled = closed(garbler);
    garbler.send(frames.update(new TextEncoder().encode(`\u0001\u0001${GARBAGE_TEXT}`)));
    expect((await garbled).code).toBe(4400);

    // Revocation (admin API) and expiry of live connections.
    const admin = await minted({ subject: 'ops', admin: true });
    const revokedSocket = await open(`${server.syncUrl}/logged?token=${await minted({ subject: 'victim', tokenId: 'victim-jti-2727' })}`);
    const revoked = closed(revokedSocket);
    expect((await api('/api/auth/revoke', admin, { method: 'POST', body: JSON.stringify({ tokenId: 'victim-jti-2727' }) })).status).toBe(200);
    expect(await revoked).toEqual({ code: 4401, reason: 'token revoked' });
    const shortLived = await minted({ subject: 'brief', expiresInSeconds: 2 });
    const expiring = await open(`${server.syncUrl}/logged?token=${shortLived}`);
    expect(await closed(expiring, 15_000)).toEqual({ code: 4401, reason: 'token expired' });

    // A graceful stop: pending work committed, rooms compacted, titles saved.
    for (const client of clients.splice(0)) client.destroy();
    for (const socket of sockets.splice(0)) socket.terminate();
    expect(await server.kill('SIGTERM')).toBe(0);

    const logs = server.logs.join('\n');
    // The logs were written, and cover these paths: the channel works (so absence below means something).
    for (const expected of ['"listening"', 'closing connection after a bad frame', '"document":"logged"', 'shutting down', '"stopped"']) expect(logs).toContain(expected);
    for (const text of [BODY, 'zebra-quokka', FIRST_LINE, API_TITLE, RENAMED, READ_ONLY_TEXT, GARBAGE_TEXT]) expect(logs).not.toContain(text);
    expect(tokens.length).toBeGreaterThan(8);
    for (const t of tokens) {
      // Neither the token nor its payload or signature alone.
      const [, payload, signature] = t.split('.');
      expect(logs).not.toContain(t);
      expect(logs).not.toContain(payload!);
      expect(logs).not.toContain(signature!);
    }
    expect(logs).not.toContain(SECRET);
  });
});
