/**
 * Attacks on the HTTP/auth surface, each against a real server process: tenants crowding each
 * other's lists, revocation dodged with a future `iat`, open servers driven by other web pages
 * (foreign Origins, simple cross-site POSTs, DNS rebinding), absurd token claims, missing security
 * headers, dotfiles, and half-open handshakes.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineScriptHashes } from '../../server/http/static.js';
import { startServer, tempDir, useServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, closed, open, startSecureServer, token, upgrade } from './security-harness.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): unknown;
}

/** One HTTP request with exactly these headers (fetch would not let a test set Host). */
function request(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: { ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

describe('lists and creation quotas (AUTH_SECRET set)', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET, MAX_DOCUMENT_CREATIONS_PER_MINUTE: '0', SQLITE_SYNCHRONOUS: 'normal' } });

  it("another tenant's 5,100 creations do not push a tenant's documents out of its list", async () => {
    const victim = await token({ subject: 'victim', documents: ['victim/*'] });
    const attacker = await token({ subject: 'attacker', documents: ['attacker/*'] });
    const create = (who: string, name: string) =>
      request(server().port, 'POST', '/api/documents', { ...json, authorization: `Bearer ${who}` }, JSON.stringify({ name }));
    expect((await create(victim, 'victim/plans')).status).toBe(201);
    // More than the 5,000 most recent documents the list used to scan, all newer than the victim's.
    for (let i = 0; i < 5_100; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => create(attacker, `attacker/${i + j}`)));
      expect(batch.every((answer) => answer.status === 201)).toBe(true);
    }
    const list = await request(server().port, 'GET', '/api/documents?limit=10', { authorization: `Bearer ${victim}` });
    expect(list.status).toBe(200);
    expect((list.json() as { documents: { name: string }[] }).documents.map((d) => d.name)).toEqual(['victim/plans']);
    const theirs = await request(server().port, 'GET', '/api/documents?limit=500', { authorization: `Bearer ${attacker}` });
    expect((theirs.json() as { documents: { name: string }[] }).documents).toHaveLength(500);
  }, 120_000);
});

describe('document creation quota', () => {
  let secure: ServerProcess;
  let openServer: ServerProcess;
  beforeAll(async () => {
    [secure, openServer] = await Promise.all([
      startSecureServer({ MAX_DOCUMENT_CREATIONS_PER_MINUTE: '3' }),
      startServer({ env: { MAX_DOCUMENT_CREATIONS_PER_MINUTE: '3', TRUST_PROXY: '1' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([secure.kill(), openServer.kill()]);
  });

  it('per token subject: beyond it 429 with a JSON reason and Retry-After; other subjects unaffected', async () => {
    const alice = await token({ subject: 'quota-alice', documents: ['a/*'] });
    const bob = await token({ subject: 'quota-bob', documents: ['b/*'] });
    const create = (who: string, name: string) =>
      request(secure.port, 'POST', '/api/documents', { ...json, authorization: `Bearer ${who}` }, JSON.stringify({ name }));
    for (let i = 0; i < 3; i++) expect((await create(alice, `a/${i}`)).status).toBe(201);
    const refused = await create(alice, 'a/3');
    expect(refused.status).toBe(429);
    expect(refused.json()).toEqual({ error: expect.stringMatching(/too many documents created; try again in \d+ s/) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A second token of the same subject shares the quota.
    const aliceAgain = await token({ subject: 'quota-alice', documents: ['a/*'], tokenId: 'second' });
    expect((await create(aliceAgain, 'a/4')).status).toBe(429);
    expect((await create(bob, 'b/0')).status).toBe(201);
  });

  it('per client address when the server runs open', async () => {
    const create = (address: string, name: string) =>
      request(openServer.port, 'POST', '/api/documents', { ...json, 'x-forwarded-for': address }, JSON.stringify({ name }));
    for (let i = 0; i < 3; i++) expect((await create('10.9.0.1', `open-${i}`)).status).toBe(201);
    const refused = await create('10.9.0.1', 'open-3');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await create('10.9.0.2', 'open-4')).status).toBe(201);
  });
});

describe('revocation of a token whose iat is ahead of the server clock', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET } });

  it('revoking the subject ends a token issued 45 s in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ahead = await token({ subject: 'skewed', now: now + 45, tokenId: 'skewed-1' });
    const admin = await token({ subject: 'root', admin: true });
    // Accepted before the revocation (within the 60 s clock leeway): the channel works.
    const socket = await open(`${server().syncUrl}/doc?token=${ahead}`);
    const whenClosed = closed(socket);
    const revoked = await request(server().port, 'POST', '/api/auth/revoke', { ...json, authorization: `Bearer ${admin}` }, JSON.stringify({ subject: 'skewed' }));
    expect(revoked.status).toBe(200);
    expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
    expect((await upgrade(`${server().syncUrl}/doc?token=${ahead}`)).status).toBe(401);
    const me = await request(server().port, 'GET', '/api/auth/me', { authorization: `Bearer ${ahead}` });
    expect(me.status).toBe(401);
    expect(me.json()).toEqual({ error: 'token revoked' });
  });

  it('absurd time claims (exp 1e308, negative iat, nbf beyond year 9999) are a 401 with a reason, not a 500', async () => {
    const key = SECRET;
    const base = { sub: 'eve', docs: ['*'], write: true, exp: Math.floor(Date.now() / 1000) + 600 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, exp: 1e308 }, /"exp" must be Unix seconds/],
      [{ ...base, iat: -5 }, /"iat" must be Unix seconds/],
      [{ ...base, nbf: 1e300 }, /"nbf" must be Unix seconds/],
    ];
    for (const [claims, reason] of cases) {
      const jwt = await sign(claims, key, 'HS256');
      const me = await request(server().port, 'GET', '/api/auth/me', { authorization: `Bearer ${jwt}` });
      expect(me.status).toBe(401);
      expect((me.json() as { error: string }).error).toMatch(reason);
      const ws = await upgrade(`${server().syncUrl}/doc?token=${jwt}`);
      expect(ws.status).toBe(401);
    }
    expect(server().child.exitCode).toBeNull();
  });
});

