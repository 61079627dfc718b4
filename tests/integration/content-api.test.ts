import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, tempDir, useServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, token } from './security-harness.js';

const FRAGMENT = 'prosemirror';
const MAX_CONTENT_BYTES = 65_536;

type Api = (path: string, init?: RequestInit) => Promise<Response>;
const apiOf = (server: () => ServerProcess): Api => (path, init) => fetch(`${server().httpUrl}${path}`, init);
const put = (api: Api, name: string, body: string | Uint8Array, type: string, headers: Record<string, string> = {}, query = '') =>
  api(`/api/documents/${encodeURIComponent(name)}/content${query}`, { method: 'PUT', headers: { 'content-type': type, ...headers }, body: typeof body === 'string' ? body : binary(body) });
const getContent = async (api: Api, name: string, format: string) => (await api(`/api/documents/${encodeURIComponent(name)}/content?format=${format}`)).text();
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
/** A binary request body (fetch's types want an ArrayBuffer-backed view). */
const binary = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/**
 * POSTs a large body with node:http and resolves with the status: the server answers 413 from the
 * Content-Length and closes before the body is sent, which fetch reports as a failed request.
 */
function postLarge(url: string, type: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': type, 'content-length': size } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    request.end(Buffer.alloc(size));
  });
}

/** The text of a client's document, a line per top-level block. */
const blocks = (doc: Y.Doc): string[] =>
  doc
    .getXmlFragment(FRAGMENT)
    .toArray()
    .map((block) => (block instanceof Y.XmlElement ? block.toArray().map((child) => (child instanceof Y.XmlText ? child.toString() : '')).join('') : ''));

/** Resolves with the close code and reason of the provider's next connection close. */
const nextClose = (client: TestClient) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    const onClose = (event: { code: number; reason: string } | null) => {
      if (!event) return;
      client.provider.off('connection-close', onClose as never);
      resolve({ code: event.code, reason: event.reason });
    };
    client.provider.on('connection-close', onClose as never);
  });

