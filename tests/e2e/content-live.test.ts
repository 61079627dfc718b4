/**
 * End-to-end: the content API's writes reach an editor in Chromium live, while its person types.
 * A PUT replace (made with If-Match from the document as it is) and an append arrive during a
 * stream of keystrokes; the page shows both, its caret stays where it was typing, and the server
 * ends up with every keystroke.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { editorContent, launchBrowser, openUser, STATIC_DIR, waitForSaved, type UserPage } from '../helpers/browser.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const T = 20_000;

let server: ServerProcess;
let browser: Browser;
let user: UserPage;

beforeAll(async () => {
  server = await startServer({ env: { STATIC_DIR } });
  browser = await launchBrowser();
  user = await openUser(browser, { name: 'Typist' });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

const content = (name: string, format: string) => fetch(`${server.httpUrl}/api/documents/${name}/content?format=${format}`);
const put = (name: string, body: string, type: string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${server.httpUrl}/api/documents/${name}/content${query}`, { method: 'PUT', headers: { 'content-type': type, ...headers }, body });

describe('content API and a live editor', () => {
  test('an editor sees a PUT replace and an append while typing, and loses no keystroke', async () => {
    const { page, errors } = user;
    expect((await put('live-editor', 'Intro\n\nOld body\n\nNotes:', 'text/markdown')).status).toBe(201);
    await page.goto(`${server.httpUrl}/d/live-editor`);
    await waitForSaved(page);
    const notes = editorContent(page).getByText('Notes:');
    await notes.waitFor({ timeout: T });
    await notes.click();
    await page.keyboard.press('End');

    // Keystrokes go on in the third paragraph throughout, one every 25 ms.
    const keys = 'the quick brown fox jumps over the lazy dog '.repeat(3);
    const typing = page.keyboard.type(keys, { delay: 25 });
    await editorContent(page).getByText(/Notes:the quick/).waitFor({ timeout: T });

    // Replace the second paragraph and add a heading, from the document as it is now (If-Match);
    // when a keystroke got in between (412), read it again.
    let replaced = false;
    for (let attempt = 0; attempt < 200 && !replaced; attempt++) {
      const current = await content('live-editor', 'json');
      const doc = (await current.json()) as { content: unknown[] };
      doc.content[1] = { type: 'paragraph', content: [{ type: 'text', text: 'New body' }] };
      doc.content.splice(1, 0, { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Added' }] });
      const answer = await put('live-editor', JSON.stringify(doc), 'application/json', { 'if-match': current.headers.get('etag')! });
      if (answer.status === 200) replaced = true;
      else expect(answer.status).toBe(412);
    }
    expect(replaced).toBe(true);
    expect((await put('live-editor', 'Appended line', 'text/plain', {}, '?mode=append')).status).toBe(200);
    await editorContent(page).getByText('New body').waitFor({ timeout: T });
    await editorContent(page).getByRole('heading', { name: 'Added' }).waitFor({ timeout: T });
    await editorContent(page).getByText('Appended line').waitFor({ timeout: T });
    expect(await editorContent(page).getByText('Old body').count()).toBe(0);

    await typing;
    await waitForSaved(page);
    const expected = ['Intro', 'Added', 'New body', `Notes:${keys.trimEnd()}`, 'Appended line'];
    const paragraphs = await editorContent(page).locator('h1, h2, h3, p').allInnerTexts();
    expect(paragraphs.map((text) => text.trimEnd())).toEqual(expected);
    // The server's JSON of the document: the same blocks with the same text.
    let stored: string[] = [];
    const blockText = (block: { content?: Array<{ text?: string }> }) => (block.content ?? []).map((inline) => inline.text ?? '').join('');
    await waitFor(async () => {
      stored = ((await (await content('live-editor', 'json')).json()) as { content: Array<{ content?: Array<{ text?: string }> }> }).content.map(blockText);
      return stored.map((text) => text.trimEnd()).join('\n') === expected.join('\n');
    }, 'the server to hold every keystroke', T).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(stored)}`);
    });
    expect(errors).toEqual([]);
  }, 90_000);
});
