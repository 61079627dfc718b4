import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sign } from 'hono/jwt';
import { afterAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { baseEnv, startRefused, useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { HANDSHAKE, SECRET, closed, frames, open, rawRequest, token, upgrade } from './security-harness.js';

const now = () => Math.floor(Date.now() / 1000);

describe('a server with AUTH_SECRET', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET } });
  const clients: TestClient[] = [];
  const sockets: WebSocket[] = [];
  const url = (name: string, query = '') => `${server().syncUrl}/${encodeURIComponent(name)}${query}`;
  const api = (route: string, init: RequestInit & { token?: string } = {}) =>
    fetch(`${server().httpUrl}${route}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.token && { authorization: `Bearer ${init.token}` }), ...(init.headers as Record<string, string>) },
    });
  const client = (name: string, tokenValue: string) => {
    const created = connectClient(server().syncUrl, name, { params: { token: tokenValue } });
    clients.push(created);
    return created;
  };

  afterAll(() => {
    for (const each of clients) each.destroy();
    for (const socket of sockets) socket.terminate();
  });

  describe('refuses before the upgrade', () => {
    it('a connection without a token: 401 with a reason', async () => {
      const result = await upgrade(url('doc'));
      expect(result).toMatchObject({ status: 401, reason: 'a token is required' });
      expect((await api('/api/documents')).status).toBe(401);
      expect(await (await api('/api/auth/me')).json()).toEqual({ error: 'a token is required' });
    });

    it('answers a refused handshake with the reason in headers and a JSON body, and keeps the connection from lingering', async () => {
      const answer = await rawRequest(server().port, '/sync/doc', { ...HANDSHAKE, Authorization: 'Basic abc' });
      expect(answer.status).toBe(401);
      expect(answer.headers['x-refusal-reason']).toBe('Authorization header must be "Bearer <token>"');
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body)).toEqual({ error: 'Authorization header must be "Bearer <token>"' });
    });

    it.each([
      ['not a JWT', async () => 'garbage', /not a well-formed JWT/],
      ['signed with another secret', () => sign({ sub: 'alice', docs: ['*'], write: true, exp: now() + 60 }, 'another-secret-another-secret-another-secret'), /bad signature/],
      ['alg none', async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'a', docs: ['*'], write: true, exp: now() + 60 })).toString('base64url')}.`, /HS256/],
      ['HS512 instead of HS256', () => sign({ sub: 'alice', docs: ['*'], write: true, exp: now() + 60 }, SECRET, 'HS512'), /HS256/],
      ['no expiry', () => sign({ sub: 'alice', docs: ['*'], write: true }, SECRET), /"exp" \(expiry\) is required/],
      ['expired', () => sign({ sub: 'alice', docs: ['*'], write: true, exp: now() - 1 }, SECRET), /token expired/],
      ['no documents', () => sign({ sub: 'alice', write: true, exp: now() + 60 }, SECRET), /"docs"/],
      ['a tampered payload', async () => {
        const [header, , signature] = (await token({ subject: 'mallory', documents: ['mine'] })).split('.');
        const forged = Buffer.from(JSON.stringify({ sub: 'mallory', docs: ['*'], write: true, exp: now() + 60 })).toString('base64url');
        return `${header}.${forged}.${signature}`;
      }, /bad signature/],
    ])('a token that is %s: 401', async (_what, make, reason) => {
      const bad = await make();
      const result = await upgrade(url('doc', `?token=${encodeURIComponent(bad)}`));
      expect(result.status).toBe(401);
      expect(result.reason).toMatch(reason);
      const response = await api('/api/documents', { token: bad });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toMatch(reason);
    });

    it('a document the token does not grant: 403', async () => {
      const team = await token({ documents: ['team/*', 'readme'] });
      expect(await upgrade(url('other', `?token=${team}`))).toMatchObject({ status: 403, reason: 'the token does not grant document "other"' });
      expect((await upgrade(url('teams/x', `?token=${team}`))).status).toBe(403);
      expect((await upgrade(url('readme2', `?token=${team}`))).status).toBe(403);
      for (const granted of ['team/a', 'team/deep/er', 'readme']) {
        const result = await upgrade(url(granted, `?token=${team}`));
        expect(result.status).toBe(101);
        result.socket!.close();
      }
    });

    it('a foreign Origin (cross-site WebSocket hijacking), even with a valid cookie: 403', async () => {
      const cookie = `collab_token=${await token()}`;
      const foreign = await upgrade(url('doc'), { origin: 'https://evil.example', headers: { cookie } });
      expect(foreign).toMatchObject({ status: 403, reason: 'origin "https://evil.example" is not allowed' });
      const own = await upgrade(url('doc'), { origin: server().httpUrl, headers: { cookie } });
      expect(own.status).toBe(101);
      own.socket!.close();
      // The API refuses cross-site calls riding on the cookie too.
      const response = await fetch(`${server().httpUrl}/api/documents`, { method: 'POST', headers: { cookie, origin: 'https://evil.example' }, body: '{}' });
      expect(response.status).toBe(403);
    });
  });

  describe('accepts a valid token', () => {
    it.each([
      ['the query string (stock WebsocketProvider params)', async (t: string) => ({ query: `?token=${t}` })],
      ['a cookie', async (t: string) => ({ headers: { cookie: `other=1; collab_token=${t}` } })],
      ['Authorization: Bearer', async (t: string) => ({ headers: { authorization: `Bearer ${t}` } })],
      ['Sec-WebSocket-Protocol, echoing "collab" and never the token', async (t: string) => ({ protocols: ['collab', `collab.token.${t}`] })],
    ])('from %s', async (_what, place) => {
      const { query = '', ...options } = (await place(await token())) as { query?: string; headers?: Record<string, string>; protocols?: string[] };
      const result = await upgrade(url('doc', query), options);
      expect(result.status).toBe(101);
      if (options.protocols) expect(result.protocol).toBe('collab');
      result.socket!.close();
    });

    it('syncs with stock WebsocketProvider clients passing the token in params', async () => {
      const t = await token({ documents: ['team/*'] });
      const a = client('team/notes', t);
      const b = client('team/notes', t);
      await Promise.all([synced(a), synced(b)]);
      a.doc.getText('t').insert(0, 'hello');
      await waitFor(() => b.doc.getText('t').toString() === 'hello', 'b to receive the edit');
    });
  });

  describe('read-only tokens', () => {
    it('sync and see cursors, publish their own cursor, but change nothing: no update, no sync step 2', async () => {
      const writer = client('ro-doc', await token({ subject: 'writer' }));
      const reader = client('ro-doc', await token({ subject: 'reader', canWrite: false }));
      await Promise.all([synced(writer), synced(reader)]);
      writer.doc.getText('t').insert(0, 'written');
      await waitFor(() => reader.doc.getText('t').toString() === 'written', 'the reader to receive the writer’s edit');

      // Cursors both ways. The reader's own edit (an update frame) comes before its cursor on the
      // same socket, so once the writer sees the cursor the server has handled (and dropped) it.
      writer.provider.awareness.setLocalStateField('user', { name: 'Writer' });
      await waitFor(() => reader.provider.awareness.getStates().get(writer.doc.clientID)?.user?.name === 'Writer', 'the reader to see the writer’s cursor');
      reader.doc.getText('t').insert(0, 'EVIL ');
      reader.provider.awareness.setLocalStateField('user', { name: 'Reader' });
      await waitFor(() => writer.provider.awareness.getStates().get(reader.doc.clientID)?.user?.name === 'Reader', 'the writer to see the reader’s cursor');

      // Raw frames from a read-only socket: a sync step 2 and an update with new content.
      const raw = await open(url('ro-doc', `?token=${await token({ subject: 'raw-reader', canWrite: false })}`));
      sockets.push(raw);
      const refusedBefore = await metric(server().httpUrl, 'collab_refused_total', '{reason="read-only update"}');
      const evil = new Y.Doc();
      evil.getText('t').insert(0, 'STEP2 ');
      raw.send(frames.step2(Y.encodeStateAsUpdate(evil)));
      evil.getText('t').insert(0, 'UPDATE ');
      raw.send(frames.update(Y.encodeStateAsUpdate(evil)));
      await waitFor(async () => (await metric(server().httpUrl, 'collab_refused_total', '{reason="read-only update"}')) >= refusedBefore + 2, 'two refused updates');

      writer.doc.getText('t').insert(7, '!');
      await waitFor(() => reader.doc.getText('t').toString().includes('!'), 'the reader to receive the next edit');
      expect(writer.doc.getText('t').toString()).toBe('written!');
      const fresh = client('ro-doc', await token({ subject: 'fresh' }));
      await synced(fresh);
      expect(fresh.doc.getText('t').toString()).toBe('written!');
      // Refused frames are dropped, not punished: the read-only socket stays open.
      expect(raw.readyState).toBe(raw.OPEN);
    });
  });

  describe('expiry and revocation end live connections', () => {
    it('closes a connection with 4401 "token expired" when its token expires', async () => {
      const shortLived = await token({ expiresInSeconds: 2 });
      const socket = await open(url('doc', `?token=${shortLived}`));
      const started = Date.now();
      const result = await closed(socket, 15_000);
      expect(result).toEqual({ code: 4401, reason: 'token expired' });
      // Not before the expiry (exp is in whole seconds: at least 1 s from now), and at it: 2 s, with
      // a margin for a loaded machine.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(Date.now() - started).toBeLessThan(2_000 + 5_000);
      expect((await upgrade(url('doc', `?token=${shortLived}`))).reason).toBe('token expired');
    });

    it('revokes one token through the admin API: its live connection ends at once, new ones are refused', async () => {
      const victim = await token({ subject: 'dave', tokenId: 'dave-laptop' });
      const other = await token({ subject: 'dave', tokenId: 'dave-phone' });
      const socket = await open(url('doc', `?token=${victim}`));
      const survivor = await open(url('doc', `?token=${other}`));
      sockets.push(survivor);

      const notAdmin = await api('/api/auth/revoke', { method: 'POST', token: other, body: JSON.stringify({ tokenId: 'dave-laptop' }) });
      expect(notAdmin.status).toBe(403);

      const admin = await token({ subject: 'ops', admin: true });
      const whenClosed = closed(socket, 2_000);
      const response = await api('/api/auth/revoke', { method: 'POST', token: admin, body: JSON.stringify({ tokenId: 'dave-laptop' }) });
      expect(response.status).toBe(200);
      expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
      expect(await upgrade(url('doc', `?token=${victim}`))).toMatchObject({ status: 401, reason: 'token revoked' });
      expect((await api('/api/auth/me', { token: victim })).status).toBe(401);
      expect(survivor.readyState).toBe(survivor.OPEN);
    });

    it('revokes every token of a subject with the CLI (npm run token -- revoke): live connections end within a second or two', async () => {
      const carol = await token({ subject: 'carol' });
      const socket = await open(url('doc', `?token=${carol}`));
      const whenClosed = closed(socket, 15_000);
      const started = Date.now();
      await promisify(execFile)(process.execPath, [path.resolve('dist/server/cli/token.js'), 'revoke', '--subject', 'carol'], {
        env: { ...baseEnv(), AUTH_SECRET: SECRET, DATA_DIR: server().dataDir },
      });
      expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
      // Documented: about a second (the file is polled every 500 ms); the margin is for a loaded machine.
      expect(Date.now() - started).toBeLessThan(1_000 + 5_000);
      expect((await upgrade(url('doc', `?token=${carol}`))).status).toBe(401);
    });
  });

  describe('the HTTP API', () => {
    it('tells a client who it is', async () => {
      const t = await token({ subject: 'erin', documents: ['team/*'], canWrite: false, expiresInSeconds: 600 });
      const me = (await (await api('/api/auth/me', { token: t })).json()) as Record<string, unknown>;
      expect(me).toMatchObject({ open: false, subject: 'erin', documents: ['team/*'], canWrite: false });
      expect(Date.parse(me.expiresAt as string)).toBeGreaterThan(Date.now() + 590_000);
      // The cookie works as well as the header.
      const viaCookie = await api('/api/auth/me', { headers: { cookie: `collab_token=${t}` } });
      expect(viaCookie.status).toBe(200);
    });

    it('lists only what the token grants, creates only within its patterns, and only with write access', async () => {
      const everything = await token({ subject: 'root' });
      for (const name of ['team/alpha', 'team/beta', 'private/plan']) {
        expect((await api('/api/documents', { method: 'POST', token: everything, body: JSON.stringify({ name }) })).status).toBe(201);
      }
      const team = await token({ subject: 'tm', documents: ['team/*'] });
      const listed = (await (await api('/api/documents', { token: team })).json()) as { documents: Array<{ name: string }> };
      expect(listed.documents.map((d) => d.name).sort()).toEqual(expect.arrayContaining(['team/alpha', 'team/beta']));
      expect(listed.documents.every((d) => d.name.startsWith('team/'))).toBe(true);

      expect((await api('/api/documents/private%2Fplan', { token: team })).status).toBe(403);
      expect((await api('/api/documents/team%2Falpha', { token: team })).status).toBe(200);
      const outside = await api('/api/documents', { method: 'POST', token: team, body: JSON.stringify({ name: 'private/mine' }) });
      expect(outside.status).toBe(403);
      const unnamed = await api('/api/documents', { method: 'POST', token: team, body: '{}' });
      expect(unnamed.status).toBe(201);
      expect(((await unnamed.json()) as { name: string }).name).toMatch(/^team\//);

      const readOnly = await token({ subject: 'ro', documents: ['team/*'], canWrite: false });
      expect((await api('/api/documents', { method: 'POST', token: readOnly, body: JSON.stringify({ name: 'team/gamma' }) })).status).toBe(403);
      expect((await api('/api/documents/team%2Falpha', { method: 'PATCH', token: readOnly, body: JSON.stringify({ title: 'x' }) })).status).toBe(403);
      expect((await api('/api/documents/team%2Falpha', { method: 'PATCH', token: team, body: JSON.stringify({ title: 'Alpha' }) })).status).toBe(200);
    });
  });
});

