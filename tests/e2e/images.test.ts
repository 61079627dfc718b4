/**
 * End-to-end: images in Chromium against the real server, two people in two browser contexts.
 * An image pasted by one shows for the other and after a reload; alt text and width set in the
 * dialog reach the other and the export; a failed upload is shown and retried; a file picked with
 * "Insert image" uploads; an SVG is refused with the server's reason; with tokens, images load
 * through the API with the token. And paste of HTML from Word and of Markdown text, through the
 * browser's own clipboard events.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { mintToken } from '../../server/auth/tokens.js';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const T = 20_000;
const SECRET = 'e2e-images-secret-0123456789-abcdefghijklmnop';
const fixture = (name: string) => fs.readFileSync(path.resolve('tests/fixtures/images', name));

let server: ServerProcess;
let browser: Browser;
let alice: UserPage;
let bob: UserPage;

beforeAll(async () => {
  server = await startServer({ env: { STATIC_DIR } });
  browser = await launchBrowser();
  alice = await openUser(browser, { name: 'Alice' });
  bob = await openUser(browser, { name: 'Bob' });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

afterEach(() => {
  const errors = [...alice.errors.splice(0), ...bob.errors.splice(0)];
  expect(errors).toEqual([]);
});

async function newDocument(base: ServerProcess, headers: Record<string, string> = {}, name?: string): Promise<{ name: string; url: string }> {
  const response = await fetch(`${base.httpUrl}/api/documents`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(name ? { name } : {}) });
  expect(response.status).toBe(201);
  const created = (await response.json()) as { name: string };
  return { name: created.name, url: `${base.httpUrl}/d/${encodeURIComponent(created.name)}` };
}

/** Pastes an image file into the editor as the browser does for a copied screenshot (a ClipboardEvent carrying a File). */
async function pasteImage(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  await page.evaluate(
    ({ data, name, type }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
      const target = document.querySelector('.ce-content')!;
      target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    },
    { data: bytes.toString('base64'), name, type },
  );
}

/** Drops an image file at the end of the first paragraph, as a file dragged from the desktop. */
async function dropImage(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  await page.evaluate(
    ({ data, name, type }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
      const paragraph = document.querySelector('.ce-content p')!;
      const rect = paragraph.getBoundingClientRect();
      paragraph.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, clientX: rect.left + 2, clientY: rect.top + rect.height / 2, bubbles: true, cancelable: true }));
    },
    { data: bytes.toString('base64'), name, type },
  );
}

/** Pastes clipboard data of the given types (text/html, text/plain) into the editor. */
async function pasteData(page: Page, data: Record<string, string>): Promise<void> {
  await page.evaluate((entries) => {
    const transfer = new DataTransfer();
    for (const [type, value] of Object.entries(entries)) transfer.setData(type, value);
    document.querySelector('.ce-content')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, data);
}

/** The editor's images once loaded: their src and alt. */
async function loadedImages(page: Page): Promise<Array<{ src: string; alt: string; width: string }>> {
  return editorContent(page).evaluate((el) =>
    Array.from(el.querySelectorAll<HTMLElement>('.ce-image[data-state="loaded"]')).map((image) => ({
      src: image.dataset.src ?? '',
      alt: image.querySelector('img')!.alt,
      width: image.querySelector('img')!.style.width,
    })),
  );
}

/** WCAG 2.1 A/AA violations axe-core finds in `selector` (rule ids and the elements concerned). */
async function axeViolations(page: Page, selector: string): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (rightly) allows no injected <script>.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async (scope) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(scope, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  }, selector);
}

async function typeAtEnd(page: Page, text: string): Promise<void> {
  await editorContent(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 5 });
}

