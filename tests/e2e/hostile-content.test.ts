/**
 * End-to-end: the editor in Chromium against the real server, facing content and awareness data
 * that other clients control.
 *
 * - Content that does not fit the schema must never be erased by an honest user's editor: editing
 *   pauses (an alert, a read-only rendering) and the editor writes nothing. The hostile update is
 *   delivered into the victim's socket (a routed WebSocket, connected to the real server), exactly
 *   as a server relays it: that is what a document stored before the server checked content, or a
 *   server without the check, sends; and it keeps this test about the editor even when the server
 *   refuses such updates itself.
 * - Awareness (names, colours, cursors) is data: a colour carrying CSS must not reach a style.
 * - The access token travels as a WebSocket subprotocol, never in the URL.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as decoding from 'lib0/decoding';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import * as Y from 'yjs';
import { encodeFrame, writeUpdate } from '../../server/sync/protocol.js';
import { TOKEN_SUBPROTOCOL_PREFIX } from '../../shared/auth.js';
import { MessageType, PROSEMIRROR_FRAGMENT, SyncMessageType } from '../../shared/protocol.js';
import { launchBrowser, openUser, screenshot, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const T = 20_000;
const PAUSED = 'This document contains content this editor cannot display; editing is paused so nothing is lost.';

let server: ServerProcess;
let browser: Browser;
const opened: UserPage[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  // Two tests embed the editor in a page of another origin (an app without the server's CSP).
  server = await startServer({ env: { STATIC_DIR, ALLOWED_ORIGINS: '*' } });
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await browser?.close();
  await server?.kill();
});

async function user(name: string): Promise<UserPage> {
  const u = await openUser(browser, { name });
  opened.push(u);
  return u;
}

async function client(documentName: string): Promise<TestClient> {
  const c = connectClient(server.syncUrl, documentName);
  clients.push(c);
  await synced(c);
  return c;
}

/** A y-websocket sync Update frame, as the server relays it. */
function updateFrame(update: Uint8Array): Buffer {
  return Buffer.from(encodeFrame(writeUpdate, update));
}

/** The Yjs updates (sync step 2 or update) in a frame the page sent, or null for other frames. */
function updateIn(frame: string | Buffer): Uint8Array | null {
  if (typeof frame === 'string') return null;
  const decoder = decoding.createDecoder(new Uint8Array(frame));
  if (decoding.readVarUint(decoder) !== MessageType.Sync) return null;
  const kind = decoding.readVarUint(decoder);
  return kind === SyncMessageType.Step2 || kind === SyncMessageType.Update ? decoding.readVarUint8Array(decoder) : null;
}

interface RoutedPage {
  /** The page's side of its sync socket (to deliver frames to the editor). */
  socket(): WebSocketRoute;
  /** Every Yjs update the page sent to the server. */
  sent: Uint8Array[];
}

/** Routes the page's sync socket through the test (still connected to the real server), recording what the page sends. */
async function routeSync(page: Page): Promise<RoutedPage> {
  let current: WebSocketRoute | null = null;
  const sent: Uint8Array[] = [];
  await page.routeWebSocket(/\/sync\//, (ws) => {
    current = ws;
    const upstream = ws.connectToServer();
    ws.onMessage((message) => {
      const update = updateIn(message);
      if (update) sent.push(update);
      upstream.send(message);
    });
  });
  return {
    socket: () => {
      if (!current) throw new Error('the page has not opened its sync socket');
      return current;
    },
    sent,
  };
}

/** Whether an update deletes anything. */
function deletes(update: Uint8Array): boolean {
  return Y.decodeUpdate(update).ds.clients.size > 0;
}

/** Builds `spoil`'s change on a copy of `base` and returns it as an update (not sent to the server). */
function hostileUpdate(base: Y.Doc, spoil: (fragment: Y.XmlFragment) => void): { update: Uint8Array; attacker: Y.Doc } {
  const attacker = new Y.Doc();
  Y.applyUpdate(attacker, Y.encodeStateAsUpdate(base));
  const before = Y.encodeStateVector(attacker);
  attacker.transact(() => spoil(attacker.getXmlFragment(PROSEMIRROR_FRAGMENT)));
  return { update: Y.encodeStateAsUpdate(attacker, before), attacker };
}

