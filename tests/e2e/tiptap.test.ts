/**
 * End-to-end: a Tiptap editor (StarterKit, Collaboration, CollaborationCaret, the stock
 * @hocuspocus/provider) served by an app of its own on another origin, and collab-docs' editor,
 * in one document, in Debian's Chromium. The Tiptap page (tests/e2e/tiptap/) is bundled with Vite
 * from the installed packages before the tests.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, token } from '../integration/security-harness.js';

const T = 20_000;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

let server: ServerProcess;
let app: http.Server;
let appOrigin: string;
let browser: Browser;
let alice: UserPage;
let tia: UserPage;

/** The Tiptap app: its bundled page, served from its own origin (as another company's app would be). */
async function startTiptapApp(): Promise<void> {
  const outDir = tempDir('tiptap-app-');
  await build({ root: path.resolve('tests/e2e/tiptap'), base: './', configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, minify: false } });
  app = http.createServer((request, response) => {
    const file = path.join(outDir, path.normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+$/, '/index.html'));
    if (!file.startsWith(outDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
}

function tiptapContent(page: Page) {
  return page.locator('#editor .tiptap');
}

async function typeAtEnd(content: ReturnType<typeof tiptapContent>, page: Page, text: string): Promise<void> {
  await content.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 5 });
}

beforeAll(async () => {
  await startTiptapApp();
  // The Tiptap app is on another origin: allowed like any embedding app.
  server = await startServer({ env: { STATIC_DIR, AUTH_SECRET: SECRET, ALLOWED_ORIGINS: appOrigin } });
  browser = await launchBrowser();
  alice = await openUser(browser, { name: 'Alice' });
  tia = await openUser(browser, { name: null });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
  await new Promise((resolve) => app?.close(resolve));
});

test('a Tiptap editor and our editor in one document: text typed in either appears in the other, with the other person’s cursor', async () => {
  const name = 'tiptap/shared';
  const aliceToken = await token({ subject: 'alice', documents: ['tiptap/*'] });
  const tiaToken = await token({ subject: 'tia', documents: ['tiptap/*'] });
  await alice.page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}?token=${aliceToken}`);
  await waitForSaved(alice.page);
  const ours = editorContent(alice.page);
  await ours.click();
  await alice.page.keyboard.type('Written in collab-docs.', { delay: 5 });
  await waitForSaved(alice.page);

  const query = new URLSearchParams({ server: server.syncUrl, document: name, token: tiaToken, name: 'Tia' });
  await tia.page.goto(`${appOrigin}/?${query}`);
  const tiptap = tiptapContent(tia.page);
  await tiptap.getByText('Written in collab-docs.').waitFor({ timeout: T });

  await typeAtEnd(tiptap, tia.page, ' And this in Tiptap.');
  await ours.getByText('And this in Tiptap.', { exact: false }).waitFor({ timeout: T });
  // Tiptap's provider was told its edits are committed.
  await tia.page.locator('#status', { hasText: 'all changes saved' }).waitFor({ timeout: T });

  // Each sees the other's cursor with the name.
  await alice.page.locator('.ce-cursor-label', { hasText: 'Tia' }).waitFor({ timeout: T });
  await ours.click();
  await alice.page.keyboard.press('Control+End');
  await alice.page.keyboard.type(' Alice again.', { delay: 5 });
  await tiptap.getByText('Alice again.', { exact: false }).waitFor({ timeout: T });
  await tia.page.locator('.collaboration-carets__label', { hasText: 'Alice' }).waitFor({ timeout: T });
  await waitForSaved(alice.page);

  const ourText = async () => (await ours.evaluate((el) => {
    const copy = el.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.ce-cursor').forEach((cursor) => cursor.remove());
    return copy.textContent ?? '';
  })).trim();
  const tiptapText = async () => (await tiptap.evaluate((el) => {
    const copy = el.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.collaboration-carets__caret').forEach((caret) => caret.remove());
    return copy.textContent ?? '';
  })).trim();
  await waitFor(async () => (await ourText()) === (await tiptapText()), 'both editors to show the same text', T);
  expect(await ourText()).toBe('Written in collab-docs. And this in Tiptap. Alice again.');

  await screenshot(alice.page, 'tiptap-ours');
  await screenshot(tia.page, 'tiptap-app');
  expect(alice.errors).toEqual([]);
  expect(tia.errors).toEqual([]);
});
