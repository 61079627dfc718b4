/**
 * End-to-end: documents outside the editor, from the workspace, in Debian's Chromium against the
 * real server. A Markdown file is imported from `/` and opens as a new document; it is exported
 * as Markdown (a download) and copied as Markdown (the clipboard), renamed, found by a word of its
 * text, and deleted after a confirmation. The menus are driven by the keyboard too.
 */
import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const T = 20_000;

let server: ServerProcess;
let browser: Browser;
let user: UserPage;
let phone: UserPage;

// What the editor's schema holds as it is, so that the export gives back the very same text
// (the server's Markdown has no final newline).
const MARKDOWN = ['# Pelican survey', '', 'The pelicans of the northern lagoon were counted twice.', '', '* Morning count', '* Evening count'].join('\n');

beforeAll(async () => {
  server = await startServer({ env: { STATIC_DIR }, port: 0 });
  browser = await launchBrowser();
  user = await openUser(browser, { name: 'Ada' });
  await user.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.httpUrl });
  phone = await openUser(browser, { name: 'Pat', viewport: { width: 390, height: 800 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

async function createDocument(title: string, content?: string): Promise<string> {
  const response = await fetch(`${server.httpUrl}/api/documents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(content === undefined ? { title } : { title, content, format: 'markdown' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { name: string }).name;
}

async function openList(page: Page): Promise<void> {
  await page.goto(`${server.httpUrl}/`);
  await page.getByRole('searchbox', { name: 'Search documents' }).waitFor({ timeout: T });
  await page.locator('.list-status:empty').waitFor({ state: 'attached', timeout: T });
}

const row = (page: Page, name: string): Locator => page.locator(`.doc-item[data-name="${name}"]`);
const rowNames = (page: Page) => page.locator('.doc-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-name')));
const exportButton = (scope: Page | Locator) => scope.getByRole('button', { name: 'Export', exact: true });

describe('documents in the workspace', () => {
  test('import a Markdown file, export it, copy it, rename it, find it, delete it', async () => {
    const { page, errors } = user;
    const other = await createDocument('Harbour logistics');
    await openList(page);
    await row(page, other).waitFor({ timeout: T });

    // An unsupported file: a clear error, nothing created.
    const fileInput = page.locator('input[type=file]');
    await fileInput.setInputFiles({ name: 'photo.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4') });
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'cannot be imported' }).count(), { timeout: T }).toBe(1);
    expect(await page.getByRole('alert').filter({ hasText: 'cannot be imported' }).textContent()).toContain('“photo.pdf” cannot be imported');
    await screenshot(page, '40-import');

    // Import: the button is labelled, the file becomes a document and opens at once.
    expect(await page.getByRole('button', { name: 'Import', exact: true }).isVisible()).toBe(true);
    await fileInput.setInputFiles({ name: 'pelicans.md', mimeType: 'text/markdown', buffer: Buffer.from(`${MARKDOWN}\n`) });
    await page.waitForURL(/\/d\/[^/]+$/, { timeout: T });
    const name = decodeURIComponent(new URL(page.url()).pathname.slice(3));
    await waitForSaved(page);
    await editorContent(page).locator('h1', { hasText: 'Pelican survey' }).waitFor({ timeout: T });
    await editorContent(page).getByText('The pelicans of the northern lagoon were counted twice.').waitFor({ timeout: T });
    await expect.poll(() => page.title(), { timeout: T }).toBe('Pelican survey · Collab Docs');

    // The Export menu button, by keyboard: Enter opens it on the first item, arrows move, Escape closes it and focus returns.
    const exportMenu = exportButton(page);
    expect(await exportMenu.getAttribute('aria-haspopup')).toBe('menu');
    expect(await exportMenu.getAttribute('aria-expanded')).toBe('false');
    await exportMenu.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menu', { name: 'Export' }).waitFor({ timeout: T });
    expect(await exportMenu.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Export as Markdown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Export as HTML');
    await page.keyboard.press('End');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Copy as Markdown');
    await screenshot(page, '41-menu');
    await page.keyboard.press('Escape');
    await page.getByRole('menu', { name: 'Export' }).waitFor({ state: 'hidden', timeout: T });
    expect(await exportMenu.getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-haspopup'))).toBe('menu');

    // Export as Markdown: a download with the document's Markdown.
    await exportMenu.click();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByRole('menuitem', { name: 'Export as Markdown' }).click()]);
    expect(download.suggestedFilename()).toBe('Pelican survey.md');
    const downloaded = fs.readFileSync((await download.path())!, 'utf8');
    expect(downloaded).toBe(MARKDOWN);
    expect(downloaded).toBe(await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/content?format=markdown`)).text());

    // Export as HTML: a page with the heading.
    await exportMenu.click();
    const [htmlDownload] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByRole('menuitem', { name: 'Export as HTML' }).click()]);
    expect(htmlDownload.suggestedFilename()).toBe('Pelican survey.html');
    const html = fs.readFileSync((await htmlDownload.path())!, 'utf8');
    expect(html).toContain('<h1>Pelican survey</h1>');
    expect(html).toContain('<title>Pelican survey</title>');

    // Copy as Markdown: the clipboard holds the same Markdown.
    await page.evaluate(() => navigator.clipboard.writeText('before'));
    await exportMenu.click();
    await page.getByRole('menuitem', { name: 'Copy as Markdown' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText()), { timeout: T }).toBe(MARKDOWN);
    await page.getByRole('status').filter({ hasText: 'Copied “Pelican survey” as Markdown.' }).waitFor({ timeout: T });

    // Rename, from the list.
    await openList(page);
    const item = row(page, name);
    await item.waitFor({ timeout: T });
    expect(await item.locator('.doc-title').textContent()).toBe('Pelican survey');
    await item.getByRole('button', { name: 'Rename', exact: true }).click();
    const renameDialog = page.getByRole('dialog', { name: 'Rename document' });
    await renameDialog.waitFor({ timeout: T });
    await renameDialog.getByRole('textbox', { name: 'New title' }).fill('Lagoon birds');
    await renameDialog.getByRole('button', { name: 'Rename', exact: true }).click();
    await item.locator('.doc-title', { hasText: 'Lagoon birds' }).waitFor({ timeout: T });
    await expect
      .poll(async () => ((await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}`)).json()) as { title: string }).title, { timeout: T })
      .toBe('Lagoon birds');

    // Search by a word of its text: only it; clearing the search shows the whole list again.
    const search = page.getByRole('searchbox', { name: 'Search documents' });
    await search.fill('lagoon');
    await expect.poll(() => rowNames(page), { timeout: T }).toEqual([name]);
    await page.getByRole('status').filter({ hasText: '1 document found.' }).waitFor({ timeout: T });
    await search.fill('northern pelic');
    await expect.poll(() => rowNames(page), { timeout: T }).toEqual([name]);
    await screenshot(page, '42-search');
    await search.fill('zebra');
    await page.locator('.doc-empty', { hasText: 'No documents match.' }).waitFor({ timeout: T });
    await search.fill('');
    await expect.poll(async () => (await rowNames(page)).sort(), { timeout: T }).toEqual([name, other].sort());

    // Delete, with the confirmation: cancelling keeps it; confirming removes the row and the document.
    await item.getByRole('button', { name: 'Delete document', exact: true }).click();
    let confirm = page.getByRole('dialog', { name: 'Delete document' });
    await confirm.waitFor({ timeout: T });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached', timeout: T });
    expect(await item.count()).toBe(1);
    await item.getByRole('button', { name: 'Delete document', exact: true }).click();
    confirm = page.getByRole('dialog', { name: 'Delete document' });
    await confirm.getByText('Lagoon birds').waitFor({ timeout: T });
    await screenshot(page, '43-delete');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await item.waitFor({ state: 'detached', timeout: T });
    await page.getByRole('status').filter({ hasText: 'Deleted “Lagoon birds”.' }).waitFor({ timeout: T });
    expect(await rowNames(page)).toEqual([other]);
    expect((await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/content`)).status).toBe(404);
    await openList(page);
    expect(await rowNames(page)).toEqual([other]);

    expect(errors).toEqual([]);
  });

  test('delete from the editor page goes back to the list', async () => {
    const { page, errors } = user;
    const name = await createDocument('Short lived', '# Short lived\n\nSoon gone.\n');
    await page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}`);
    await waitForSaved(page);
    await page.getByRole('button', { name: 'Delete document', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete document' });
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL(`${server.httpUrl}/`, { timeout: T });
    await page.getByRole('searchbox', { name: 'Search documents' }).waitFor({ timeout: T });
    await page.locator('.list-status:empty').waitFor({ state: 'attached', timeout: T });
    expect(await row(page, name).count()).toBe(0);
    expect((await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/content`)).status).toBe(404);
    expect(errors.filter((error) => !/4404|document deleted/.test(error))).toEqual([]);
  });

  test('a refused import says why', async () => {
    const { page } = user;
    await openList(page);
    // The server refuses the import (as it would for a read-only token): its reason is shown.
    await page.route('**/api/documents', (route) =>
      route.request().method() === 'POST' ? route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: 'the token is read-only' }) }) : route.continue(),
    );
    await page.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Hello') });
    await page.getByRole('alert').filter({ hasText: 'the token is read-only' }).first().waitFor({ timeout: T });
    await page.unroute('**/api/documents');
  });

  test('works at 390 px wide', async () => {
    const { page, errors } = phone;
    const name = await createDocument('A document with a rather long title for a phone screen');
    await openList(page);
    const item = row(page, name);
    await item.waitFor({ timeout: T });
    // Every action of the row is inside the screen.
    for (const button of [exportButton(item), item.getByRole('button', { name: 'Rename', exact: true }), item.getByRole('button', { name: 'Delete document', exact: true })]) {
      const box = (await button.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await exportButton(item).click();
    const menu = page.getByRole('menu', { name: 'Export' });
    await menu.waitFor({ timeout: T });
    const box = (await menu.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, '44-phone-list');
    await page.keyboard.press('Escape');
    await page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}`);
    await waitForSaved(page);
    await exportButton(page).waitFor({ timeout: T });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, '45-phone-editor');
    expect(errors).toEqual([]);
  });
});
