/**
 * An address with nothing behind it: a page for people (a browser asks for text/html), JSON
 * `{ "error": "nothing at <path>" }` for API clients (JSON, `*∕*`, or no Accept at all).
 */
import { describe, expect, it } from 'vitest';
import { STATIC_DIR } from '../helpers/browser.js';
import { useServer } from '../helpers/server.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

async function get(base: string, path: string, accept?: string): Promise<Response> {
  return fetch(`${base}${path}`, { headers: accept === undefined ? {} : { accept } });
}

describe('without the built client (STATIC_DIR empty)', () => {
  const server = useServer();

  it('answers API clients with JSON, whatever else they accept', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'text/html;q=0.5, application/json', 'application/json, text/html']) {
      const response = await get(server().httpUrl, '/no/such/thing', accept);
      expect(response.status, String(accept)).toBe(404);
      expect(response.headers.get('content-type'), String(accept)).toContain('application/json');
      expect(await response.json()).toEqual({ error: 'nothing at /no/such/thing' });
    }
  });

  it('answers a browser with a page that says so, escaped, under the same security headers', async () => {
    const response = await get(server().httpUrl, '/%3Cscript%3Ealert(1)%3C/script%3E', BROWSER_ACCEPT);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await response.text();
    expect(page).toContain('<h1>Page not found</h1>');
    expect(page).toContain('<a href="/">');
    expect(page).not.toMatch(/<script/i);
  });

  it('leaves the API’s own answers alone', async () => {
    const response = await get(server().httpUrl, '/api/documents/nobody-made-this', BROWSER_ACCEPT);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no document named "nobody-made-this"' });
  });
});

describe('with the built client', () => {
  const server = useServer({ env: { STATIC_DIR } });

  it('answers a browser with the workspace page (it says "Page not found" and links to the documents), API clients with JSON', async () => {
    for (const path of ['/no/such/page', '/.env', '/assets/missing.js']) {
      const page = await get(server().httpUrl, path, BROWSER_ACCEPT);
      expect(page.status, path).toBe(404);
      expect(page.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(await page.text(), path).toContain('<div id="app">');
      const api = await get(server().httpUrl, path, 'application/json');
      expect(api.status, path).toBe(404);
      expect(await api.json(), path).toEqual({ error: `nothing at ${path}` });
    }
    // What exists is served as before.
    expect((await get(server().httpUrl, '/', BROWSER_ACCEPT)).status).toBe(200);
    expect((await get(server().httpUrl, '/d/anything', BROWSER_ACCEPT)).status).toBe(200);
  });
});