describe('a server without AUTH_SECRET', () => {
  const server = useServer({ env: { ALLOWED_ORIGINS: 'https://app.example.com' } });

  it('says loudly that it runs open, and serves without tokens', async () => {
    expect(server().logs.join('\n')).toMatch(/RUNNING OPEN/);
    expect(server().logs.join('\n')).toMatch(/AUTH_SECRET is not set/);
    expect(await (await fetch(`${server().httpUrl}/api/auth/me`)).json()).toMatchObject({ open: true, canWrite: true });
    const result = await upgrade(`${server().syncUrl}/doc`);
    expect(result.status).toBe(101);
    result.socket!.close();
  });

  it('still applies an explicit ALLOWED_ORIGINS list', async () => {
    expect((await upgrade(`${server().syncUrl}/doc`, { origin: 'https://evil.example' })).status).toBe(403);
    const allowed = await upgrade(`${server().syncUrl}/doc`, { origin: 'https://app.example.com' });
    expect(allowed.status).toBe(101);
    allowed.socket!.close();
    // The API answers CORS preflights for listed origins only (an embedded editor asks it why it was refused).
    const preflight = (origin: string) =>
      fetch(`${server().httpUrl}/api/documents/doc`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a short AUTH_SECRET at start with a message naming it', async () => {
    expect(await startRefused({ env: { AUTH_SECRET: 'too-short' } })).toMatch(/AUTH_SECRET must be at least 32 characters/);
  });
});