describe('content API (SQLite, open)', () => {
  let server: ServerProcess;
  const current = () => server;
  const api = apiOf(current);
  const clients: TestClient[] = [];
  const dataDir = tempDir();
  const env = { MAX_CONTENT_BYTES: String(MAX_CONTENT_BYTES), MAX_MESSAGE_BYTES: String(1024 * 1024) };

  beforeAll(async () => {
    server = await startServer({ dataDir, env });
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server.kill();
  });
  const client = (name: string) => {
    const created = connectClient(server.syncUrl, name);
    clients.push(created);
    return created;
  };

  it('creates with PUT (201), converts to every format, and answers by Accept', async () => {
    const created = await put(api, 'notes/one', '# Plan\n\nShip *it* [soon](https://example.com).\n\n- a\n- b\n', 'text/markdown; charset=utf-8');
    expect(created.status).toBe(201);
    const etag = created.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(await getContent(api, 'notes/one', 'markdown')).toBe('# Plan\n\nShip *it* [soon](https://example.com).\n\n* a\n* b');
    expect(await getContent(api, 'notes/one', 'html')).toBe(
      '<h1>Plan</h1><p>Ship <em>it</em> <a target="_blank" rel="noopener noreferrer nofollow" href="https://example.com">soon</a>.</p><ul><li><p>a</p></li><li><p>b</p></li></ul>',
    );
    expect(JSON.parse(await getContent(api, 'notes/one', 'json')).content[0]).toEqual({ type: 'heading', attrs: { level: 1 }, content: [{ type: 'text', text: 'Plan' }] });
    expect(await getContent(api, 'notes/one', 'text')).toBe('Plan\nShip it soon.\na\nb');
    for (const [accept, type] of [
      ['text/html', 'text/html'],
      ['application/json', 'application/json'],
      ['text/plain;q=0.5, text/markdown;q=0.9', 'text/markdown'],
      ['text/*', 'text/markdown'],
      ['*/*', 'text/markdown'],
    ]) {
      const response = await api('/api/documents/notes%2Fone/content', { headers: { accept } });
      expect(response.headers.get('content-type'), accept).toBe(`${type}; charset=utf-8`);
      expect(response.headers.get('etag')).toBe(etag);
    }
    expect((await api('/api/documents/notes%2Fone/content', { headers: { accept: 'image/png' } })).status).toBe(406);
    expect((await api('/api/documents/notes%2Fone/content?format=docx')).status).toBe(400);
    expect((await api('/api/documents/notes%2Fone/content', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await api('/api/documents/nobody/content')).status).toBe(404);
    expect((await api('/api/documents/nobody/update')).status).toBe(404);
    expect((await api('/api/documents/nobody/state-vector')).status).toBe(404);
    const html = await api('/api/documents/notes%2Fone/content?format=html');
    expect(html.headers.get('content-security-policy')).toMatch(/sandbox/);
  });

  it('writes only on a matching If-Match (412 and nothing changes otherwise), appends, and says when nothing changed', async () => {
    const { headers } = await api('/api/documents/notes%2Fone/content');
    const etag = headers.get('etag')!;
    const stale = await put(api, 'notes/one', 'replaced', 'text/plain', { 'if-match': '"stale"' });
    expect(stale.status).toBe(412);
    expect(await getContent(api, 'notes/one', 'text')).toBe('Plan\nShip it soon.\na\nb');
    expect((await put(api, 'missing-doc', 'x', 'text/plain', { 'if-match': '*' })).status).toBe(412);
    expect((await api('/api/documents/missing-doc')).status).toBe(404);

    const replaced = await put(api, 'notes/one', 'replaced\nsecond line', 'text/plain', { 'if-match': etag });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ changed: true });
    expect(replaced.headers.get('etag')).not.toBe(etag);
    expect((await put(api, 'notes/one', 'x', 'text/plain', { 'if-match': etag })).status).toBe(412);
    const same = await put(api, 'notes/one', 'replaced\nsecond line', 'text/plain');
    expect(await same.json()).toMatchObject({ changed: false });
    expect((await put(api, 'notes/one', '<p>more</p>', 'text/html', {}, '?mode=append')).status).toBe(200);
    expect(await getContent(api, 'notes/one', 'text')).toBe('replaced\nsecond line\nmore');
    expect((await put(api, 'notes/one', 'x', 'text/plain', {}, '?mode=merge')).status).toBe(400);
  });

  it('refuses malformed and oversized bodies and other content types', async () => {
    expect((await put(api, 'bodies', '{"type":', 'application/json')).status).toBe(400);
    expect((await put(api, 'bodies', '>'.repeat(500) + ' deep', 'text/markdown')).status).toBe(400);
    const deepHtml = await put(api, 'bodies', '<div>'.repeat(300), 'text/html');
    expect(deepHtml.status).toBe(400);
    expect(await deepHtml.json()).toEqual({ error: 'HTML nested deeper than 256 levels' });
    expect((await api('/api/documents/bodies')).status).toBe(404); // nothing was created
    const large = await put(api, 'bodies', 'x'.repeat(MAX_CONTENT_BYTES + 1), 'text/plain');
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ error: `request body larger than ${MAX_CONTENT_BYTES} bytes` });
    expect((await put(api, 'bodies', 'a,b', 'text/csv')).status).toBe(415);
    expect((await put(api, 'bodies', 'a', 'application/octet-stream')).status).toBe(415);
    const postText = await api('/api/documents/bodies/update', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(postText.status).toBe(415);
    expect(await postLarge(`${server.httpUrl}/api/documents/notes%2Fone/update`, 'application/octet-stream', 1024 * 1024 + 1)).toBe(413);
    expect((await api('/api/documents/notes%2Fone/update?stateVector=***')).status).toBe(400);
    expect((await api('/api/documents/notes%2Fone/update?stateVector=BQ==')).status).toBe(400);
    // text/plain is a type other sites may send without asking: a browser request from another site is refused.
    expect((await put(api, 'bodies', 'x', 'text/plain', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await put(api, 'bodies', 'x', 'text/plain', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await api('/api/documents', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' })).status).toBe(415);
  });

  it('imports with POST /api/documents, titled by the first heading, and refuses what cannot be imported', async () => {
    const post = (body: unknown) => api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const imported = await post({ name: 'imported', format: 'html', content: '<p>Intro</p><h2>The real title</h2><p><a href="javascript:alert(1)">x</a><script>alert(2)</script></p>' });
    expect(imported.status).toBe(201);
    expect(await imported.json()).toMatchObject({ name: 'imported', title: 'The real title' });
    expect(await getContent(api, 'imported', 'markdown')).toBe('Intro\n\n## The real title\n\nx');
    const titled = await post({ name: 'titled', title: 'Given', content: '# Heading' });
    expect(await titled.json()).toMatchObject({ title: 'Given' });
    expect((await post({ name: 'bad-format', content: 'x', format: 'docx' })).status).toBe(400);
    expect((await post({ name: 'bad-json', content: '{', format: 'json' })).status).toBe(400);
    expect((await post({ name: 'bad-content', content: 42 })).status).toBe(400);
    expect((await api('/api/documents/bad-json')).status).toBe(404);
  });

  it('a live client sees a PUT replace and an append while it types, and loses no keystroke', async () => {
    expect((await put(api, 'live', 'Intro\nOld body\nT:', 'text/plain')).status).toBe(201);
    const typist = client('live');
    await synced(typist);
    await waitFor(() => blocks(typist.doc).length === 3, 'the client to hold the document');
    let typed = '';
    // Typing goes on in this Y.XmlText throughout: the replace must keep it (a minimal edit).
    const text = (typist.doc.getXmlFragment(FRAGMENT).get(2) as Y.XmlElement).get(0) as Y.XmlText;
    const typeOne = () => {
      const char = String.fromCharCode(97 + (typed.length % 26));
      text.insert(text.length, char);
      typed += char;
    };
    const typing = setInterval(typeOne, 15);
    try {
      await waitFor(() => typed.length >= 5, 'some typing');
      // Replace: made from the document as it is (If-Match); when a keystroke got in between, again.
      let replaced = false;
      for (let attempt = 0; attempt < 200 && !replaced; attempt++) {
        const current = await api('/api/documents/live/content?format=json');
        const doc = (await current.json()) as { content: Array<{ content?: Array<{ text: string }> }> };
        doc.content[1] = { type: 'paragraph', content: [{ type: 'text', text: 'New body' }] } as never;
        doc.content.splice(1, 0, { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Added' }] } as never);
        const response = await put(api, 'live', JSON.stringify(doc), 'application/json', { 'if-match': current.headers.get('etag')! });
        if (response.status === 200) replaced = true;
        else expect(response.status).toBe(412);
      }
      expect(replaced).toBe(true);
      expect((await put(api, 'live', 'Appended line', 'text/plain', {}, '?mode=append')).status).toBe(200);
      await waitFor(() => blocks(typist.doc).includes('New body') && blocks(typist.doc).at(-1) === 'Appended line', 'the client to see the replace and the append');
      const seenAt = typed.length;
      await waitFor(() => typed.length >= seenAt + 5, 'typing to go on after the client saw them');
    } finally {
      clearInterval(typing);
    }
    const expected = ['Intro', 'Added', 'New body', `T:${typed}`, 'Appended line'];
    expect(blocks(typist.doc)).toEqual(expected);
    await waitFor(async () => (await getContent(api, 'live', 'text')) === expected.join('\n'), 'the server to hold every keystroke');
  });

  it('a backend-only Y.Doc synced through GET and POST update converges with a live client', async () => {
    expect((await put(api, 'backend', 'Shared start', 'text/plain')).status).toBe(201);
    const live = client('backend');
    await synced(live);
    const backend = new Y.Doc();
    Y.applyUpdate(backend, new Uint8Array(await (await api('/api/documents/backend/update')).arrayBuffer()));
    expect(blocks(backend)).toEqual(['Shared start']);

    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText('From the backend')]);
    backend.getXmlFragment(FRAGMENT).push([paragraph]);
    const serverVector = new Uint8Array(await (await api('/api/documents/backend/state-vector')).arrayBuffer());
    const posted = await api('/api/documents/backend/update', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binary(Y.encodeStateAsUpdate(backend, serverVector)) });
    expect(posted.status).toBe(200);
    await waitFor(() => blocks(live.doc).includes('From the backend'), 'the live client to receive the backend edit');

    const text = (live.doc.getXmlFragment(FRAGMENT).get(0) as Y.XmlElement).get(0) as Y.XmlText;
    text.insert(text.length, ' + live');
    await waitFor(async () => (await getContent(api, 'backend', 'text')).includes('+ live'), 'the live edit to be committed');
    const diff = await api(`/api/documents/backend/update?stateVector=${encodeURIComponent(base64(Y.encodeStateVector(backend)))}`);
    Y.applyUpdate(backend, new Uint8Array(await diff.arrayBuffer()));
    expect(blocks(backend)).toEqual(blocks(live.doc));
    expect(blocks(backend)).toEqual(['Shared start + live', 'From the backend']);
    expect(Buffer.from(Y.encodeStateVector(backend)).equals(Buffer.from(Y.encodeStateVector(live.doc)))).toBe(true);
    // Posting the same update again changes nothing.
    expect((await api('/api/documents/backend/update', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binary(Y.encodeStateAsUpdate(backend)) })).status).toBe(200);
  });

  it('refuses hostile binary updates with the reason, storing nothing', async () => {
    expect((await put(api, 'guarded', 'Honest', 'text/plain')).status).toBe(201);
    const before = Buffer.from(await (await api('/api/documents/guarded/update')).arrayBuffer());
    const post = (update: Uint8Array) => api('/api/documents/guarded/update', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binary(update) });
    const attack = (build: (fragment: Y.XmlFragment, doc: Y.Doc) => void) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, new Uint8Array(before));
      const start = Y.encodeStateVector(doc);
      build(doc.getXmlFragment(FRAGMENT), doc);
      return Y.encodeStateAsUpdate(doc, start);
    };
    const cases: Array<[Uint8Array, RegExp, number]> = [
      [attack((f) => f.push([new Y.XmlText('root text')])), /update refused: doc may not hold text/, 400],
      [attack((f) => f.push([new Y.XmlElement('script')])), /update refused: unknown node "script"/, 400],
      [attack((f) => { const p = new Y.XmlElement('paragraph'); p.setAttribute('onclick', 'x()'); f.push([p]); }), /unknown attribute "onclick"/, 400],
      [attack((f) => { let top = new Y.XmlElement('blockquote'); f.push([top]); for (let i = 0; i < 150; i++) { const next = new Y.XmlElement('blockquote'); top.push([next]); top = next; } }), /nested deeper than 100 levels/, 400],
      [new Uint8Array([0, 5, 1, 2]), /malformed update|truncated/, 400],
    ];
    // An update that needs content the server never saw: refused whole, not held back.
    const elsewhere = new Y.Doc();
    const pieces: Uint8Array[] = [];
    elsewhere.on('update', (update: Uint8Array) => pieces.push(update));
    elsewhere.getText('t').insert(0, 'a');
    elsewhere.getText('t').insert(1, 'b');
    cases.push([pieces[1]!, /needs changes of client \d+ from clock 0/, 409]);
    for (const [update, reason, status] of cases) {
      const response = await post(update);
      expect(response.status, String(reason)).toBe(status);
      expect(((await response.json()) as { error: string }).error).toMatch(reason);
    }
    const after = Buffer.from(await (await api('/api/documents/guarded/update')).arrayBuffer());
    expect(after.equals(before)).toBe(true);
    expect(await getContent(api, 'guarded', 'text')).toBe('Honest');
  });

  it('searches titles and text content', async () => {
    expect((await put(api, 'search/alpha', '# Zebra handbook\n\nHow to feed quokkas.', 'text/markdown')).status).toBe(201);
    expect((await put(api, 'search/beta', 'Nothing about stripes, but quokkas again.', 'text/plain')).status).toBe(201);
    const search = async (q: string) => ((await (await api(`/api/documents?q=${encodeURIComponent(q)}`)).json()) as { documents: Array<{ name: string }> }).documents.map((d) => d.name);
    await waitFor(async () => (await search('zebra')).includes('search/alpha'), 'the title to be searchable');
    expect((await search('quokk')).sort()).toEqual(['search/alpha', 'search/beta']);
    expect(await search('quokkas stripes')).toEqual(['search/beta']);
    expect(await search('nothing-matches-this')).toEqual([]);
    expect((await api(`/api/documents?q=${'x'.repeat(600)}`)).status).toBe(400);
  });

  it('deletes everywhere: live clients closed with 4404, reconnecting clients cannot bring it back, gone from list, search and content, also after a restart', async () => {
    expect((await put(api, 'doomed', 'Doomed findable words', 'text/plain')).status).toBe(201);
    const first = client('doomed');
    const second = client('doomed');
    await Promise.all([synced(first), synced(second)]);
    const closes = [nextClose(first), nextClose(second)];
    const response = await api('/api/documents/doomed', { method: 'DELETE' });
    expect(response.status).toBe(204);
    for (const closed of await Promise.all(closes)) expect(closed).toEqual({ code: 4404, reason: 'document deleted' });
    // The stock client stops by itself on 44xx; one that reconnects anyway (and has edits) is closed again.
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText('edit made after the deletion')]);
    first.doc.getXmlFragment(FRAGMENT).push([paragraph]);
    const again = nextClose(first);
    first.provider.connect();
    expect(await again).toEqual({ code: 4404, reason: 'document deleted' });

    const gone = async () => {
      expect((await api('/api/documents/doomed')).status).toBe(404);
      expect((await api('/api/documents/doomed/content')).status).toBe(404);
      expect((await api('/api/documents/doomed/update')).status).toBe(404);
      const list = (await (await api('/api/documents')).json()) as { documents: Array<{ name: string }> };
      expect(list.documents.map((d) => d.name)).not.toContain('doomed');
      const found = (await (await api('/api/documents?q=findable')).json()) as { documents: unknown[] };
      expect(found.documents).toEqual([]);
      expect((await api('/api/documents/doomed', { method: 'DELETE' })).status).toBe(404);
    };
    await gone();
    const port = server.port;
    await server.kill();
    server = await startServer({ dataDir, port, env });
    await gone();
    const reconnecting = nextClose(first);
    first.provider.connect();
    expect(await reconnecting).toEqual({ code: 4404, reason: 'document deleted' });
    await gone();
    // Created again explicitly, the name is usable, and empty.
    expect((await put(api, 'doomed', 'A fresh start', 'text/plain')).status).toBe(201);
    expect(await getContent(api, 'doomed', 'text')).toBe('A fresh start');
  });
});