describe('an open server (no AUTH_SECRET) and other web pages', () => {
  const server = useServer({ env: { PUBLIC_URL: 'https://docs.example.com' } });
  let own: string;
  beforeAll(() => {
    own = server().httpUrl;
  });

  it('refuses API calls from foreign origins and sends them no CORS headers; its own origin and non-browser clients work', async () => {
    const foreign = await request(server().port, 'GET', '/api/documents', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.json()).toEqual({ error: 'origin "https://evil.example" is not allowed' });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(server().port, 'OPTIONS', '/api/documents', { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect((await request(server().port, 'GET', '/api/documents', { origin: own })).status).toBe(200);
    expect((await request(server().port, 'GET', '/api/documents', { origin: 'https://docs.example.com', host: 'docs.example.com' })).status).toBe(200);
    expect((await request(server().port, 'GET', '/api/documents')).status).toBe(200);
  });

  it('refuses simple cross-site writes: a text/plain or form POST never creates a document', async () => {
    const body = JSON.stringify({ name: 'planted' });
    const crossSite = await request(server().port, 'POST', '/api/documents', { origin: 'https://evil.example', 'content-type': 'text/plain' }, body);
    expect(crossSite.status).toBe(403);
    // Even without an Origin (an old browser, a sandboxed frame sending none): not JSON, 415.
    const textPlain = await request(server().port, 'POST', '/api/documents', { 'content-type': 'text/plain' }, body);
    expect(textPlain.status).toBe(415);
    expect(textPlain.json()).toEqual({ error: expect.stringMatching(/Content-Type: application\/json/) });
    const form = await request(server().port, 'POST', '/api/documents', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=planted');
    expect(form.status).toBe(415);
    const patch = await request(server().port, 'PATCH', '/api/documents/planted', { 'content-type': 'text/plain' }, JSON.stringify({ title: 'x' }));
    expect(patch.status).toBe(415);
    expect((await request(server().port, 'GET', '/api/documents/planted')).status).toBe(404);
    // The same request as JSON from a non-browser client works.
    expect((await request(server().port, 'POST', '/api/documents', json, body)).status).toBe(201);
  });

  it('refuses WebSocket upgrades from foreign origins; its own origin and clients without Origin connect', async () => {
    expect(await upgrade(`${server().syncUrl}/doc`, { origin: 'https://evil.example' })).toMatchObject({ status: 403, reason: 'origin "https://evil.example" is not allowed' });
    for (const origin of [own, undefined]) {
      const result = await upgrade(`${server().syncUrl}/doc`, origin ? { origin } : {});
      expect(result.status).toBe(101);
      result.socket!.close();
    }
  });

  it('refuses a rebound Host name (DNS rebinding) on the API, pages and WebSocket upgrades', async () => {
    const evilHost = `evil.example:${server().port}`;
    for (const target of ['/api/documents', '/', '/sync/doc']) {
      const answer = await request(server().port, 'GET', target, { host: evilHost });
      expect(answer.status, target).toBe(403);
      expect((answer.json() as { error: string }).error).toMatch(/DNS rebinding/);
    }
    // The page's own origin is the rebound one, so the Origin check alone would not catch it.
    const rebound = await upgrade(`${server().syncUrl}/doc`, { origin: `http://${evilHost}`, headers: { host: evilHost } });
    expect(rebound.status).toBe(403);
    expect(rebound.reason).toMatch(/DNS rebinding/);
    // Loopback names, IP literals and PUBLIC_URL's host are this server's.
    for (const host of [`localhost:${server().port}`, `127.0.0.1:${server().port}`, 'docs.example.com']) {
      expect((await request(server().port, 'GET', '/api/documents', { host })).status, host).toBe(200);
    }
    // Probes are not Host-checked.
    expect((await request(server().port, 'GET', '/healthz', { host: 'collab.internal' })).status).toBe(200);
  });
});

describe('security headers, source maps and dotfiles of the served pages', () => {
  let server: ServerProcess;
  let framed: ServerProcess;
  const staticDir = tempDir('collab-static-');
  const builtExample = path.resolve('dist/client/examples/embed.html');
  beforeAll(async () => {
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    fs.mkdirSync(path.join(staticDir, 'assets'));
    fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(staticDir, 'assets', '.secret'), 'hidden');
    fs.writeFileSync(path.join(staticDir, '.env'), 'AUTH_SECRET=do-not-serve');
    fs.mkdirSync(path.join(staticDir, '.git'));
    fs.writeFileSync(path.join(staticDir, '.git', 'config'), '[core]');
    fs.mkdirSync(path.join(staticDir, 'examples'));
    const example = fs.existsSync(builtExample)
      ? fs.readFileSync(builtExample, 'utf8')
      : '<!doctype html><script type="module">import "/lib/collab-editor.js";</script>';
    fs.writeFileSync(path.join(staticDir, 'examples', 'embed.html'), example);
    [server, framed] = await Promise.all([
      startServer({ env: { STATIC_DIR: staticDir } }),
      startServer({ env: { STATIC_DIR: staticDir, FRAME_ANCESTORS: "'self' https://portal.example.com" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server.kill(), framed.kill()]);
    fs.rmSync(staticDir, { recursive: true, force: true });
  });

  it('sends CSP, X-Frame-Options, nosniff and Referrer-Policy on pages, assets and API answers', async () => {
    for (const target of ['/', '/d/notes', '/assets/app.js', '/api/documents', '/nothing-here']) {
      const answer = await request(server.port, 'GET', target);
      const csp = String(answer.headers['content-security-policy']);
      expect(csp, target).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port} wss://127.0.0.1:${server.port}`);
      expect(csp).toContain("img-src 'self' data:");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
    }
    const portal = await request(framed.port, 'GET', '/');
    expect(portal.headers['content-security-policy']).toContain("frame-ancestors 'self' https://portal.example.com");
    expect(portal.headers['x-frame-options']).toBeUndefined();
  });

  it("admits the embed example's inline script by hash, and no other inline script", async () => {
    const answer = await request(server.port, 'GET', '/examples/embed.html');
    expect(answer.status).toBe(200);
    const hashes = inlineScriptHashes(answer.body);
    expect(hashes.length).toBeGreaterThan(0);
    const scriptSrc = /script-src ([^;]*)/.exec(String(answer.headers['content-security-policy']))![1]!.split(' ');
    expect(scriptSrc).toEqual(["'self'", ...hashes]);
  });

  it('never serves dotfiles or anything under a dot-directory, however spelled', async () => {
    for (const target of ['/.env', '/.git/config', '/%2egit/config', '/%2Eenv', '/assets/.secret', '/assets/%2esecret', '/examples/../.env']) {
      const answer = await request(server.port, 'GET', target);
      expect(answer.status, target).toBe(404);
      expect(answer.body).not.toContain('do-not-serve');
      expect(answer.body).not.toContain('[core]');
    }
    expect((await request(server.port, 'GET', '/assets/app.js')).status).toBe(200);
    // A document may still be named like a dotfile.
    expect((await request(server.port, 'GET', '/d/.notes')).status).toBe(200);
  });
});

describe('half-open WebSocket handshakes', () => {
  const server = useServer({ env: { MAX_CONNECTIONS_PER_ADDRESS: '3', TRUST_PROXY: '1', HANDSHAKE_TIMEOUT_MS: '1000' } });

  it('cuts off a client that never finishes its upgrade request', async () => {
    const sockets = Array.from({ length: 20 }, () => net.connect(server().port, '127.0.0.1'));
    const answers = sockets.map(() => '');
    sockets.forEach((socket, i) => socket.on('data', (chunk: Buffer) => (answers[i] += chunk.toString())));
    for (const socket of sockets) {
      socket.on('error', () => {});
      socket.write(`GET /sync/doc HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`);
    }
    await waitFor(() => sockets.every((socket) => socket.destroyed), 'the server to cut every half-sent handshake off');
    expect(answers.every((answer) => answer.startsWith('HTTP/1.1 408'))).toBe(true);
    // Still serving, and the address can connect.
    const result = await upgrade(`${server().syncUrl}/doc`);
    expect(result.status).toBe(101);
    result.socket!.terminate();
  });

  it('counts upgrades against the per-address limit from their arrival: 20 at once, 3 admitted', async () => {
    const headers = { 'x-forwarded-for': '10.7.0.1' };
    const results = await Promise.all(Array.from({ length: 20 }, () => upgrade(`${server().syncUrl}/doc`, { headers })));
    expect(results.filter((r) => r.status === 101)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(17);
    for (const r of results) r.socket?.terminate();
    await waitFor(async () => {
      const again = await upgrade(`${server().syncUrl}/doc`, { headers });
      again.socket?.terminate();
      return again.status === 101;
    }, 'the slots to be released');
  });
});
