/**
 * End-to-end: the embeddable library (the example page with two editors, and an app on another
 * origin), and the client's side of access tokens.
 */
import type { Browser, Page } from 'playwright-core';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const T = 20_000;

let server: ServerProcess;
let browser: Browser;
const opened: UserPage[] = [];

async function user(name: string | null): Promise<UserPage> {
  const u = await openUser(browser, { name });
  opened.push(u);
  return u;
}

async function typeInto(page: Page, scope: string, text: string): Promise<void> {
  await editorContent(page, scope).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 5 });
}

/**
 * Another app that embeds the editor: its own little HTTP server, so its pages have another origin
 * (another port), which the collaboration server lists in ALLOWED_ORIGINS as an operator would.
 */
let hostApp: http.Server;
let hostOrigin: string;
const hostPage = () => `<!doctype html><html><body><h1>Host app</h1><div id="notes"></div>
      <script type="module">
        import { mountEditor } from '${server.httpUrl}/lib/collab-editor.js';
        window.editor = mountEditor(document.getElementById('notes'), {
          server: '${server.httpUrl}', document: 'embed-e2e', user: { name: 'Carol', color: '#0b7285' },
        });
      </script></body></html>`;

beforeAll(async () => {
  hostApp = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(hostPage()));
  await new Promise<void>((resolve) => hostApp.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://127.0.0.1:${(hostApp.address() as AddressInfo).port}`;
  server = await startServer({ env: { STATIC_DIR, ALLOWED_ORIGINS: hostOrigin } });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
  await new Promise<void>((resolve) => (hostApp ? hostApp.close(() => resolve()) : resolve()));
});

