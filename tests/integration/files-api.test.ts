/**
 * The files API against a real server process: uploads checked by their bytes, served with the
 * headers a user upload needs, the document's access rules, deletion with the document.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { useServer, type ServerProcess } from '../helpers/server.js';
import { SECRET, token } from './security-harness.js';

const MAX_FILE_BYTES = 64 * 1024;
const fixture = (name: string) => fs.readFileSync(path.resolve('tests/fixtures/images', name));
const body = (bytes: Uint8Array | string) => (typeof bytes === 'string' ? bytes : (bytes as Uint8Array<ArrayBuffer>));

type Api = (path: string, init?: RequestInit) => Promise<Response>;
const apiOf = (server: () => ServerProcess): Api => (p, init) => fetch(`${server().httpUrl}${p}`, init);
const filesPath = (name: string) => `/api/documents/${encodeURIComponent(name)}/files`;
const upload = (api: Api, name: string, bytes: Uint8Array | string, type: string | null, headers: Record<string, string> = {}) =>
  api(filesPath(name), { method: 'POST', headers: { ...(type === null ? {} : { 'content-type': type }), ...headers }, body: body(bytes) });
const createDocument = async (api: Api, name: string, headers: Record<string, string> = {}) =>
  expect((await api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name }) })).status).toBe(201);

interface Uploaded {
  id: string;
  url: string;
  type: string;
  size: number;
  width: number;
  height: number;
}

/** POSTs `size` bytes with node:http (fetch reports the early 413 and close as a failed request). */
function postLarge(url: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'image/png' };
    if (!chunked) headers['content-length'] = size;
    let answered = false;
    const request = http.request(url, { method: 'POST', headers }, (response) => {
      answered = true;
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', (error) => (answered ? undefined : reject(error)));
    const png = fixture('chart.png');
    const bytes = Buffer.concat([png, Buffer.alloc(size - png.length)]);
    if (chunked) {
      for (let i = 0; i < bytes.length; i += 8192) request.write(bytes.subarray(i, i + 8192));
      request.end();
    } else {
      request.end(bytes);
    }
  });
}