function paragraph(text: string): Y.XmlElement {
  const element = new Y.XmlElement('paragraph');
  element.insert(0, [new Y.XmlText(text)]);
  return element;
}

/** Nests `depth` blockquotes top-down (each inserted once its parent is in the document). */
function appendNestedQuotes(fragment: Y.XmlFragment, depth: number): void {
  let current: Y.XmlFragment = fragment;
  for (let i = 0; i < depth; i++) {
    const next = new Y.XmlElement('blockquote');
    current.insert(current === fragment ? 0 : current.length, [next]);
    current = next;
  }
  current.insert(0, [paragraph('at the bottom')]);
}

const HOSTILE: Array<[string, (fragment: Y.XmlFragment) => void]> = [
  ['text at the root of the fragment', (fragment) => fragment.insert(0, [new Y.XmlText('loose text at the root')])],
  [
    'an unknown element',
    (fragment) => {
      const unknown = new Y.XmlElement('marquee');
      unknown.insert(0, [paragraph('inside the unknown element')]);
      fragment.insert(1, [unknown]);
    },
  ],
  ['2,500 nested blockquotes', (fragment) => appendNestedQuotes(fragment, 2_500)],
];

describe('content that does not fit the schema', () => {
  test.each(HOSTILE)('%s: editing pauses with an alert, the rest stays visible, and the editor erases nothing', async (what, spoil) => {
    const name = `hostile-${what.replace(/[^a-z0-9]+/gi, '-')}`;
    const writer = await client(name);
    writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [paragraph('Keep this first paragraph.'), paragraph('And keep this one too.')]);

    const { page, errors } = await user('Victim');
    const routed = await routeSync(page);
    await page.goto(`${server.httpUrl}/d/${name}`);
    await waitForSaved(page);
    await page.locator('.ce-content').getByText('And keep this one too.').waitFor({ timeout: T });

    const { update, attacker } = hostileUpdate(writer.doc, spoil);
    const sentBefore = routed.sent.length;
    routed.socket().send(updateFrame(update));

    const alert = page.getByRole('alert').filter({ hasText: PAUSED });
    await alert.waitFor({ timeout: T });
    const fallback = page.locator('.ce-fallback');
    await fallback.getByText('Keep this first paragraph.').waitFor({ timeout: T });
    await fallback.getByText('And keep this one too.').waitFor({ timeout: T });
    expect(await page.locator('.ProseMirror').getAttribute('contenteditable')).toBe('false');
    if (what.startsWith('text')) await fallback.getByText('loose text at the root').waitFor();
    if (what.startsWith('an unknown')) {
      await fallback.getByText('Unsupported content: marquee').waitFor();
      await fallback.getByText('inside the unknown element').waitFor();
      await screenshot(page, '30-hostile-content-paused');
    }
    if (what.startsWith('2,500')) await fallback.getByText('content nested deeper than 100 levels is not shown').first().waitFor();

    // The victim tries to type: nothing is written.
    await fallback.click();
    await page.keyboard.type('typed while paused');
    await page.keyboard.press('Enter');
    // An honest edit from someone else still shows (proves updates keep flowing to the page)...
    writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(2, [paragraph('A later honest edit.')]);
    await fallback.getByText('A later honest edit.').waitFor({ timeout: T });
    // ...and by then the page had sent no update at all (in particular none deleting content).
    expect(routed.sent.slice(sentBefore).filter(deletes)).toEqual([]);
    expect(routed.sent.slice(sentBefore)).toEqual([]);
    expect(await page.getByText('typed while paused').count()).toBe(0);
    expect(errors).toEqual([]);

    if (what.startsWith('text')) {
      // Once the content fits again (the attacker's text is removed), editing resumes.
      const before = Y.encodeStateVector(attacker);
      attacker.getXmlFragment(PROSEMIRROR_FRAGMENT).delete(0, 1);
      routed.socket().send(updateFrame(Y.encodeStateAsUpdate(attacker, before)));
      await alert.waitFor({ state: 'hidden', timeout: T });
      await page.locator('.ProseMirror[contenteditable="true"]').getByText('A later honest edit.').waitFor({ timeout: T });
      await page.locator('.ProseMirror').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type(' Editing again.');
      const reader = await client(name);
      await waitFor(() => reader.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).toString().includes('Editing again.'), 'the resumed edit to reach the server', T);
      const text = reader.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).toString();
      expect(text).toContain('Keep this first paragraph.');
      expect(text).toContain('And keep this one too.');
      expect(errors).toEqual([]);
    }
  });

  test('an update that cannot be applied is reported with an alert, not swallowed into a blank page', async () => {
    const name = 'hostile-broken-update';
    const writer = await client(name);
    writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [paragraph('Still shown after the broken update.')]);
    const { page } = await user('Victim');
    const routed = await routeSync(page);
    await page.goto(`${server.httpUrl}/d/${name}`);
    await waitForSaved(page);
    const sentBefore = routed.sent.length;
    routed.socket().send(updateFrame(new Uint8Array([1, 2, 3, 255, 255])));
    await page.getByRole('alert').filter({ hasText: 'An update to this document could not be shown; editing is paused so nothing is lost.' }).waitFor({ timeout: T });
    await page.locator('.ce-fallback').getByText('Still shown after the broken update.').waitFor({ timeout: T });
    expect(await page.locator('.ProseMirror').getAttribute('contenteditable')).toBe('false');
    expect(routed.sent.slice(sentBefore).filter(deletes)).toEqual([]);
  });
});