describe('content API access (AUTH_SECRET)', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET, ALLOWED_ORIGINS: 'https://app.example' } });
  const api = apiOf(server);

  it('lets each route do exactly what the token allows', async () => {
    const writer = await token({ subject: 'writer', documents: ['acc/*'], canWrite: true });
    const reader = await token({ subject: 'reader', documents: ['acc/*'], canWrite: false });
    const stranger = await token({ subject: 'stranger', documents: ['other/*'], canWrite: true });
    const auth = (t: string | null): Record<string, string> => (t ? { authorization: `Bearer ${t}` } : {});
    expect((await put(api, 'acc/doc', 'Secret plans', 'text/plain', auth(writer))).status).toBe(201);
    const updateBody = (() => {
      const doc = new Y.Doc();
      const paragraph = new Y.XmlElement('paragraph');
      paragraph.insert(0, [new Y.XmlText('x')]);
      doc.getXmlFragment(FRAGMENT).push([paragraph]);
      return Y.encodeStateAsUpdate(doc);
    })();
    const routes: Array<{ label: string; write: boolean; call: (headers: Record<string, string>) => Promise<Response> }> = [
      { label: 'GET content', write: false, call: (h) => api('/api/documents/acc%2Fdoc/content', { headers: h }) },
      { label: 'GET update', write: false, call: (h) => api('/api/documents/acc%2Fdoc/update', { headers: h }) },
      { label: 'GET state-vector', write: false, call: (h) => api('/api/documents/acc%2Fdoc/state-vector', { headers: h }) },
      { label: 'PUT content', write: true, call: (h) => put(api, 'acc/doc', 'Secret plans', 'text/plain', h) },
      { label: 'POST update', write: true, call: (h) => api('/api/documents/acc%2Fdoc/update', { method: 'POST', headers: { ...h, 'content-type': 'application/octet-stream' }, body: binary(updateBody) }) },
      { label: 'POST import', write: true, call: (h) => api('/api/documents', { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acc/imported', content: '# x' }) }) },
    ];
    for (const route of routes) {
      expect((await route.call(auth(null))).status, `${route.label} without a token`).toBe(401);
      expect((await route.call({ authorization: 'Bearer not.a.token' })).status, `${route.label} with garbage`).toBe(401);
      expect((await route.call(auth(stranger))).status, `${route.label} for another document`).toBe(403);
      expect((await route.call(auth(reader))).status, `${route.label} read-only`).toBe(route.write ? 403 : 200);
      expect((await route.call(auth(writer))).status, `${route.label} read-write`).toBeLessThan(300);
    }
    // Search and list show only granted documents.
    const found = async (t: string) => ((await (await api('/api/documents?q=secret', { headers: auth(t) })).json()) as { documents: Array<{ name: string }> }).documents;
    await waitFor(async () => (await found(reader)).length === 1, 'the reader to find the document');
    expect(await found(stranger)).toEqual([]);
    // Delete last: read-only and other tokens may not.
    expect((await api('/api/documents/acc%2Fdoc', { method: 'DELETE' })).status).toBe(401);
    expect((await api('/api/documents/acc%2Fdoc', { method: 'DELETE', headers: auth(reader) })).status).toBe(403);
    expect((await api('/api/documents/acc%2Fdoc', { method: 'DELETE', headers: auth(stranger) })).status).toBe(403);
    expect((await api('/api/documents/acc%2Fdoc', { method: 'DELETE', headers: { ...auth(writer), 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await api('/api/documents/acc%2Fdoc', { method: 'DELETE', headers: auth(writer) })).status).toBe(204);
    expect((await api('/api/documents/acc%2Fdoc/content', { headers: auth(reader) })).status).toBe(404);
  });

  it('lets allowed origins preflight the content routes, and no one else', async () => {
    const preflight = (origin: string, method: string) =>
      api('/api/documents/acc%2Fx/content', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,if-match' } });
    const allowed = await preflight('https://app.example', 'PUT');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/PUT/);
    expect(allowed.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/if-match/i);
    const refused = await preflight('https://evil.example', 'PUT');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// The conversions (Markdown, HTML: linkedom, markdown-it…) and the diff are imported on a server's
// first request that needs them, not at startup (server/content/lazy.ts). Each block below has a
// server of its own, so that its first requests are the ones that load them, arriving together.
describe('content API on a fresh server: conversions load on the first requests that need them', () => {
  const server = useServer();
  const api = apiOf(server);

  it('answers two concurrent first GETs of content with the same, correct Markdown, then HTML', async () => {
    // Created and filled without converting anything: a creation and a binary Yjs update.
    expect((await api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'first' }) })).status).toBe(201);
    const doc = new Y.Doc();
    const heading = new Y.XmlElement('heading');
    heading.setAttribute('level', 1 as never);
    heading.insert(0, [new Y.XmlText('Plan')]);
    const body = new Y.XmlText();
    body.insert(0, 'Ship ');
    body.insert(5, 'it', { em: {} });
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [body]);
    doc.getXmlFragment(FRAGMENT).push([heading, paragraph]);
    const posted = await api('/api/documents/first/update', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: binary(Y.encodeStateAsUpdate(doc)) });
    expect(posted.status).toBe(200);

    const answers = await Promise.all([api('/api/documents/first/content'), api('/api/documents/first/content', { headers: { accept: 'text/markdown' } })]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(await answer.text()).toBe('# Plan\n\nShip *it*');
    }
    expect(await getContent(api, 'first', 'html')).toBe('<h1>Plan</h1><p>Ship <em>it</em></p>');
  });
});

describe('content API on a fresh server: concurrent first writes', () => {
  const server = useServer();
  const api = apiOf(server);

  it('creates with two concurrent first PUTs and an import, each converted and written in full', async () => {
    const [markdown, html, imported] = await Promise.all([
      put(api, 'put/markdown', '# One\n\n- a\n- b\n', 'text/markdown'),
      put(api, 'put/html', '<h2>Two</h2><p>with <strong>bold</strong></p>', 'text/html'),
      api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'imported', format: 'markdown', content: '# Three\n\nImported *text*' }) }),
    ]);
    expect([markdown.status, html.status, imported.status]).toEqual([201, 201, 201]);
    expect(((await imported.json()) as { title: string }).title).toBe('Three');
    expect(await getContent(api, 'put/markdown', 'markdown')).toBe('# One\n\n* a\n* b');
    expect(await getContent(api, 'put/html', 'markdown')).toBe('## Two\n\nwith **bold**');
    expect(await getContent(api, 'imported', 'markdown')).toBe('# Three\n\nImported *text*');
  });
});