describe('files API (SQLite, open)', () => {
  const server = useServer({ env: { MAX_FILE_BYTES: String(MAX_FILE_BYTES) } });
  const api = apiOf(server);

  it('stores an image under the SHA-256 of its bytes and serves it back with safe, cacheable headers', async () => {
    await createDocument(api, 'team/notes');
    const png = fixture('chart.png');
    const created = await upload(api, 'team/notes', png, 'image/png');
    expect(created.status).toBe(201);
    const info = (await created.json()) as Uploaded;
    expect(info).toMatchObject({ type: 'image/png', size: png.length, width: 40, height: 30 });
    expect(info.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(info.url).toBe(`/api/documents/team%2Fnotes/files/${info.id}`);
    // The same bytes again, under any declared type: the same file.
    const again = await upload(api, 'team/notes', png, 'application/octet-stream');
    expect(again.status).toBe(200);
    expect(((await again.json()) as Uploaded).id).toBe(info.id);

    const served = await api(info.url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    expect(served.headers.get('content-disposition')).toBe(`inline; filename="${info.id}.png"`);
    expect(served.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(served.headers.get('etag')).toBe(`"${info.id}"`);
    expect((await api(info.url, { headers: { 'if-none-match': `"${info.id}"` } })).status).toBe(304);
  });

  it('accepts PNG, JPEG, GIF and WebP by their bytes, whatever they are called', async () => {
    await createDocument(api, 'formats');
    const cases: Array<[string, string | null, string, number, number]> = [
      ['photo.jpg', 'image/png', 'image/jpeg', 48, 36], // declared wrong: the bytes decide
      ['dot.gif', null, 'image/gif', 1, 1],
      ['lossy.webp', 'image/webp', 'image/webp', 50, 20],
      ['screenshot.png', 'application/octet-stream', 'image/png', 640, 360],
    ];
    for (const [name, declared, type, width, height] of cases) {
      const response = await upload(api, 'formats', fixture(name), declared);
      expect(response.status, name).toBe(201);
      const info = (await response.json()) as Uploaded;
      expect(info, name).toMatchObject({ type, width, height });
      expect((await api(info.url)).headers.get('content-type'), name).toBe(type);
    }
  });

  it('refuses SVG, HTML named .png, other files, empty and oversized bodies with clear errors', async () => {
    await createDocument(api, 'refusals');
    const refusals: Array<[string, Uint8Array | string, string | null, number, RegExp]> = [
      ['svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml', 415, /SVG.*only PNG, JPEG, GIF and WebP/],
      ['svg declared as png', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', 'image/png', 415, /SVG/],
      ['html renamed .png', '<!doctype html><html><body><script>fetch("/api/documents")</script></body></html>', 'image/png', 415, /HTML document/],
      ['html', '<html></html>', 'text/html', 415, /Content-Type/],
      ['png signature over html', Buffer.concat([fixture('chart.png').subarray(0, 8), Buffer.from('<html><script>alert(1)</script></html>')]), 'image/png', 415, /IHDR/],
      ['pdf', '%PDF-1.4 ...', 'application/octet-stream', 415, /PDF/],
      ['a form (cross-site without preflight)', 'a=b', 'application/x-www-form-urlencoded', 415, /Content-Type/],
      ['empty', '', 'image/png', 400, /empty/],
    ];
    for (const [label, bytes, type, status, message] of refusals) {
      const response = await upload(api, 'refusals', bytes, type);
      expect(response.status, label).toBe(status);
      expect(response.headers.get('content-type'), label).toMatch(/application\/json/);
      expect(((await response.json()) as { error: string }).error, label).toMatch(message);
    }
    // Oversized: refused from the Content-Length before the body is read, and while a chunked body streams.
    const url = `${server().httpUrl}${filesPath('refusals')}`;
    const declared = await postLarge(url, MAX_FILE_BYTES + 1, false);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toMatch(`file (MAX_FILE_BYTES) larger than ${MAX_FILE_BYTES} bytes`);
    expect((await postLarge(url, MAX_FILE_BYTES + 1000, true)).status).toBe(413);
    expect((await postLarge(url, MAX_FILE_BYTES, false)).status).toBe(201);
    // Nothing of the refusals was stored.
    expect((await upload(api, 'missing', fixture('chart.png'), 'image/png')).status).toBe(404);
  });

  it('answers 404 for unknown files and ids that cannot be files', async () => {
    await createDocument(api, 'lookups');
    const uploaded = (await (await upload(api, 'lookups', fixture('chart.png'), 'image/png')).json()) as Uploaded;
    expect((await api(`${filesPath('lookups')}/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await api(`${filesPath('lookups')}/..%2F..%2Fetc`)).status).toBe(404);
    // A file belongs to its document: another document's URL with the same id finds nothing.
    await createDocument(api, 'lookups-other');
    expect((await api(`${filesPath('lookups-other')}/${uploaded.id}`)).status).toBe(404);
  });

  it('deletes the files of a deleted document, and the document can show its images until then', async () => {
    await createDocument(api, 'doomed');
    const uploaded = (await (await upload(api, 'doomed', fixture('chart.png'), 'image/png')).json()) as Uploaded;
    const put = await api('/api/documents/doomed/content', { method: 'PUT', headers: { 'content-type': 'text/markdown' }, body: `Look: ![The chart](${uploaded.url})` });
    expect(put.status).toBe(200);
    expect(await (await api('/api/documents/doomed/content?format=html')).text()).toContain(`src="${uploaded.url}"`);
    expect(await (await api('/api/documents/doomed/content?format=markdown')).text()).toBe(`Look: ![The chart](${uploaded.url})`);
    expect((await api(uploaded.url)).status).toBe(200);
    expect((await api('/api/documents/doomed', { method: 'DELETE' })).status).toBe(204);
    expect((await api(uploaded.url)).status).toBe(404);
    expect((await upload(api, 'doomed', fixture('chart.png'), 'image/png')).status).toBe(404);
    // Created again: a new document, without the old files.
    await createDocument(api, 'doomed');
    expect((await api(uploaded.url)).status).toBe(404);
  });

  it('refuses a client update that puts an image of a foreign scheme into the document', async () => {
    await createDocument(api, 'guarded');
    const doc = new Y.Doc();
    const paragraph = new Y.XmlElement('paragraph');
    const image = new Y.XmlElement('image');
    image.setAttribute('src', 'javascript:alert(1)');
    paragraph.insert(0, [image]);
    doc.getXmlFragment('prosemirror').push([paragraph]);
    const response = await api('/api/documents/guarded/update', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: body(Y.encodeStateAsUpdate(doc)) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/attribute "src" of image/);
  });
});

describe('files API access (AUTH_SECRET)', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET, MAX_FILE_BYTES: String(MAX_FILE_BYTES) } });
  const api = apiOf(server);

  it('uploads need a read-write token for the document; fetching, one that can read it', async () => {
    const writer = await token({ subject: 'writer', documents: ['acc/*'], canWrite: true });
    const reader = await token({ subject: 'reader', documents: ['acc/*'], canWrite: false });
    const stranger = await token({ subject: 'stranger', documents: ['other/*'], canWrite: true });
    const auth = (t: string | null): Record<string, string> => (t ? { authorization: `Bearer ${t}` } : {});
    await createDocument(api, 'acc/doc', auth(writer));
    const png = fixture('chart.png');

    const uploads: Array<[string, Record<string, string>, number]> = [
      ['no token', {}, 401],
      ['a garbage token', { authorization: 'Bearer not.a.token' }, 401],
      ['another document’s token', auth(stranger), 403],
      ['a read-only token', auth(reader), 403],
    ];
    for (const [label, headers, status] of uploads) {
      const response = await upload(api, 'acc/doc', png, 'image/png', headers);
      expect(response.status, label).toBe(status);
      expect(((await response.json()) as { error: string }).error, label).toBeTruthy();
    }
    const created = await upload(api, 'acc/doc', png, 'image/png', auth(writer));
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as Uploaded;

    expect((await api(url)).status).toBe(401);
    expect((await api(url, { headers: { authorization: 'Bearer not.a.token' } })).status).toBe(401);
    expect((await api(url, { headers: auth(stranger) })).status).toBe(403);
    // Not even a cached copy is confirmed to a token that cannot read the document.
    expect((await api(url, { headers: { ...auth(stranger), 'if-none-match': url.split('/').pop()! } })).status).toBe(403);
    const read = await api(url, { headers: auth(reader) });
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(png)).toBe(true);
    // The cookie the API also reads.
    expect((await api(url, { headers: { cookie: `collab_token=${reader}` } })).status).toBe(200);
    // A cross-site page cannot upload with the user's cookie: image types need a CORS preflight, which other origins do not get.
    const preflight = await api('/api/documents/acc%2Fdoc/files', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const forged = await upload(api, 'acc/doc', png, 'image/png', { cookie: `collab_token=${writer}`, origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
  });
});