describe('images', () => {
  test('an image pasted by one person shows for the other, after a reload, with the alt text and width set in the dialog', async () => {
    const doc = await newDocument(server);
    for (const { page } of [alice, bob]) {
      await page.goto(doc.url);
      await waitForSaved(page);
    }
    await typeAtEnd(alice.page, 'The roadmap, as of today:');
    await alice.page.keyboard.press('Enter');
    await pasteImage(alice.page, fixture('screenshot.png'), 'roadmap.png', 'image/png');
    // Alice sees the upload end in the image; Bob sees the image (never the placeholder).
    await alice.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    await expect.poll(() => alice.page.locator('.ce-upload').count(), { timeout: T }).toBe(0);
    await bob.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    const [shown] = await loadedImages(bob.page);
    expect(shown!.src).toMatch(new RegExp(`^/api/documents/${encodeURIComponent(doc.name)}/files/[A-Za-z0-9_-]{43}$`));
    expect(await bob.page.locator('.ce-image img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
    await waitForSaved(alice.page);
    await screenshot(alice.page, 'images-01-pasted-alice');
    await screenshot(bob.page, 'images-02-pasted-bob');

    // Alt text and width, in the dialog (keyboard: select the image, Enter).
    await alice.page.locator('.ce-image img').click();
    await alice.page.keyboard.press('Enter');
    const dialog = alice.page.getByRole('dialog', { name: 'Image' });
    await dialog.waitFor({ timeout: T });
    expect(await axeViolations(alice.page, '.ce-image-dialog')).toEqual([]);
    await dialog.getByLabel('Description (alt text)').fill('Roadmap: importer in Q1, exporter in Q2');
    await dialog.getByLabel('Width in pixels').fill('9');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').getByText(/width must be from 16 to 4000 pixels/).waitFor({ timeout: T });
    await screenshot(alice.page, 'images-03-dialog-error');
    await dialog.getByLabel('Width in pixels').fill('320');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: T });
    await expect.poll(async () => (await loadedImages(bob.page))[0], { timeout: T }).toEqual({ src: shown!.src, alt: 'Roadmap: importer in Q1, exporter in Q2', width: '320px' });
    await waitForSaved(alice.page);

    // After a reload, from the server alone.
    await bob.page.reload();
    await waitForSaved(bob.page);
    await bob.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    expect(await loadedImages(bob.page)).toEqual([{ src: shown!.src, alt: 'Roadmap: importer in Q1, exporter in Q2', width: '320px' }]);
    await screenshot(bob.page, 'images-04-after-reload-bob');

    // The export has it.
    const markdown = await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content?format=markdown`)).text();
    expect(markdown).toBe(`The roadmap, as of today:\n\n![Roadmap: importer in Q1, exporter in Q2](${shown!.src})`);
    const html = await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content?format=html`)).text();
    expect(html).toContain('width="320"');
  });

  test('a failed upload is shown and can be retried; "Insert image" uploads a picked file, a dropped one too; an SVG is refused with the reason', async () => {
    const doc = await newDocument(server);
    await alice.page.goto(doc.url);
    await waitForSaved(alice.page);
    await typeAtEnd(alice.page, 'Picked: ');
    // The network fails for the first upload only.
    let failures = 1;
    await alice.page.route('**/api/documents/*/files', (route) => (failures-- > 0 ? route.abort('connectionreset') : route.continue()));
    const chooser = alice.page.waitForEvent('filechooser');
    await alice.page.getByRole('button', { name: 'Insert image' }).click();
    await (await chooser).setFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: fixture('photo.jpg') });
    const failed = alice.page.locator('.ce-upload[data-status="failed"]');
    await failed.getByText('photo.jpg could not be uploaded: the server could not be reached').waitFor({ timeout: T });
    await screenshot(alice.page, 'images-05-upload-failed');
    expect(await axeViolations(alice.page, '.ce-upload')).toEqual([]);
    await failed.getByRole('button', { name: 'Retry' }).click();
    await alice.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    expect(await alice.page.locator('.ce-upload').count()).toBe(0);
    expect(await axeViolations(alice.page, '.ce-image')).toEqual([]);
    await alice.page.unroute('**/api/documents/*/files');

    // An SVG (renamed .png even) is refused by the server; the reason is shown, and it can be removed.
    await pasteImage(alice.page, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'logo.png', 'image/png');
    const refused = alice.page.locator('.ce-upload[data-status="failed"]');
    await refused.getByText(/logo\.png could not be uploaded: the file is an SVG image/).waitFor({ timeout: T });
    await screenshot(alice.page, 'images-06-svg-refused');
    await refused.getByRole('button', { name: /Remove the failed upload/ }).click();
    await expect.poll(() => alice.page.locator('.ce-upload').count(), { timeout: T }).toBe(0);
    // A file dropped from the desktop at the start of the line.
    await dropImage(alice.page, fixture('dot.gif'), 'dot.gif', 'image/gif');
    await expect.poll(() => alice.page.locator('.ce-image[data-state="loaded"]').count(), { timeout: T }).toBe(2);
    await waitForSaved(alice.page);
    const json = JSON.parse(await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content?format=json`)).text());
    expect(json.content[0].content.map((node: { type: string }) => node.type)).toEqual(['image', 'text', 'image']);
  });

  test('with tokens, images load through the API with the token; a page without one cannot fetch them', async () => {
    const secured = await startServer({ env: { STATIC_DIR, AUTH_SECRET: SECRET } });
    const carol = await openUser(browser, { name: 'Carol' });
    try {
      const writer = await mintToken(SECRET, { subject: 'carol', documents: ['private/*'], canWrite: true, expiresInSeconds: 600 });
      const doc = await newDocument(secured, { authorization: `Bearer ${writer}` }, 'private/plan');
      await carol.page.goto(`${doc.url}?token=${encodeURIComponent(writer)}`);
      await waitForSaved(carol.page);
      await typeAtEnd(carol.page, 'Private chart:');
      await pasteImage(carol.page, fixture('chart.png'), 'chart.png', 'image/png');
      await carol.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
      // Shown from a blob: URL the editor fetched with the token (an <img> cannot send one).
      expect(await carol.page.locator('.ce-image img').getAttribute('src')).toMatch(/^blob:/);
      const src = (await loadedImages(carol.page))[0]!.src;
      expect((await fetch(`${secured.httpUrl}${src}`)).status).toBe(401);
      expect((await fetch(`${secured.httpUrl}${src}`, { headers: { authorization: `Bearer ${writer}` } })).status).toBe(200);
      await screenshot(carol.page, 'images-07-token');
      expect(carol.errors).toEqual([]);
    } finally {
      await carol.context.close();
      await secured.kill();
    }
  });

  test('HTML pasted from Word becomes clean content, and pasted Markdown text becomes formatting', async () => {
    const doc = await newDocument(server);
    await alice.page.goto(doc.url);
    await waitForSaved(alice.page);
    await editorContent(alice.page).click();
    const word = fs.readFileSync(path.resolve('tests/fixtures/paste/word.html'), 'utf8');
    await pasteData(alice.page, { 'text/html': word, 'text/plain': 'Meeting notes\nAttendees: Ada, Grace and Linus.' });
    await editorContent(alice.page).locator('ol li').nth(1).waitFor({ timeout: T });
    await alice.page.keyboard.press('Control+End');
    await alice.page.keyboard.press('Enter');
    await pasteData(alice.page, { 'text/plain': '## Next steps\n\n- **Ship** the importer\n- Tell [everyone](https://example.com/news)' });
    await editorContent(alice.page).getByText('Tell').waitFor({ timeout: T });
    await waitForSaved(alice.page);
    await screenshot(alice.page, 'images-08-pasted-word-and-markdown');
    const markdown = await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content?format=markdown`)).text();
    expect(markdown).toBe(
      [
        '# Meeting notes',
        '',
        'Attendees: **Ada**, *Grace* and ***Linus***.',
        '',
        '## Decisions',
        '',
        '* Adopt the new editor',
        '  * Migrate by **March**',
        '* Keep the old one read-only',
        '',
        '1. Write the guide',
        '2. Train the team',
        '',
        '> Less, but better.',
        '',
        'Next meeting: `2026-12-09` online, **not** in room 4.',
        '',
        '[Minutes archive](https://example.com/minutes)',
        '',
        '## Next steps',
        '',
        '* **Ship** the importer',
        '* Tell [everyone](https://example.com/news)',
      ].join('\n'),
    );
  });

  test('an upload in progress shows its placeholder, which stays in place while the other person edits above it', async () => {
    const doc = await newDocument(server);
    const put = await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content`, { method: 'PUT', headers: { 'content-type': 'text/markdown' }, body: 'First line\n\nSecond line' });
    expect(put.status).toBe(200);
    for (const { page } of [alice, bob]) {
      await page.goto(doc.url);
      await waitForSaved(page);
    }
    // The upload is held until Bob has edited (the request waits on the test, the network is not faked).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await alice.page.route('**/api/documents/*/files', async (route) => {
      await held;
      await route.continue();
    });
    await editorContent(alice.page).getByText('First line').click();
    await alice.page.keyboard.press('End');
    await pasteImage(alice.page, fixture('chart.png'), 'chart.png', 'image/png');
    await alice.page.locator('.ce-upload[data-status="uploading"]').waitFor({ timeout: T });
    expect(await alice.page.getByRole('progressbar', { name: 'Uploading chart.png' }).count()).toBe(1);
    // Bob writes a new first paragraph and in front of Alice's line: positions before the placeholder move.
    await editorContent(bob.page).getByText('First line').click();
    await bob.page.keyboard.press('Home');
    await bob.page.keyboard.type('Bob was here. ', { delay: 5 });
    await bob.page.keyboard.press('Control+Home');
    await bob.page.keyboard.type('Intro', { delay: 5 });
    await bob.page.keyboard.press('Enter');
    await editorContent(alice.page).getByText('Bob was here.').waitFor({ timeout: T });
    await screenshot(alice.page, 'images-09-uploading');
    release();
    await alice.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    await alice.page.unroute('**/api/documents/*/files');
    await bob.page.locator('.ce-image[data-state="loaded"]').waitFor({ timeout: T });
    await waitForSaved(alice.page);
    await waitForSaved(bob.page);
    const markdown = await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(doc.name)}/content?format=markdown`)).text();
    expect(markdown).toMatch(/^Intro\n\nBob was here\. First line!\[\]\(\/api\/documents\/[^)]+\)\n\nSecond line$/);
  });
});
