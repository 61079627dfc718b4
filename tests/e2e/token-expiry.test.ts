/**
 * End-to-end, no interception: the real server ends a live browser connection with 4401 when its
 * token expires (tests/e2e/embed.test.ts fakes the 401/4401 answers to test the client's panel).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../server/auth/tokens.js';
import { editorContent, launchBrowser, openUser, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { useServer } from '../helpers/server.js';

const SECRET = 'token-expiry-test-secret-0123456789abcdef';
const T = 20_000;

const server = useServer({ env: { STATIC_DIR, AUTH_SECRET: SECRET } });
let browser: Browser;
const opened: UserPage[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
}, 90_000);
afterAll(async () => {
  for (const user of opened) await user.context.close();
  await browser?.close();
});

describe('a token that expires while its editor is open', () => {
  it('the server closes the live socket with 4401 "token expired", and the editor says access is denied', async () => {
    const user = await openUser(browser, { name: 'Grace' });
    opened.push(user);
    const { page, context } = user;
    // Record the close codes the page's sockets see (the server's, as sent: nothing is routed).
    await context.addInitScript(() => {
      const closes: Array<[number, string]> = [];
      (window as unknown as { __closes: typeof closes }).__closes = closes;
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener('close', (event) => closes.push([event.code, event.reason]));
        }
      };
    });
    // Long enough to load the page and sync on a loaded machine, short enough to wait for.
    const lifetime = 8;
    const token = await mintToken(SECRET, { subject: 'grace', documents: ['expiring'], canWrite: true, expiresInSeconds: lifetime });
    await page.goto(`${server().httpUrl}/?token=${encodeURIComponent(token)}`);
    await page.goto(`${server().httpUrl}/d/expiring`);
    await editorContent(page).click();
    await page.keyboard.type('written before expiry', { delay: 5 });
    await waitForSaved(page);
    // Still open: the connection lives until the token's expiry...
    expect(await page.evaluate(() => (window as unknown as { __closes: unknown[] }).__closes)).toEqual([]);

    // ...and then the server ends it.
    await page.waitForFunction(() => (window as unknown as { __closes: Array<[number, string]> }).__closes.some(([code]) => code === 4401), null, { timeout: (lifetime + 15) * 1000 });
    const closes = await page.evaluate(() => (window as unknown as { __closes: Array<[number, string]> }).__closes);
    expect(closes.find(([code]) => code === 4401)).toEqual([4401, 'token expired']);
    await statusText(page).filter({ hasText: 'Access denied' }).waitFor({ timeout: T });
    await page.locator('.token-panel').getByText('token expired').waitFor({ timeout: T });
    // The server said why in its log, without the token.
    expect(server().logs.some((line) => line.includes(token))).toBe(false);
    // The edit made before expiry is stored: a fresh token reads it.
    const reader = await mintToken(SECRET, { subject: 'reader', documents: ['expiring'], canWrite: false, expiresInSeconds: 600 });
    const info = await fetch(`${server().httpUrl}/api/documents/expiring`, { headers: { authorization: `Bearer ${reader}` } });
    expect(info.status).toBe(200);
    expect(user.errors.filter((error) => !/401|4401|token expired/.test(error))).toEqual([]);
  });
});
