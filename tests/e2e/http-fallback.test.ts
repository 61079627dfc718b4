/**
 * End-to-end: Chromium behind nginx configured as a proxy that WebSockets do not get through.
 * The editor falls back to HTTP by itself, says so in its status, and edits and cursors flow both
 * ways with an editor connected directly over WebSocket. The transport that worked is remembered.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startUpgradeBlockingNginx, type Nginx } from '../helpers/nginx.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const T = 20_000;

let server: ServerProcess;
let nginx: Nginx;
let browser: Browser;
let behindProxy: UserPage;
let direct: UserPage;

beforeAll(async () => {
  server = await startServer({ env: { STATIC_DIR } });
  nginx = await startUpgradeBlockingNginx([server.port]);
  browser = await launchBrowser();
  behindProxy = await openUser(browser, { name: 'Hana' });
  direct = await openUser(browser, { name: 'Walt' });
});

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await server?.kill();
});

async function typeAtEnd(page: Page, text: string): Promise<void> {
  await editorContent(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 5 });
}

async function expectText(page: Page, text: string): Promise<void> {
  await expect.poll(() => editorContent(page).innerText(), { timeout: T }).toContain(text);
}

describe('behind a proxy that blocks WebSockets', () => {
  test('the editor falls back to HTTP, shows it, and collaborates with a WebSocket editor both ways', async () => {
    const created = await fetch(`${server.httpUrl}/api/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Behind the proxy' }) });
    const { name } = (await created.json()) as { name: string };
    const sockets: string[] = [];
    behindProxy.page.on('websocket', (socket) => sockets.push(socket.url()));

    await behindProxy.page.goto(`${nginx.httpUrl}/d/${encodeURIComponent(name)}`);
    await waitForSaved(behindProxy.page);
    // It tried a WebSocket first, which the proxy did not let through.
    expect(sockets.length).toBeGreaterThan(0);
    await expect.poll(() => statusText(behindProxy.page).textContent(), { timeout: T }).toBe('All changes saved (HTTP)');
    await expect(behindProxy.page.locator('.ce-status').getAttribute('data-transport')).resolves.toBe('http');

    await direct.page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}`);
    await waitForSaved(direct.page);
    await expect(statusText(direct.page).textContent()).resolves.toBe('All changes saved');
    await expect(direct.page.locator('.ce-status').getAttribute('data-transport')).resolves.toBe('websocket');

    await typeAtEnd(behindProxy.page, 'Typed behind the proxy.');
    await expectText(direct.page, 'Typed behind the proxy.');
    await typeAtEnd(direct.page, ' Typed over a WebSocket.');
    await expectText(behindProxy.page, 'Typed over a WebSocket.');

    // Cursors both ways, with names.
    await behindProxy.page.locator('.ce-content .ce-cursor-label', { hasText: 'Walt' }).waitFor({ state: 'visible', timeout: T });
    await typeAtEnd(behindProxy.page, '!');
    await direct.page.locator('.ce-content .ce-cursor-label', { hasText: 'Hana' }).waitFor({ state: 'visible', timeout: T });
    for (const { page } of [behindProxy, direct]) {
      await page.locator('.ce-presence [data-name="Hana"]').waitFor({ timeout: T });
      await page.locator('.ce-presence [data-name="Walt"]').waitFor({ timeout: T });
    }
    await waitForSaved(behindProxy.page);
    await waitForSaved(direct.page);
    await screenshot(behindProxy.page, 'http-fallback-behind-proxy');
    await screenshot(direct.page, 'http-fallback-direct');
    expect(behindProxy.errors).toEqual([]);
    expect(direct.errors).toEqual([]);

    // Remembered: the next visit starts over HTTP without trying a WebSocket first.
    await expect(behindProxy.page.evaluate((host) => localStorage.getItem(`collab.transport:${host}`), nginx.host)).resolves.toBe('http');
    sockets.length = 0;
    await behindProxy.page.reload();
    await waitForSaved(behindProxy.page);
    await expectText(behindProxy.page, 'Typed over a WebSocket.');
    await expect.poll(() => statusText(behindProxy.page).textContent(), { timeout: T }).toBe('All changes saved (HTTP)');
    expect(sockets).toEqual([]);
  });
});
