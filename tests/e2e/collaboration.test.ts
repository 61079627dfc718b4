/**
 * End-to-end: the workspace and the editor in Debian's Chromium against the real server.
 * Two people are two browser contexts (separate storage, like two computers). Each test makes its
 * own document and brings its pages there, so any test can run alone (`-t`) or in any order.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { connectClient, synced } from '../helpers/clients.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const T = 20_000; // DOM waits: generous, the machine has two cores shared with other suites

let server: ServerProcess;
let browser: Browser;
let alice: UserPage;
let bob: UserPage;
const dataDir = tempDir('collab-e2e-');

async function start(port?: number): Promise<ServerProcess> {
  return startServer({ dataDir, port, env: { STATIC_DIR } });
}

interface TestDocument {
  name: string;
  url: string;
}

/** A new, empty document of this test's own (through the API, as the workspace creates them). */
async function newDocument(title = ''): Promise<TestDocument> {
  const response = await fetch(`${server.httpUrl}/api/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
  expect(response.status).toBe(201);
  const { name } = (await response.json()) as { name: string };
  return { name, url: `${server.httpUrl}/d/${encodeURIComponent(name)}` };
}

/** Opens the document in each page and waits until each is connected and saved. */
async function openIn(doc: TestDocument, ...users: UserPage[]): Promise<void> {
  for (const { page } of users) {
    await page.goto(doc.url);
    await waitForSaved(page);
  }
}

/** Puts the caret at the very end of the document and types. */
async function typeAtEnd(page: Page, text: string): Promise<void> {
  const content = editorContent(page);
  await content.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 5 });
}

/** Paragraph/heading texts of the editor, in order, without the remote cursors' name labels. */
async function blocks(page: Page): Promise<string[]> {
  return editorContent(page).evaluate((el) =>
    Array.from(el.children).map((child) => {
      const copy = child.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('.ce-cursor').forEach((cursor) => cursor.remove());
      return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
    }),
  );
}

async function expectText(page: Page, text: string, timeout = T): Promise<void> {
  await editorContent(page).getByText(text, { exact: false }).first().waitFor({ timeout });
}

beforeAll(async () => {
  server = await start();
  browser = await launchBrowser();
  alice = await openUser(browser, { name: 'Alice' });
  bob = await openUser(browser, { name: 'Bob' });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

// No console errors, failed assets or uncaught exceptions on either page, test by test.
afterEach(() => {
  const errors = [...alice.errors.splice(0), ...bob.errors.splice(0)];
  expect(errors).toEqual([]);
});

describe('workspace and editor', () => {
  test('a person creates a document from the list and picks a display name', async () => {
    // A server of its own, with no documents yet, and a person who has not picked a name yet.
    const empty = await startServer({ env: { STATIC_DIR } });
    const newcomer = await openUser(browser, { name: null });
    try {
      await createFromTheList(empty, newcomer);
    } finally {
      await newcomer.context.close();
      await empty.kill();
    }
    expect(newcomer.errors).toEqual([]);
  });

  async function createFromTheList(empty: ServerProcess, { page }: UserPage): Promise<void> {
    await page.goto(empty.httpUrl + '/');
    await page.getByRole('heading', { name: 'Documents' }).waitFor();
    await page.getByText('No documents yet.').waitFor();
    await screenshot(page, '01-list-empty');

    await page.getByPlaceholder('Title of the new document (optional)').fill('Team plan');
    await page.getByTestId('create-document').click();
    await page.waitForURL(/\/d\/[^/]+$/, { timeout: T });

    // First visit: the name dialog
    const dialog = page.getByRole('dialog');
    await dialog.getByText('What should we call you?').waitFor();
    await screenshot(page, '02-name-dialog');
    await dialog.getByRole('textbox').fill('Alice');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => localStorage.getItem('collab.user.name'))).toBe('Alice');

    await waitForSaved(page);
    await expect.poll(() => page.locator('.title-input').inputValue(), { timeout: T }).toBe('Team plan');
    await page.locator('.ce-presence [data-name="Alice"]').waitFor();
    await expect(statusText(page).textContent()).resolves.toBe('All changes saved');
    // the toolbar is there
    for (const action of ['h1', 'bold', 'italic', 'link', 'bullet-list', 'ordered-list', 'blockquote', 'code-block', 'undo']) {
      await page.locator(`.ce-toolbar [data-action="${action}"]`).waitFor();
    }
  }

  test('two people see each other\'s text, cursor and presence', async () => {
    const doc = await newDocument('Greetings');
    await openIn(doc, alice);
    await typeAtEnd(alice.page, 'Hello from Alice');
    await bob.page.goto(doc.url);
    await expectText(bob.page, 'Hello from Alice');
    await waitForSaved(bob.page);

    // presence lists name both people in both pages
    for (const { page } of [alice, bob]) {
      await page.locator('.ce-presence [data-name="Alice"]').waitFor({ timeout: T });
      await page.locator('.ce-presence [data-name="Bob"]').waitFor({ timeout: T });
    }
    const colors = await alice.page.locator('.ce-presence .ce-person').evaluateAll((els) => els.map((el) => el.getAttribute('data-color')));
    expect(colors).toHaveLength(2);
    expect(colors[0]).toMatch(/^#[0-9a-f]{6}$/i);
    expect(colors[0]).not.toBe(colors[1]); // distinguishable

    // Alice's caret, labelled with her name, is visible to Bob
    await alice.page.locator('.ce-content').click();
    await alice.page.keyboard.press('Control+End');
    await alice.page.keyboard.type('!');
    const label = bob.page.locator('.ce-content .ce-cursor-label', { hasText: 'Alice' });
    await label.waitFor({ state: 'visible', timeout: T });
    await expectText(bob.page, 'Hello from Alice!');

    // Bob types too; Alice sees it and his caret
    await typeAtEnd(bob.page, ' And hello from Bob.');
    await expectText(alice.page, 'And hello from Bob.');
    await alice.page.locator('.ce-content .ce-cursor-label', { hasText: 'Bob' }).waitFor({ state: 'visible', timeout: T });
    await alice.page.locator('.ce-content').click();
    await alice.page.keyboard.press('Control+End');
    await screenshot(bob.page, '03-bob-sees-alice-cursor');
    await screenshot(alice.page, '04-alice-sees-bob-cursor');
  });

  test('formatting syncs: headings, bold text, a list and a link', async () => {
    const { page } = alice;
    const doc = await newDocument();
    await openIn(doc, alice, bob);
    await typeAtEnd(page, 'Hello from Alice');
    await expectText(bob.page, 'Hello from Alice');
    // Turn the first line into a heading with the toolbar
    await editorContent(page).locator('p').first().click();
    await page.locator('.ce-toolbar [data-action="h1"]').click();
    await bob.page.locator('.ce-content h1', { hasText: 'Hello from Alice' }).waitFor({ timeout: T });
    expect(await page.locator('.ce-toolbar [data-action="h1"]').getAttribute('aria-pressed')).toBe('true');

    // A new paragraph with bold text (keyboard shortcut), then a bulleted list (Markdown shortcut)
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+b');
    await page.keyboard.type('Important');
    await page.keyboard.press('Control+b');
    await page.keyboard.type(' note');
    await page.keyboard.press('Enter');
    await page.keyboard.type('- first item');
    await page.keyboard.press('Enter');
    await page.keyboard.type('second item');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter'); // out of the list
    // a second-level heading by keyboard shortcut
    await page.keyboard.type('Next steps');
    await page.keyboard.press('Control+Shift+2');
    await page.keyboard.press('Enter');
    // a link with the toolbar's link field
    await page.keyboard.type('Read the docs');
    await page.keyboard.press('Shift+Home');
    await page.locator('.ce-toolbar [data-action="link"]').click();
    await page.getByLabel('Link address').fill('example.com/docs');
    await page.getByLabel('Link address').press('Enter');
    await bob.page.locator('.ce-content strong', { hasText: 'Important' }).waitFor({ timeout: T });
    await bob.page.locator('.ce-content ul li', { hasText: 'second item' }).waitFor({ timeout: T });
    expect(await bob.page.locator('.ce-content ul li').count()).toBe(2);
    await bob.page.locator('.ce-content h2', { hasText: 'Next steps' }).waitFor({ timeout: T });
    await bob.page.locator('.ce-content a[href="https://example.com/docs"]', { hasText: 'Read the docs' }).waitFor({ timeout: T });
    await waitForSaved(page);
    await waitForSaved(bob.page);
    await screenshot(bob.page, '05-formatting-synced');
  });

  test('undo only undoes your own edits', async () => {
    // Bob writes a line; Alice writes one after it, then Bob adds words to her line. A fresh page
    // of a fresh document: Alice's line is the only edit her undo history holds, with no earlier
    // edit of hers (less than 500 ms before) grouped into the same step.
    const doc = await newDocument();
    await openIn(doc, bob);
    await typeAtEnd(bob.page, 'Intro by Bob');
    await openIn(doc, alice);
    await expectText(alice.page, 'Intro by Bob');
    await alice.page.locator('.ce-content').click();
    await alice.page.keyboard.press('Control+End');
    await alice.page.keyboard.press('Enter');
    await alice.page.keyboard.type('ALPHA line by Alice');
    await expectText(bob.page, 'ALPHA line by Alice');

    await typeAtEnd(bob.page, ' BRAVO by Bob');
    await expectText(alice.page, 'BRAVO by Bob');

    // Alice undoes: her line goes, Bob's words (typed after, in the same paragraph) stay
    await alice.page.locator('.ce-content').click();
    await alice.page.keyboard.press('Control+z');
    await expect.poll(async () => (await blocks(alice.page)).join('\n'), { timeout: T }).not.toContain('ALPHA');
    await expect.poll(async () => (await blocks(bob.page)).join('\n'), { timeout: T }).not.toContain('ALPHA');
    expect((await blocks(alice.page)).join('\n')).toContain('BRAVO by Bob');
    expect((await blocks(bob.page)).join('\n')).toContain('BRAVO by Bob');
    expect((await blocks(alice.page)).join('\n')).toContain('Intro by Bob');
    expect((await blocks(bob.page)).join('\n')).toContain('Intro by Bob');

    // and redo brings it back
    await alice.page.keyboard.press('Control+Shift+z');
    await expectText(bob.page, 'ALPHA line by Alice');
    await waitForSaved(alice.page);
  });

  test('the title can be set in the editor and shows in the list', async () => {
    const doc = await newDocument('Team plan');
    await openIn(doc, alice, bob);
    const title = alice.page.locator('.title-input');
    await title.fill('Team plan for Q3');
    await expect.poll(() => bob.page.locator('.title-input').inputValue(), { timeout: T }).toBe('Team plan for Q3');
    await expect.poll(() => bob.page.title(), { timeout: T }).toContain('Team plan for Q3');
    await waitForSaved(alice.page);

    const list = await browser.newPage();
    try {
      // the server refreshes stored titles a moment after a commit
      await expect
        .poll(
          async () => {
            await list.goto(server.httpUrl + '/');
            await list.locator('.doc-list').waitFor();
            return list.locator(`.doc-link[data-name="${doc.name}"] .doc-title`).textContent();
          },
          { timeout: T, interval: 1000 },
        )
        .toBe('Team plan for Q3');
      await screenshot(list, '06-list-with-document');
    } finally {
      await list.close();
    }
  });

  test('offline: edits are kept, survive a reload, and merge when the connection returns', async () => {
    const a = alice.page;
    const b = bob.page;
    const doc = await newDocument();
    await openIn(doc, alice, bob);
    await typeAtEnd(a, 'Before going offline.');
    await expectText(b, 'Before going offline.');
    await waitForSaved(a);
    // the service worker keeps the app available offline
    await a.evaluate(() => navigator.serviceWorker.ready.then(() => true));

    await alice.context.setOffline(true);
    await statusText(a).filter({ hasText: 'Offline' }).waitFor({ timeout: T });

    await typeAtEnd(a, ' OFFLINE-EDIT-ALICE');
    // A witness connected to the same document: what reaches it was broadcast to every connection.
    const witness = connectClient(server.syncUrl, doc.name);
    try {
      await synced(witness);
      await typeAtEnd(b, ' ONLINE-EDIT-BOB');
      await waitForSaved(b);
      // Really apart: neither sees the other's edit while Alice is offline. No fixed wait: Bob's edit
      // has reached the witness, so the server has sent it to everyone connected, and Alice's
      // edit was made before Bob's was saved (the server would have relayed hers with it).
      await waitFor(() => witness.doc.getXmlFragment(PROSEMIRROR_FRAGMENT).toString().includes('ONLINE-EDIT-BOB'), "Bob's edit to reach a witness", T);
    } finally {
      witness.destroy();
    }
    expect((await blocks(a)).join('\n')).not.toContain('ONLINE-EDIT-BOB');
    expect((await blocks(b)).join('\n')).not.toContain('OFFLINE-EDIT-ALICE');
    await expect(statusText(a).textContent()).resolves.toBe('Offline · changes kept on this device');
    await screenshot(a, '07-offline-editing');

    // Reload while offline: the app comes from the service worker, the text from IndexedDB
    await a.reload({ waitUntil: 'domcontentloaded' });
    await expectText(a, 'OFFLINE-EDIT-ALICE');
    await statusText(a).filter({ hasText: 'Offline' }).waitFor({ timeout: T });
    expect((await blocks(a)).join('\n')).not.toContain('ONLINE-EDIT-BOB');
    await screenshot(a, '08-offline-after-reload');

    // Back online: both sides' edits merge, in both pages
    await alice.context.setOffline(false);
    await expectText(a, 'ONLINE-EDIT-BOB');
    await expectText(b, 'OFFLINE-EDIT-ALICE');
    await waitForSaved(a);
    await waitForSaved(b);
    expect(await blocks(a)).toEqual(await blocks(b));
    await a.locator('.ce-presence [data-name="Bob"]').waitFor({ timeout: T });
    await screenshot(a, '09-back-online-merged');
  });

  test('a dropped connection (server restart): edits made meanwhile merge when it is back', async () => {
    const a = alice.page;
    const b = bob.page;
    const doc = await newDocument();
    await openIn(doc, alice, bob);
    await typeAtEnd(a, 'Before the restart.');
    await expectText(b, 'Before the restart.');
    await waitForSaved(a);
    const port = server.port;
    await server.kill('SIGTERM');
    await statusText(a).filter({ hasText: 'Offline' }).waitFor({ timeout: T });
    await statusText(b).filter({ hasText: 'Offline' }).waitFor({ timeout: T });
    await typeAtEnd(a, ' WHILE-DOWN-ALICE');
    await typeAtEnd(b, ' WHILE-DOWN-BOB');

    server = await start(port);
    await expectText(a, 'WHILE-DOWN-BOB');
    await expectText(b, 'WHILE-DOWN-ALICE');
    await waitForSaved(a);
    await waitForSaved(b);
    expect(await blocks(a)).toEqual(await blocks(b));
  });

  test('the document page fits a phone-sized screen', async () => {
    const doc = await newDocument('Phone test');
    await openIn(doc, alice);
    await typeAtEnd(alice.page, 'Readable on a phone');
    const phone = await openUser(browser, { name: 'Carol', viewport: { width: 390, height: 760 } });
    try {
      await phone.page.goto(doc.url);
      await waitForSaved(phone.page);
      await expectText(phone.page, 'Readable on a phone');
      await phone.page.locator('.ce-presence [data-name="Alice"]').waitFor({ timeout: T });
      await screenshot(phone.page, '10-phone');
      const layout = await phone.page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        titleWidth: document.querySelector('.title-input')!.getBoundingClientRect().width,
        toolbarBottom: document.querySelector('.ce-toolbar')!.getBoundingClientRect().bottom,
        shareShown: document.querySelector('.share')!.getBoundingClientRect().width > 0,
        statusShown: document.querySelector('.app-header .ce-status-text')!.getBoundingClientRect().width > 0,
      }));
      expect(layout.overflow).toBeLessThanOrEqual(0);
      expect(layout.titleWidth).toBeGreaterThanOrEqual(80);
      // The header takes a second row on a phone, for sharing and the status in words; the
      // toolbar still starts in the top third (and sticks to the top once the header scrolls away).
      expect(layout.toolbarBottom).toBeLessThan(760 / 3);
      expect(layout.shareShown).toBe(true);
      expect(layout.statusShown).toBe(true);

      expect(phone.errors).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