describe('awareness is data, not markup', () => {
  test('a colour carrying CSS never reaches a style, and a hostile name is shown as bounded text', async () => {
    const name = 'hostile-awareness';
    const writer = await client(name);
    writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).insert(0, [paragraph('Hello world, watched by Mallory.')]);

    // An app embedding the editor, on its own origin with no Content-Security-Policy (the
    // server's own pages have one that would block the fetch anyway; embedders may not), and the
    // listener the hostile CSS points at: every request to that origin is recorded.
    const requests: string[] = [];
    const html = `<!doctype html><html><body><div id="notes"></div>
      <script type="module">
        import { mountEditor } from '${server.httpUrl}/lib/collab-editor.js';
        mountEditor(document.getElementById('notes'), { server: '${server.httpUrl}', document: '${name}', user: { name: 'Victim' } });
      </script></body></html>`;
    const app = http.createServer((req, res) => {
      if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      if (req.url !== '/favicon.ico') requests.push(req.url ?? ''); // the browser asks for that by itself
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => app.close(() => resolve())));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

    const { page, errors } = await user('Victim');
    await page.goto(`${base}/`);
    await waitForSaved(page, '#notes');
    await page.locator('.ce-content').getByText('Hello world').waitFor({ timeout: T });

    // The channel works: the page can reach the listener.
    await page.evaluate((url) => fetch(url).then((r) => r.text()), `${base}/probe-before`);
    expect(requests).toEqual(['/probe-before']);

    const text = (writer.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).get(0) as Y.XmlElement).get(0) as Y.XmlText;
    const position = (index: number) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, index));
    const hostileName = `Mallory <img src="${base}/img">${'x'.repeat(200)}`;
    const mallory = await client(name);
    mallory.provider.awareness.setLocalState({
      user: { name: hostileName, color: `red;background:url(${base}/x);position:fixed;inset:0` },
      cursor: { anchor: position(0), head: position(5) },
    });
    // A second hostile state shaped to crash y-prosemirror's cursor code (user not an object, positions missing).
    const broken = await client(name);
    broken.provider.awareness.setLocalState({ user: 'not an object', cursor: { anchor: null, head: 5 } });

    const chip = page.locator('.ce-presence .ce-person', { hasText: 'Mallory' });
    await chip.waitFor({ timeout: T });
    const caret = page.locator('.ce-cursor', { hasText: 'Mallory' });
    await caret.waitFor({ timeout: T });
    await page.locator('.ProseMirror-yjs-selection').first().waitFor({ timeout: T });

    const styles = await page.evaluate(() => {
      const pick = (selector: string) => Array.from(document.querySelectorAll<HTMLElement>(selector)).map((el) => el.getAttribute('style'));
      return { avatars: pick('.ce-presence .ce-avatar'), carets: pick('.ce-cursor'), labels: pick('.ce-cursor-label'), selections: pick('.ProseMirror-yjs-selection') };
    });
    // (labels and avatars also carry the text colour that reads on theirs, colors.ts textColorOn)
    for (const style of [...styles.avatars, ...styles.carets, ...styles.labels]) expect(style).toMatch(/^(background-color|border-color): #[0-9a-f]{6}(; color: #[0-9a-f]{6})?$/);
    // (ProseMirror applies inline decoration styles through cssText, so the browser's form shows)
    expect(styles.selections.length).toBeGreaterThan(0);
    for (const style of styles.selections) expect(style).toMatch(/^background-color: rgba\(\d+, \d+, \d+, 0\.\d+\);$/);
    // The name is text (no <img> element), and bounded.
    expect(await page.locator('.ce-presence img, .ce-cursor img').count()).toBe(0);
    const shownName = (await chip.getAttribute('data-name'))!;
    expect(shownName.startsWith('Mallory <img')).toBe(true);
    expect([...shownName].length).toBe(64);
    // Nothing covers the page: the editor still receives clicks.
    await page.locator('.ProseMirror').click();

    // Did NOT happen: no request from the hostile CSS. A probe sent after the hostile cursor was
    // rendered arrives, so the listener was reachable all along.
    await page.evaluate((url) => fetch(url).then((r) => r.text()), `${base}/probe-after`);
    await waitFor(() => requests.includes('/probe-after'), 'the second probe', T);
    expect(requests).toEqual(['/probe-before', '/probe-after']);
    await screenshot(page, '31-hostile-awareness');
    expect(errors).toEqual([]);
  });
});

