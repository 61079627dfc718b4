/**
 * Debian's Chromium driven by playwright-core for the end-to-end tests. Playwright never downloads
 * a browser here: it launches /usr/bin/chromium (CHROMIUM_PATH overrides it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('tests/e2e/screenshots');
export const STATIC_DIR = path.resolve('dist/client');

/** Fails early, with the fix, when the browser or the client build is missing. */
export function checkPrerequisites(): void {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  for (const file of ['index.html', 'sw.js', 'lib/collab-editor.js', 'examples/embed.html']) {
    if (!fs.existsSync(path.join(STATIC_DIR, file))) throw new Error(`${path.join(STATIC_DIR, file)} is missing: run the tests with \`npm test\`, which builds first`);
  }
}

export async function launchBrowser(): Promise<Browser> {
  checkPrerequisites();
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox', // CI runs as root
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking', // no calls home: this machine has no network but loopback
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen on the page (tests assert there are none). */
  errors: string[];
}

/**
 * A separate browser context per person (separate storage, IndexedDB and BroadcastChannel, like
 * two people on two computers). `name` is pre-stored as the display name unless null.
 */
export async function openUser(browser: Browser, options: { name: string | null; viewport?: { width: number; height: number } }): Promise<UserPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1180, height: 760 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(20_000);
  if (options.name !== null) {
    await context.addInitScript((name: string) => {
      if (!localStorage.getItem('collab.user.name')) localStorage.setItem('collab.user.name', name);
    }, options.name);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // Expected while offline or while a server restarts: failed connection attempts.
    if (/WebSocket connection to .* failed|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(text)) return;
    // A failed request is expected of the API (a 401 asks for a token, a 404 for a missing
    // document) and while offline; never of the app's own scripts, styles and images.
    if (/Failed to load resource/.test(text) && (!isAppAsset(message.location().url) || /net::ERR_/.test(text))) return;
    errors.push(`console: ${text}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && isAppAsset(response.url())) errors.push(`asset: ${response.status()} for ${response.url()}`);
  });
  return { context, page, errors };
}

/** A file of the app itself (script, style, page, image), as opposed to the API, the sync socket or another site. */
function isAppAsset(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.hostname !== '127.0.0.1' && parsed.hostname !== 'localhost') return false;
  // The browser asks for /favicon.ico by itself on pages without an icon (the embed example).
  return !/^\/(api|sync)(\/|$)/.test(parsed.pathname) && !/^\/(healthz|metrics|favicon\.ico)$/.test(parsed.pathname);
}

/** Saves a screenshot to tests/e2e/screenshots/<name>.png (look at them: they show what a person sees). */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** The editable ProseMirror element of the (first, or `scope`d) editor on a page. */
export function editorContent(page: Page, scope = 'body') {
  return page.locator(`${scope} .ce-content`).first();
}

/** The connection status text of an editor. */
export function statusText(page: Page, scope = 'body') {
  return page.locator(`${scope} .ce-status-text`).first();
}

/** Waits until the editor's status says everything is saved on the server. */
export async function waitForSaved(page: Page, scope = 'body', timeout = 20_000): Promise<void> {
  await page.locator(`${scope} .ce-status[data-connection="connected"][data-saved="true"]`).first().waitFor({ timeout });
}
