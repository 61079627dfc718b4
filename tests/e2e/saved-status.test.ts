/**
 * End-to-end: the editor's "All changes saved" means committed. With PostgreSQL stalled (a proxy
 * between the server and PostgreSQL stops forwarding: no error, no answer), a person types; the
 * server has the edit but cannot commit it, and the status stays "Saving…" until PostgreSQL answers
 * again, then reads "All changes saved".
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { editorContent, launchBrowser, openUser, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { counter } from '../helpers/metrics.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, type PostgresService } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const T = 20_000;

let postgres: PostgresService;
let proxy: TcpProxy;
let server: ServerProcess;
let browser: Browser;
const opened: UserPage[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  const url = new URL(await postgres.createDatabase());
  proxy = await startTcpProxy(postgres.port);
  url.port = String(proxy.port);
  server = await startServer({ env: { STATIC_DIR, DATABASE_URL: url.href } });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  for (const user of opened) await user.context.close();
  await browser?.close();
  proxy?.resume();
  await server?.kill();
  await proxy?.close();
  await postgres?.stop();
});

/** Every state the page's status indicator showed since this was called (`saved|label`), in order. */
async function recordStatus(user: UserPage): Promise<void> {
  await user.page.evaluate(() => {
    const status = document.querySelector('.ce-status')!;
    const history: string[] = [];
    (window as unknown as { __statusHistory: string[] }).__statusHistory = history;
    const note = () => history.push(`${status.getAttribute('data-saved')}|${status.querySelector('.ce-status-text')?.textContent ?? ''}`);
    note();
    new MutationObserver(note).observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
  });
}
const statusHistory = (user: UserPage) => user.page.evaluate(() => [...(window as unknown as { __statusHistory: string[] }).__statusHistory]);

describe('the saved status', () => {
  it('stays "Saving…" while PostgreSQL stalls with an edit uncommitted, and says "All changes saved" once it is committed', async () => {
    const user = await openUser(browser, { name: 'Heidi' });
    opened.push(user);
    const { page } = user;
    await page.goto(`${server.httpUrl}/d/stalled`);
    await waitForSaved(page);
    // Another client of the document: what it receives was committed (the server relays only then).
    const witness = connectClient(server.syncUrl, 'stalled');
    clients.push(witness);
    await synced(witness);
    const witnessText = () => witness.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).toString();
    await recordStatus(user);

    proxy.pause();
    const received = () => counter(server.httpUrl, 'collab_messages_in_total', '{type="sync-update"}');
    const receivedBefore = await received();
    await editorContent(page).click();
    // One input event (as a paste is): one update, one commit. Typed key by key, the later keys would
    // queue behind the stalled commit, and an acknowledgement of the first alone would go unseen.
    await page.keyboard.insertText('typed while storage stalls');
    await statusText(page).filter({ hasText: 'Saving…' }).waitFor({ timeout: T });
    // The server has the edit...
    await waitFor(async () => (await received()) > receivedBefore, 'the server to receive the edit');
    // ...and anything it sent the page after receiving it has arrived: the witness's cursor, which it
    // announces only now, reaches the page (in order, on the same socket). An acknowledgement sent
    // on receipt rather than after the commit would have come before it.
    witness.provider.awareness.setLocalStateField('user', { name: 'Witness' });
    await page.locator('.ce-presence [data-name="Witness"]').waitFor({ timeout: T });
    expect(witnessText()).not.toContain('typed while storage stalls');
    const whileStalled = await statusHistory(user);
    expect(whileStalled.at(-1)).toBe('false|Saving…');
    // Not even for a moment: since the typing began, no state said saved.
    const sinceTyping = whileStalled.slice(whileStalled.findIndex((entry) => entry.startsWith('false|')));
    expect(sinceTyping.filter((entry) => entry.startsWith('true|') || entry.endsWith('|All changes saved'))).toEqual([]);

    // PostgreSQL answers again: the edit is committed, relayed, and only then reported saved.
    proxy.resume();
    await waitFor(() => witnessText().includes('typed while storage stalls'), 'the edit to be committed and relayed', T);
    await waitForSaved(page, 'body', T);
    await expect(statusText(page).textContent()).resolves.toBe('All changes saved');
    expect(user.errors).toEqual([]);
  });
});