describe('access token', () => {
  test('travels as a WebSocket subprotocol, never in the URL, and setToken() reconnects with the new one', async () => {
    const { page, errors } = await user('Tokened');
    const sockets: Array<{ url: string; protocols: string[] }> = [];
    await page.routeWebSocket(/\/sync\//, (ws) => {
      sockets.push({ url: ws.url(), protocols: ws.protocols() });
      ws.connectToServer();
    });
    // An embedding app on another origin (the open server accepts any token and any origin).
    const html = `<!doctype html><html><body><div id="notes"></div>
      <script type="module">
        import { mountEditor } from '${server.httpUrl}/lib/collab-editor.js';
        window.editor = mountEditor(document.getElementById('notes'), { server: '${server.httpUrl}', document: 'token-subprotocol', token: 'tok-first' });
      </script></body></html>`;
    const host = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => host.close(() => resolve())));
    await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`);
    await waitForSaved(page, '#notes');
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    expect(sockets[0]!.protocols).toEqual(['collab', `${TOKEN_SUBPROTOCOL_PREFIX}tok-first`]);

    await page.evaluate(() => (window as unknown as { editor: { setToken(t: string): void } }).editor.setToken('tok-second'));
    await waitFor(() => sockets.some((s) => s.protocols.includes(`${TOKEN_SUBPROTOCOL_PREFIX}tok-second`)), 'a socket with the new token', T);
    await waitForSaved(page, '#notes');
    expect(sockets.at(-1)!.protocols).toEqual(['collab', `${TOKEN_SUBPROTOCOL_PREFIX}tok-second`]);
    for (const socket of sockets) {
      expect(new URL(socket.url).search).toBe('');
      expect(socket.url).not.toContain('tok-');
    }
    expect(errors).toEqual([]);
  });
});
