/**
 * End-to-end over TLS: the server serves the editor over HTTPS with a self-signed certificate
 * (TLS_CERT_FILE/TLS_KEY_FILE, made here with openssl); Chromium, told to accept it, loads the
 * editor (its bundle compressed), connects over wss:// by itself, and two people edit together,
 * with WebSocket compression on.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, screenshot, STATIC_DIR, waitForSaved } from '../helpers/browser.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];

function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { encoding: 'utf8' });
  if (made.error) throw new Error('this test makes a certificate with openssl, which is missing: install the Debian/Ubuntu package `openssl`');
  if (made.status !== 0) throw new Error(`openssl could not make a certificate:\n${made.stderr}`);
  return { certFile, keyFile };
}

/** A person in a browser context that accepts the self-signed certificate (as after clicking through the warning). */
async function person(name: string): Promise<{ page: Page; sockets: string[]; encodings: Map<string, string> }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1180, height: 760 }, deviceScaleFactor: 1 });
  contexts.push(context);
  context.setDefaultTimeout(20_000);
  await context.addInitScript((value: string) => localStorage.setItem('collab.user.name', value), name);
  const page = await context.newPage();
  const sockets: string[] = [];
  const encodings = new Map<string, string>();
  page.on('websocket', (socket) => sockets.push(socket.url()));
  page.on('response', (response) => encodings.set(new URL(response.url()).pathname, response.headers()['content-encoding'] ?? 'identity'));
  return { page, sockets, encodings };
}

beforeAll(async () => {
  const { certFile, keyFile } = makeCertificate(tempDir());
  server = await startServer({ env: { STATIC_DIR, TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, WS_COMPRESSION: 'on' } });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await server?.kill();
});

describe('the editor over HTTPS', () => {
  test('loads compressed, connects over wss:// and syncs two people', async () => {
    expect(server.httpUrl).toMatch(/^https:/);
    const url = `${server.httpUrl}/d/over-tls`;
    const alice = await person('Alice');
    const bob = await person('Bob');
    await alice.page.goto(url);
    await waitForSaved(alice.page);
    await bob.page.goto(url);
    await waitForSaved(bob.page);
    expect(alice.sockets.some((socket) => socket.startsWith(`wss://127.0.0.1:${server.port}/sync/over-tls`))).toBe(true);
    const bundle = [...alice.encodings.entries()].find(([pathname]) => /^\/assets\/.*\.js$/.test(pathname));
    expect(bundle?.[1]).toBe('br');

    await editorContent(alice.page).click();
    await alice.page.keyboard.type('Typed over wss by Alice.', { delay: 5 });
    await editorContent(bob.page).getByText('Typed over wss by Alice.').waitFor();
    await editorContent(bob.page).click();
    await bob.page.keyboard.press('Control+End');
    await bob.page.keyboard.press('Enter');
    await bob.page.keyboard.type('And back, from Bob.', { delay: 5 });
    await editorContent(alice.page).getByText('And back, from Bob.').waitFor();
    await waitForSaved(alice.page);
    await waitForSaved(bob.page);

    await screenshot(alice.page, 'tls-alice');
  }, 90_000);
});