describe('embedding', () => {
  test('the example page embeds two working editors (mountEditor and <collab-editor>)', async () => {
    const { page, errors } = await user(null);
    await page.goto(`${server.httpUrl}/examples/embed.html?doc=embed-e2e`);
    await waitForSaved(page, '#editor-a');
    await waitForSaved(page, '#editor-b');
    // the status events reached the host page
    await page.locator('#status-a', { hasText: 'All changes saved' }).waitFor({ timeout: T });
    await page.locator('#status-b', { hasText: 'All changes saved' }).waitFor({ timeout: T });

    // each editor lists both people, with different colours (same browser, so the same preferred colour)
    for (const scope of ['#editor-a', '#editor-b']) {
      await page.locator(`${scope} .ce-presence [data-name="Alice"]`).waitFor({ timeout: T });
      await page.locator(`${scope} .ce-presence [data-name="Bob"]`).waitFor({ timeout: T });
    }
    await expect
      .poll(async () => {
        const colors = await page.locator('#editor-a .ce-presence .ce-person').evaluateAll((els) => els.map((el) => el.getAttribute('data-color')));
        return new Set(colors).size;
      }, { timeout: T })
      .toBe(2);

    await typeInto(page, '#editor-a', 'Typed in the mountEditor editor.');
    await editorContent(page, '#editor-b').getByText('Typed in the mountEditor editor.').waitFor({ timeout: T });
    await page.keyboard.press('Enter');
    await page.keyboard.type('A second line from Alice.');
    await editorContent(page, '#editor-b').getByText('A second line from Alice.').waitFor({ timeout: T });
    await typeInto(page, '#editor-b', ' Bob answers from the custom element.');
    await editorContent(page, '#editor-a').getByText('Bob answers from the custom element.').waitFor({ timeout: T });
    await page.locator('#editor-a .ce-cursor-label', { hasText: 'Bob' }).waitFor({ state: 'visible', timeout: T });
    await waitForSaved(page, '#editor-a');
    await waitForSaved(page, '#editor-b');

    // the handle: Y.Doc, provider, status; the element exposes it as .editor
    const handle = await page.evaluate(() => {
      const w = window as unknown as { editors: { a: { doc: { getXmlFragment(n: string): { length: number } }; provider: { wsconnected: boolean }; status: { saved: boolean } }; b: { editor: unknown } } };
      return {
        blocks: w.editors.a.doc.getXmlFragment('prosemirror').length,
        connected: w.editors.a.provider.wsconnected,
        saved: w.editors.a.status.saved,
        elementHasEditor: w.editors.b.editor !== null,
      };
    });
    expect(handle).toEqual({ blocks: 2, connected: true, saved: true, elementHasEditor: true });
    await screenshot(page, '20-embed-example');

    // destroy() removes the editor, and the other one sees Alice leave
    await page.evaluate(() => (window as unknown as { editors: { a: { destroy(): void } } }).editors.a.destroy());
    expect(await page.locator('#editor-a .ce-root').count()).toBe(0);
    await page.locator('#editor-b .ce-presence [data-name="Alice"]').waitFor({ state: 'detached', timeout: T });
    expect(errors).toEqual([]);
  });

  test('an app on another origin loads the library and edits the same document', async () => {
    const { page, errors } = await user(null);
    await page.goto(`${hostOrigin}/notes`);
    await waitForSaved(page, '#notes');
    await editorContent(page, '#notes').getByText('Bob answers from the custom element.').waitFor({ timeout: T });
    await page.locator('#notes .ce-presence [data-name="Carol"][data-color="#0b7285"]').waitFor();
    expect(errors).toEqual([]);
  });

  test('the library is served to other origins (CORS)', async () => {
    const response = await fetch(`${server.httpUrl}/lib/collab-editor.js`, { headers: { origin: 'http://other-app.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    const source = await response.text();
    expect(source).toContain('collab-editor');
  });
});

describe('access tokens (client side)', () => {
  test('?token= is stored, removed from the address bar, and sent to the API and the sync socket', async () => {
    const { page } = await user('Dana');
    const apiAuth = page.waitForRequest((request) => request.url().includes('/api/documents'));
    await page.goto(`${server.httpUrl}/?token=tok-123`);
    expect((await apiAuth).headers().authorization).toBe('Bearer tok-123');
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate(() => localStorage.getItem('collab.token'))).toBe('tok-123');

    // The token travels as a WebSocket subprotocol, never in the URL (which proxies log).
    const offered: Array<{ protocols: string[]; search: string }> = [];
    await page.routeWebSocket(/\/sync\//, (ws) => {
      offered.push({ protocols: ws.protocols(), search: new URL(ws.url()).search });
      ws.connectToServer();
    });
    await page.goto(`${server.httpUrl}/d/token-doc`);
    await waitForSaved(page);
    expect(offered[0]).toEqual({ protocols: ['collab', 'collab.token.tok-123'], search: '' });
  });

  test('a 401 from the API shows a field to paste a token, and the list loads with it', async () => {
    const { page } = await user('Erin');
    const created = await fetch(`${server.httpUrl}/api/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Listed once the token is in' }) });
    expect(created.status).toBe(201);
    await page.route('**/api/documents?*', (route) => {
      if (route.request().headers().authorization === 'Bearer good-token') return route.continue();
      return route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'a valid access token is required' }) });
    });
    await page.goto(`${server.httpUrl}/`);
    const panel = page.locator('.token-panel');
    await panel.getByText('a valid access token is required').waitFor({ timeout: T });
    await screenshot(page, '21-token-needed');
    await panel.getByLabel('Access token').fill('good-token');
    await panel.getByRole('button', { name: 'Use token' }).click();
    await panel.waitFor({ state: 'detached', timeout: T });
    await page.locator('.doc-list .doc-link').first().waitFor({ timeout: T });
    expect(await page.evaluate(() => localStorage.getItem('collab.token'))).toBe('good-token');
  });

  test('a sync socket refused with 4401 asks for a token, then reconnects with it', async () => {
    const { page } = await user('Frank');
    const tokens: Array<string | null> = [];
    await page.routeWebSocket(/\/sync\//, (ws) => {
      const token = ws.protocols().find((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX))?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? null;
      tokens.push(token);
      if (token !== 'good-token') {
        ws.close({ code: 4401, reason: 'a valid access token is required' });
        return;
      }
      ws.connectToServer();
    });
    await page.goto(`${server.httpUrl}/d/token-doc`);
    await statusText(page).filter({ hasText: 'Access denied' }).waitFor({ timeout: T });
    const panel = page.locator('.token-panel');
    await panel.getByText('a valid access token is required').waitFor({ timeout: T });
    await screenshot(page, '22-editor-token-needed');
    await panel.getByLabel('Access token').fill('good-token');
    await panel.getByRole('button', { name: 'Use token' }).click();
    await waitForSaved(page);
    await panel.waitFor({ state: 'detached', timeout: T });
    expect(tokens[0]).toBeNull();
    expect(tokens.at(-1)).toBe('good-token');
  });
});

// Against the real server with tokens required (AUTH_SECRET): the server refuses the WebSocket
// handshake with HTTP 401, which a browser only sees as a failed connection; the editor finds out
// from the API and asks for a token.
const TOKENS_MODULE = path.resolve('dist/server/auth/tokens.js');
describe('access tokens (server requiring them)', () => {
  test('without a token the list and the editor ask for one; with it, everything works', async () => {
    const secret = 'e2e-secret-'.padEnd(48, 'x');
    const authServer = await startServer({ env: { STATIC_DIR, AUTH_SECRET: secret } });
    onTestFinished(() => authServer.kill().then(() => undefined));
    const { mintToken } = (await import(pathToFileURL(TOKENS_MODULE).href)) as {
      mintToken(secret: string, options: { subject: string; documents: string[]; canWrite: boolean; expiresInSeconds: number }): Promise<string>;
    };
    const token = await mintToken(secret, { subject: 'grace', documents: ['*'], canWrite: true, expiresInSeconds: 3600 });
    const { page, errors } = await user('Grace');

    await page.goto(`${authServer.httpUrl}/`);
    await page.locator('.token-panel').waitFor({ timeout: T });

    await page.goto(`${authServer.httpUrl}/d/guarded`);
    await statusText(page).filter({ hasText: 'Access denied' }).waitFor({ timeout: T });
    const panel = page.locator('.token-panel');
    await panel.getByLabel('Access token').fill(token);
    await panel.getByRole('button', { name: 'Use token' }).click();
    await waitForSaved(page);
    await typeInto(page, 'body', 'Only for token holders.');
    await waitForSaved(page);

    await page.goto(`${authServer.httpUrl}/examples/embed.html?doc=guarded&token=${encodeURIComponent(token)}`);
    await editorContent(page, '#editor-b').getByText('Only for token holders.').waitFor({ timeout: T });
    await waitForSaved(page, '#editor-a');
    expect(errors).toEqual([]);
  });

  test('a read-only token shows the document and others’ edits but cannot change it', async () => {
    const secret = 'e2e-secret-'.padEnd(48, 'y');
    const authServer = await startServer({ env: { STATIC_DIR, AUTH_SECRET: secret } });
    onTestFinished(() => authServer.kill().then(() => undefined));
    const { mintToken } = (await import(pathToFileURL(TOKENS_MODULE).href)) as {
      mintToken(secret: string, options: { subject: string; documents: string[]; canWrite: boolean; expiresInSeconds: number }): Promise<string>;
    };
    const writeToken = await mintToken(secret, { subject: 'ada', documents: ['minutes'], canWrite: true, expiresInSeconds: 3600 });
    const readToken = await mintToken(secret, { subject: 'guest', documents: ['minutes'], canWrite: false, expiresInSeconds: 3600 });
    const writer = await user('Ada');
    const reader = await user('Guest');
    await writer.page.goto(`${authServer.httpUrl}/d/minutes?token=${encodeURIComponent(writeToken)}`);
    await typeInto(writer.page, 'body', 'Decisions of the day.');
    await waitForSaved(writer.page);

    await reader.page.goto(`${authServer.httpUrl}/d/minutes?token=${encodeURIComponent(readToken)}`);
    await statusText(reader.page).filter({ hasText: 'Read-only' }).waitFor({ timeout: T });
    await editorContent(reader.page).getByText('Decisions of the day.').waitFor({ timeout: T });
    expect(await editorContent(reader.page).getAttribute('contenteditable')).toBe('false');
    await editorContent(reader.page).click();
    await reader.page.keyboard.type('vandalism');
    await typeInto(writer.page, 'body', ' More later.');
    await editorContent(reader.page).getByText('More later.').waitFor({ timeout: T });
    expect(await editorContent(reader.page).innerText()).not.toContain('vandalism');
    expect(await editorContent(writer.page).innerText()).not.toContain('vandalism');
    await screenshot(reader.page, 'read-only');
    expect([...writer.errors, ...reader.errors]).toEqual([]);
  });
});
