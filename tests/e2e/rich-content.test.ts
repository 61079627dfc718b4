/**
 * End-to-end: the editor's rich content in Debian's Chromium against the real server, with two
 * people (two browser contexts): tables edited by both at once, task lists, Markdown shortcuts,
 * the "/" menu, find and replace, the toolbars' keyboard behaviour, undo per person, and the
 * export of it all through the content API.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, screenshot, STATIC_DIR, statusText, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';

const require = createRequire(import.meta.url);
const T = 20_000; // DOM waits: generous, the machine has two cores shared with other suites

let server: ServerProcess;
let browser: Browser;
let alice: UserPage;
let bob: UserPage;

beforeAll(async () => {
  server = await startServer({ dataDir: tempDir('collab-rich-e2e-'), env: { STATIC_DIR } });
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

/**
 * A new document of this test's own (empty, or imported from `markdown`: then its content is in
 * nobody's undo history), opened in each page (connected and saved).
 */
async function openNewDocument(title: string, ...users: UserPage[]): Promise<string> {
  return openDocumentWith(title, undefined, ...users);
}

async function openDocumentWith(title: string, markdown: string | undefined, ...users: UserPage[]): Promise<string> {
  const body = markdown === undefined ? { title } : { title, content: markdown, format: 'markdown' };
  const response = await fetch(`${server.httpUrl}/api/documents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  const { name } = (await response.json()) as { name: string };
  for (const { page } of users) {
    await page.goto(`${server.httpUrl}/d/${encodeURIComponent(name)}`);
    await waitForSaved(page);
  }
  return name;
}

/** The texts of the editor's (first) table, row by row, without remote cursors' name labels. */
async function tableTexts(page: Page, index = 0): Promise<string[][]> {
  return editorContent(page).evaluate((el, index) => {
    const table = el.querySelectorAll('table')[index];
    if (!table) return [];
    return Array.from(table.querySelectorAll(':scope > tbody > tr')).map((row) =>
      Array.from(row.children).map((cell) => {
        const copy = cell.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('.ce-cursor').forEach((cursor) => cursor.remove());
        return (copy.textContent ?? '').trim();
      }),
    );
  }, index);
}

/** The texts of the editor's top-level blocks, without remote cursors' name labels. */
async function blocks(page: Page): Promise<string[]> {
  return editorContent(page).evaluate((el) =>
    Array.from(el.children).map((child) => {
      const copy = child.cloneNode(true) as HTMLElement;
      copy.querySelectorAll('.ce-cursor').forEach((cursor) => cursor.remove());
      return (copy.textContent ?? '').replace(/\u2060/g, '').trim();
    }),
  );
}

function cell(page: Page, row: number, column: number) {
  return editorContent(page).locator(`table > tbody > tr:nth-child(${row + 1}) > :nth-child(${column + 1})`);
}

/**
 * Clicks into a cell and waits until the editor has taken the click: the clicker's caret shows
 * in that cell for `peer`. (y-prosemirror redraws remote cursors on presence messages; one that
 * arrives between the click and ProseMirror reading it would put the caret back.)
 */
async function clickCell(page: Page, row: number, column: number, peer: Page, peerName: string): Promise<void> {
  await cell(page, row, column).click();
  await cell(peer, row, column).locator('.ce-cursor', { hasText: peerName }).waitFor({ timeout: T });
}

/** Waits until both pages show the same table and returns it. */
async function sameTable(a: Page, b: Page): Promise<string[][]> {
  const both = async () => ({ a: await tableTexts(a), b: await tableTexts(b) });
  await expect
    .poll(async () => {
      const { a: first, b: second } = await both();
      return JSON.stringify(first) === JSON.stringify(second);
    }, { timeout: T })
    .toBe(true)
    .catch(async (error: Error) => {
      throw new Error(`${error.message}: the tables differ: ${JSON.stringify(await both())}`);
    });
  return tableTexts(a);
}

async function clickToolbar(page: Page, action: string): Promise<void> {
  await page.locator(`.ce-root [data-action="${action}"]`).first().click();
}

async function exported(name: string, format: 'markdown' | 'json'): Promise<string> {
  const response = await fetch(`${server.httpUrl}/api/documents/${encodeURIComponent(name)}/content?format=${format}`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('rich content', () => {
  test('a table from the "/" menu, edited by two people at once: cells, rows, columns, merges and widths converge', async () => {
    const a = alice.page;
    const b = bob.page;
    const name = await openNewDocument('Table', alice, bob);

    // Alice opens the "/" menu: a listbox the editor points into, filtered by what she types.
    await editorContent(a).click();
    await a.keyboard.type('/');
    const menu = a.getByRole('listbox', { name: 'Insert a block' });
    await menu.waitFor({ timeout: T });
    expect(await menu.getByRole('option').count()).toBeGreaterThanOrEqual(10);
    await a.keyboard.type('tab');
    await expect.poll(() => menu.getByRole('option').allInnerTexts(), { timeout: T }).toEqual([expect.stringContaining('Table')]);
    const active = await editorContent(a).getAttribute('aria-activedescendant');
    expect(await menu.getByRole('option', { selected: true }).getAttribute('id')).toBe(active);
    await screenshot(a, 'rich-01-slash-menu');
    await a.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: T });
    expect(await tableTexts(a)).toEqual([
      ['', '', ''],
      ['', '', ''],
      ['', '', ''],
    ]);
    expect(await editorContent(a).locator('table tr:first-child th').count()).toBe(3);
    expect((await editorContent(a).textContent()) ?? '').not.toContain('/');
    await expect.poll(() => tableTexts(b), { timeout: T }).toHaveLength(3);

    // Keyboard navigation: Alice types the header, Tab by Tab.
    await a.keyboard.type('Task');
    await a.keyboard.press('Tab');
    await a.keyboard.type('Owner');
    await a.keyboard.press('Tab');
    await a.keyboard.type('Due');
    await a.keyboard.press('Tab'); // to the next row

    // Both type at once, in different cells of the same row.
    await clickCell(b, 1, 1, a, 'Bob');
    await Promise.all([a.keyboard.type('Write the plan', { delay: 15 }), b.keyboard.type('Bob', { delay: 15 })]);
    await expect.poll(() => tableTexts(b), { timeout: T }).toEqual([
      ['Task', 'Owner', 'Due'],
      ['Write the plan', 'Bob', ''],
      ['', '', ''],
    ]);
    await sameTable(a, b);

    // The table bar appears in the table; Tab in the last cell adds a row.
    await b.getByRole('toolbar', { name: 'Table' }).waitFor({ timeout: T });
    await clickCell(a, 2, 2, b, 'Alice');
    await a.keyboard.press('Tab');
    await expect.poll(async () => (await tableTexts(b)).length, { timeout: T }).toBe(4);

    // Truly concurrent structure changes: Alice, offline, adds a row; Bob adds a column meanwhile.
    // (Each puts the caret in place first, while the other can still see it.)
    await clickCell(a, 1, 0, b, 'Alice');
    await clickCell(b, 0, 2, a, 'Bob');
    await waitForSaved(a);
    await alice.context.setOffline(true);
    await statusText(a).filter({ hasText: 'Offline' }).waitFor({ timeout: T });
    await clickToolbar(a, 'row-below');
    await a.keyboard.press('ArrowDown'); // into the new row
    await a.keyboard.type('Offline row');
    await clickToolbar(b, 'column-right');
    await b.keyboard.press('Tab'); // into the new column
    await b.keyboard.type('Notes');
    await waitForSaved(b);
    await alice.context.setOffline(false);
    const merged = await sameTable(a, b);
    await waitForSaved(a);
    await waitForSaved(b);
    // Exactly one editor repaired the ragged row: every row has four cells, none has more.
    await expect.poll(async () => (await tableTexts(b)).map((row) => row.length), { timeout: T }).toEqual([4, 4, 4, 4, 4]);
    // The repair reaches the other editor a moment later.
    const repaired = await tableTexts(b);
    await expect.poll(() => tableTexts(a), { timeout: T }).toEqual(repaired);
    expect(merged[0]).toEqual(['Task', 'Owner', 'Due', 'Notes']);
    expect(merged[2]![0]).toBe('Offline row');

    // Merge two cells (a cell selection made with Shift+Arrow), then split them again.
    await clickCell(a, 3, 0, b, 'Alice');
    await a.keyboard.press('Shift+ArrowRight');
    await editorContent(a).locator('.selectedCell').nth(1).waitFor({ timeout: T });
    await clickToolbar(a, 'merge-cells');
    await editorContent(b).locator('td[colspan="2"]').waitFor({ timeout: T });
    await screenshot(b, 'rich-02-table-merged');
    await clickToolbar(a, 'split-cell');
    await expect.poll(() => editorContent(b).locator('td[colspan="2"]').count(), { timeout: T }).toBe(0);

    // Header row off and on again.
    await clickToolbar(a, 'header-row');
    await expect.poll(() => editorContent(b).locator('th').count(), { timeout: T }).toBe(0);
    await clickToolbar(a, 'header-row');
    await expect.poll(() => editorContent(b).locator('th').count(), { timeout: T }).toBe(4);

    // Resize the first column with the mouse: the width is stored and shown to Bob.
    const box = (await cell(a, 0, 0).boundingBox())!;
    await a.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await editorContent(a).locator('.column-resize-handle').first().waitFor({ timeout: T });
    await a.mouse.down();
    await a.mouse.move(box.x + box.width + 80, box.y + box.height / 2, { steps: 5 });
    await a.mouse.up();
    await editorContent(b).locator('th[data-colwidth]').first().waitFor({ timeout: T });
    const width = Number(await editorContent(b).locator('th[data-colwidth]').first().getAttribute('data-colwidth'));
    expect(width).toBeGreaterThan(box.width + 40);

    // Delete a row and a column.
    await clickCell(b, 4, 3, a, 'Bob');
    await clickToolbar(b, 'delete-row');
    await clickToolbar(b, 'delete-column');
    await expect.poll(async () => (await tableTexts(a)).map((row) => row.length), { timeout: T }).toEqual([3, 3, 3, 3]);
    await sameTable(a, b);
    await waitForSaved(a);
    await waitForSaved(b);
    await screenshot(a, 'rich-03-table-alice');

    // The export shows a GFM table.
    const markdown = await exported(name, 'markdown');
    expect(markdown).toMatch(/^\| Task \| Owner \| Due \|$/m);
    expect(markdown).toMatch(/^\| --- \| --- \| --- \|$/m);
    expect(markdown).toMatch(/^\| Write the plan \| Bob \| {2}\|$/m);
  });

  test('undo in a table is per person: Alice undoes her cell, Bob keeps his', async () => {
    const a = alice.page;
    const b = bob.page;
    // A table imported through the content API: in nobody's undo history.
    await openDocumentWith('Undo table', '| Item | Status |\n| --- | --- |\n| one | |\n| two | |\n', alice, bob);
    await clickCell(a, 1, 1, b, 'Alice');
    await clickCell(b, 2, 1, a, 'Bob');
    await Promise.all([a.keyboard.type('done by Alice', { delay: 15 }), b.keyboard.type('done by Bob', { delay: 15 })]);
    await expect.poll(() => tableTexts(a), { timeout: T }).toEqual([
      ['Item', 'Status'],
      ['one', 'done by Alice'],
      ['two', 'done by Bob'],
    ]);
    await a.keyboard.press('Control+z');
    await expect.poll(() => tableTexts(b), { timeout: T }).toEqual([
      ['Item', 'Status'],
      ['one', ''],
      ['two', 'done by Bob'],
    ]);
    await a.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await tableTexts(b))[1], { timeout: T }).toEqual(['one', 'done by Alice']);
    await sameTable(a, b);
    await waitForSaved(a);
  });

  test('task lists: Markdown shortcut, nested, checked by one and checked for the other, undo per person', async () => {
    const a = alice.page;
    const b = bob.page;
    const name = await openNewDocument('Checklist', alice, bob);
    await editorContent(a).click();
    await a.keyboard.type('[ ] Write the agenda');
    await a.keyboard.press('Enter');
    await a.keyboard.type('Book the room');
    await a.keyboard.press('Enter');
    await a.keyboard.press('Tab'); // nested under "Book the room"
    await a.keyboard.type('Ask facilities');
    const items = (page: Page) => editorContent(page).locator('li[data-type="taskItem"]');
    await expect.poll(() => items(b).count(), { timeout: T }).toBe(3);
    await editorContent(b).locator('ul[data-type="taskList"] ul[data-type="taskList"] li', { hasText: 'Ask facilities' }).waitFor({ timeout: T });

    // Bob checks the first task with the mouse: checked for Alice too.
    const agendaBox = (page: Page) => items(page).filter({ hasText: 'Write the agenda' }).getByRole('checkbox').first();
    expect(await agendaBox(b).getAttribute('aria-labelledby')).toBeTruthy();
    await expect(agendaBox(b).isChecked()).resolves.toBe(false);
    await agendaBox(b).click();
    await expect.poll(() => agendaBox(a).isChecked(), { timeout: T }).toBe(true);
    await expect.poll(() => items(a).first().getAttribute('data-checked'), { timeout: T }).toBe('true');

    // Alice checks the nested task from the keyboard (Ctrl+Enter in it).
    await editorContent(a).getByText('Ask facilities').click();
    await a.keyboard.press('Control+Enter');
    const facilities = (page: Page) => items(page).filter({ hasText: 'Ask facilities' }).last();
    await expect.poll(() => facilities(b).getAttribute('data-checked'), { timeout: T }).toBe('true');
    await waitForSaved(a);
    await waitForSaved(b);
    await screenshot(b, 'rich-04-task-list');

    // Bob's undo unchecks what he checked; Alice's check stays.
    await editorContent(b).click();
    await b.keyboard.press('Control+z');
    await expect.poll(() => agendaBox(a).isChecked(), { timeout: T }).toBe(false);
    expect(await facilities(a).getAttribute('data-checked')).toBe('true');
    expect(await facilities(b).getAttribute('data-checked')).toBe('true');
    await waitForSaved(b);

    const markdown = await exported(name, 'markdown');
    expect(markdown).toBe('- [ ] Write the agenda\n- [ ] Book the room\n  - [x] Ask facilities');
  });

  test('Markdown shortcuts format as you type, for the other person too', async () => {
    const a = alice.page;
    const b = bob.page;
    const name = await openNewDocument('Shortcuts', alice, bob);
    await editorContent(a).click();
    // Each line typed, then Enter; an Enter in an empty list item or quote line leaves it.
    for (const line of ['# Title', '## Section', 'Some **bold**, _italic_, ~~struck~~ and `code` words', '- bullet', '', '1. first', '', '> quoted', '']) {
      await a.keyboard.type(line, { delay: 5 });
      await a.keyboard.press('Enter');
    }
    await a.keyboard.type('```', { delay: 5 });
    await a.keyboard.type('const x = 1;', { delay: 5 });
    const content = editorContent(b);
    await content.locator('h1', { hasText: 'Title' }).waitFor({ timeout: T });
    await content.locator('h2', { hasText: 'Section' }).waitFor({ timeout: T });
    await content.locator('strong', { hasText: 'bold' }).waitFor({ timeout: T });
    await content.locator('em', { hasText: 'italic' }).waitFor({ timeout: T });
    await content.locator('s', { hasText: 'struck' }).waitFor({ timeout: T });
    await content.locator('code', { hasText: 'code' }).first().waitFor({ timeout: T });
    await content.locator('ul > li', { hasText: 'bullet' }).waitFor({ timeout: T });
    await content.locator('ol > li', { hasText: 'first' }).waitFor({ timeout: T });
    await content.locator('blockquote', { hasText: 'quoted' }).waitFor({ timeout: T });
    await content.locator('pre', { hasText: 'const x = 1;' }).waitFor({ timeout: T });
    expect(await content.locator('p', { hasText: '**' }).count()).toBe(0);

    // Out of the code block (Ctrl+Enter: exitCode), a divider, and a shortcut taken back with Backspace.
    await a.keyboard.press('Control+Enter');
    await a.keyboard.type('---');
    await content.locator('hr').waitFor({ timeout: T });
    await a.keyboard.type('**undo me**');
    await a.keyboard.press('Backspace');
    await content.getByText('**undo me**').waitFor({ timeout: T });
    // Underline from the keyboard, highlight from the toolbar.
    await a.keyboard.press('Enter');
    await a.keyboard.press('Control+u');
    await a.keyboard.type('under');
    await a.keyboard.press('Control+u');
    await a.keyboard.type(' and ');
    await clickToolbar(a, 'highlight');
    await a.keyboard.type('marked');
    // Center the title: the caret to the top, seen there by Bob, then the toolbar.
    await a.keyboard.press('Control+Home');
    await content.locator('h1 .ce-cursor', { hasText: 'Alice' }).waitFor({ timeout: T });
    await clickToolbar(a, 'align-center');
    await content.locator('h1[style*="text-align: center"]').waitFor({ timeout: T });
    expect(await a.locator('.ce-toolbar [data-action="align-center"]').getAttribute('aria-pressed')).toBe('true');
    await content.locator('u', { hasText: 'under' }).waitFor({ timeout: T });
    await content.locator('mark', { hasText: 'marked' }).waitFor({ timeout: T });
    await waitForSaved(a);
    await screenshot(b, 'rich-05-markdown-shortcuts');
    const markdown = await exported(name, 'markdown');
    expect(markdown).toContain('Some **bold**, *italic*, ~~struck~~ and `code` words');
    expect(markdown).toContain('<div align="center">\n\n# Title\n\n</div>');
    expect(markdown).toContain('<u>under</u> and <mark>marked</mark>');
  });

  test('find and replace: Ctrl+F, matches counted and stepped through, replace one and all, undo', async () => {
    const a = alice.page;
    const b = bob.page;
    await openDocumentWith('Find', 'The cat sat. Another cat.\n\nA CAT in capitals, and a category.', alice, bob);
    // The search starts at the caret: at the top (Bob sees Alice's caret before the first word).
    await editorContent(a).getByText('The cat sat').click();
    await a.keyboard.press('Control+Home');
    await expect
      .poll(() => editorContent(b).locator('p').first().evaluate((p) => p.firstChild instanceof HTMLElement && p.firstChild.classList.contains('ce-cursor')), { timeout: T })
      .toBe(true);
    await a.keyboard.press('Control+f');
    const bar = a.getByRole('search', { name: 'Find and replace' });
    const query = bar.getByRole('searchbox', { name: 'Find in document' });
    await query.waitFor({ timeout: T });
    await expect.poll(() => a.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Find in document');
    await query.fill('cat');
    const count = bar.getByRole('status');
    await expect.poll(() => count.textContent(), { timeout: T }).toBe('1 of 4');
    expect(await editorContent(a).locator('.ce-find-match').count()).toBe(4);
    await query.press('Enter');
    await expect.poll(() => count.textContent(), { timeout: T }).toBe('2 of 4');
    await query.press('Shift+Enter');
    await query.press('Shift+Enter');
    await expect.poll(() => count.textContent(), { timeout: T }).toBe('4 of 4');
    await screenshot(a, 'rich-06-find');

    // Replace the current one (the "cat" of "category"), then all the others.
    const replacement = bar.getByRole('textbox', { name: 'Replace with' });
    await replacement.fill('dog');
    await bar.getByRole('button', { name: 'Replace this match' }).click();
    await expect.poll(() => blocks(b), { timeout: T }).toEqual(['The cat sat. Another cat.', 'A CAT in capitals, and a dogegory.']);
    await expect.poll(() => count.textContent(), { timeout: T }).toBe('1 of 3');
    await bar.getByRole('button', { name: 'Replace all matches' }).click();
    await expect.poll(() => count.textContent(), { timeout: T }).toBe('No matches');
    await expect.poll(() => blocks(b), { timeout: T }).toEqual(['The dog sat. Another dog.', 'A dog in capitals, and a dogegory.']);

    // Escape closes the bar and returns to the text; one undo takes back "Replace all" (and
    // "Replace" with it if it was less than half a second before: Yjs groups those).
    await query.press('Escape');
    await bar.waitFor({ state: 'hidden', timeout: T });
    await expect.poll(() => a.evaluate(() => document.activeElement?.classList.contains('ce-content'))).toBe(true);
    await a.keyboard.press('Control+z');
    await expect.poll(() => blocks(b), { timeout: T }).toEqual(['The cat sat. Another cat.', 'A CAT in capitals, and a category.']);
    await waitForSaved(a);
  });

  test('the formatting toolbar is one Tab stop with arrow keys, and has 44 px touch targets on a phone', async () => {
    const a = alice.page;
    await openNewDocument('Toolbar', alice);
    const toolbar = a.getByRole('toolbar', { name: 'Formatting' });
    const tabStops = await toolbar.locator('button').evaluateAll((buttons) => buttons.filter((button) => (button as HTMLButtonElement).tabIndex === 0).length);
    expect(tabStops).toBe(1);
    await editorContent(a).click();
    await a.keyboard.type('Some text');
    await toolbar.locator('button[tabindex="0"]').focus();
    const focused = () => a.evaluate(() => document.activeElement?.getAttribute('data-action'));
    const first = await focused();
    await a.keyboard.press('ArrowRight');
    const second = await focused();
    expect(second).not.toBe(first);
    await a.keyboard.press('ArrowLeft');
    expect(await focused()).toBe(first);
    await a.keyboard.press('End'); // the last enabled button: Redo has nothing to redo yet
    expect(await focused()).toBe('undo');
    await a.keyboard.press('Home'); // the first enabled button: "Normal text" is what the line already is
    expect(await focused()).toBe('h1');
    // Tab leaves the toolbar (one stop), Shift+Tab comes back to the button last used.
    await a.keyboard.press('ArrowRight');
    expect(await focused()).toBe('h2');
    await a.keyboard.press('Tab');
    expect(await focused()).not.toBe('h3');
    await a.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('h2');
    await screenshot(a, 'rich-07-toolbar-focus');

    const phone = await openUser(browser, { name: 'Carol', viewport: { width: 390, height: 760 } });
    try {
      await phone.page.goto(a.url());
      await waitForSaved(phone.page);
      const sizes = await phone.page.locator('.ce-toolbar button').evaluateAll((buttons) => buttons.map((button) => button.getBoundingClientRect()).map((rect) => [rect.width, rect.height]));
      expect(sizes.length).toBeGreaterThan(20);
      for (const [width, height] of sizes) {
        expect(width).toBeGreaterThanOrEqual(44);
        expect(height).toBeGreaterThanOrEqual(44);
      }
      await screenshot(phone.page, 'rich-08-phone-toolbar');
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  test('the table bar, the find bar and the "/" menu pass axe-core (WCAG 2.1 AA rules)', async () => {
    const a = alice.page;
    await openDocumentWith('Accessible', '| A | B |\n| --- | --- |\n| 1 | 2 |\n\n- [ ] a task\n\nText with <mark>highlight</mark>', alice);
    const axeViolations = async () => {
      // Evaluated over the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
      await a.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
      return a.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
        const result = await axe.run({ include: [['.ce-root']] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return result.violations.map((violation) => `${violation.id}: ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
      });
    };
    // The table bar and the find bar, with matches highlighted and a task's checkbox.
    await editorContent(a).locator('td').first().click();
    await a.getByRole('toolbar', { name: 'Table' }).waitFor({ timeout: T });
    await a.keyboard.press('Control+f');
    await a.getByRole('searchbox', { name: 'Find in document' }).fill('1'); // a match in the table: the selection stays there
    await a.getByRole('toolbar', { name: 'Table' }).waitFor({ timeout: T });
    await screenshot(a, 'rich-09-axe-bars');
    expect(await axeViolations()).toEqual([]);
    // The "/" menu.
    await editorContent(a).getByText('Text with').click();
    await a.keyboard.press('End');
    await a.keyboard.press('Enter');
    await a.keyboard.type('/');
    await a.getByRole('listbox', { name: 'Insert a block' }).waitFor({ timeout: T });
    const violations = await axeViolations();
    await screenshot(a, 'rich-10-axe-menu');
    expect(violations).toEqual([]);
  });
});
