/**
 * End-to-end: the "Version history" panel in Debian's Chromium against the real server. A
 * document gets a named version, then the person edits it in the browser; in the panel they see
 * the named version read-only with what changed since highlighted, restore it after confirming,
 * and the editor shows the restored text while the text before it became a version.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const T = 20_000;

let server: ServerProcess;
let browser: Browser;
let user: UserPage;

beforeAll(async () => {
  // Automatic versions far apart: the versions of this test are the ones it makes.
  server = await startServer({ env: { STATIC_DIR, VERSION_INTERVAL_MS: '600000' } });
  browser = await launchBrowser();
  user = await openUser(browser, { name: 'Ada' });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

describe('version history panel', () => {
  test('see a past version with the changes since highlighted, restore it', async () => {
    const { page, errors } = user;
    const created = await fetch(`${server.httpUrl}/api/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: '# Launch plan\n\nShip the first draft on Monday.\n\nReview it with legal.', format: 'markdown' }),
    });
    const { name } = (await created.json()) as { name: string };
    const saved = await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'Sent to legal' }),
    });
    expect(saved.status).toBe(201);

    await page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}`);
    const content = editorContent(page);
    await content.getByText('Review it with legal.').waitFor({ timeout: T });
    // Edit in the browser: a new paragraph at the end, and "Monday" becomes "Friday".
    await content.getByText('Review it with legal.').click();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Celebrate with cake.');
    await content.getByText('Ship the first draft on Monday.').click();
    await page.keyboard.press('End');
    for (let i = 0; i < 'Monday.'.length; i++) await page.keyboard.press('Shift+ArrowLeft');
    await page.keyboard.type('Friday.');
    await waitForSaved(page);
    await content.getByText('Ship the first draft on Friday.').waitFor({ timeout: T });

    // Open the panel: the named version is listed with its author.
    const toggle = page.getByRole('button', { name: 'Version history', exact: true });
    await toggle.click();
    const panel = page.getByRole('complementary', { name: 'Version history' });
    await panel.waitFor({ timeout: T });
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const named = panel.locator('.history-item', { hasText: 'Sent to legal' });
    await named.waitFor({ timeout: T });
    expect(await named.textContent()).toContain('anonymous');

    // See it read-only, with the changes since highlighted.
    await named.click();
    const version = panel.locator('.history-doc');
    await version.getByText('Review it with legal.').waitFor({ timeout: T });
    expect(await version.getAttribute('contenteditable')).toBe('false');
    await expect.poll(() => panel.locator('.history-removed').allTextContents(), { timeout: T }).toContain('Monday');
    expect((await panel.locator('.history-added').allTextContents()).join(' ')).toContain('Friday');
    expect((await panel.locator('.history-added').allTextContents()).join(' ')).toContain('Celebrate with cake.');
    await screenshot(page, 'history-panel-changes');
    // The open panel, its list and its read-only view pass axe's WCAG 2.1 A/AA rules.
    // Evaluated through the debugging protocol: the page's CSP (script-src 'self') refuses a script tag.
    await page.evaluate(fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: string, options: object): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
      const result = await axe.run('.history-panel', { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return result.violations.map((violation) => `${violation.id} (${violation.nodes.length})`);
    });
    expect(violations).toEqual([]);

    // Restore it (after confirming): the editor shows the version's text again.
    await panel.getByRole('button', { name: 'Restore this version' }).click();
    const dialog = page.getByRole('dialog', { name: 'Restore this version' });
    await dialog.waitFor({ timeout: T });
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await content.getByText('Ship the first draft on Monday.').waitFor({ timeout: T });
    await expect.poll(() => content.textContent(), { timeout: T }).not.toContain('Celebrate with cake.');
    await waitForSaved(page);
    // The text before the restore is a version of its own, listed first.
    await panel.locator('.history-item').first().filter({ hasText: 'Before a restore' }).waitFor({ timeout: T });
    await expect.poll(() => page.locator('.action-notice').textContent(), { timeout: T }).toContain('Restored the version');
    await screenshot(page, 'history-panel-restored');

    // Compare two versions: the named one against the text before the restore.
    await panel.locator('.history-item', { hasText: 'Sent to legal' }).click();
    await version.getByText('Review it with legal.').waitFor({ timeout: T });
    await expect.poll(() => panel.locator('.history-added').count(), { timeout: T }).toBe(0);
    const compare = panel.getByLabel('Compare with');
    const beforeOption = compare.locator('option', { hasText: 'the version of' });
    await compare.selectOption((await beforeOption.first().getAttribute('value'))!);
    await expect.poll(async () => (await panel.locator('.history-added').allTextContents()).join(' '), { timeout: T }).toContain('Celebrate with cake.');
    expect(await panel.locator('.history-removed').allTextContents()).toContain('Monday');
    await screenshot(page, 'history-panel-compare');

    // The server's content is the version's; Escape closes the panel and gives focus back.
    const markdown = await (await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/content`)).text();
    expect(markdown).toBe('# Launch plan\n\nShip the first draft on Monday.\n\nReview it with legal.');
    await panel.locator('.history-item').first().focus();
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.isHidden(), { timeout: T }).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Version history');
    expect(errors).toEqual([]);
  });
});
