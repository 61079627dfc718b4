import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { notFound } from './not-found.js';
import type { SecurityHeaderVariables } from './security-headers.js';

const NOT_BUILT = 'The client is not built: run `npm run build`.';

/**
 * Serves the built client (dist/client):
 * - `/` and `/d/<name>`: the workspace app's index.html (never cached, so a deploy takes effect);
 * - `/assets/*`: content-hashed files, cached for good;
 * - `/sw.js`: the service worker, revalidated on every load;
 * - `/lib/*`: the embeddable library, readable from other origins (CORS), since other apps
 *   load it with `<script type="module">`;
 * - `/examples/*`: the embedding example;
 * anything else is a file or a 404 (a page for browsers, JSON for API clients: not-found.ts). Never a dotfile or anything under a dot-directory (`.env`,
 * `.git/`), however the path is spelled. Source maps exist (and are served) only in a build made
 * with SOURCEMAP=1.
 */
export function createStaticRoutes(root: string) {
  const app = new Hono<{ Variables: SecurityHeaderVariables }>();
  const index = path.join(root, 'index.html');
  const sendIndex = () => {
    if (!fs.existsSync(index)) return null;
    return new Response(fs.readFileSync(index), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
  };
  app.get('/', (c) => sendIndex() ?? c.text(NOT_BUILT, 503));
  app.get('/d/*', (c) => sendIndex() ?? c.text(NOT_BUILT, 503));
  // After /d/* (a document may be named ".notes"), before any file is looked up.
  app.use('/*', async (c, next) => {
    if (hiddenPathProblem(c.req.path)) return notFound(c, index);
    await next();
  });

  app.use('/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('cache-control', 'public, max-age=31536000, immutable');
  });
  app.use('/sw.js', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('cache-control', 'no-cache');
  });
  app.use('/lib/*', async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD' } });
    }
    await next();
    c.header('access-control-allow-origin', '*');
    // Not content-hashed: a stable URL others link to, so revalidate.
    if (c.res.status === 200) c.header('cache-control', 'no-cache');
  });
  app.use('/examples/*', async (c, next) => {
    await next();
    if (c.res.status !== 200) return;
    c.header('cache-control', 'no-cache');
    // The examples show embedding as another app would: with an inline module script. The CSP
    // admits exactly those scripts by hash (cost: the page is read once more, a few KB).
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      const html = await c.res.clone().text();
      c.set('scriptHashes', inlineScriptHashes(html));
    }
  });
  if (fs.existsSync(root)) app.use('/*', serveStatic({ root }));
  return app;
}

/** Why a request path must not reach the files (a dot segment, after percent-decoding), or null. */
export function hiddenPathProblem(requestPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return 'malformed percent-encoding';
  }
  const segments = decoded.split(/[/\\]/);
  return segments.some((segment) => segment.startsWith('.')) ? 'dotfiles are not served' : null;
}

/** CSP hashes (`'sha256-…'`) of the inline `<script>` elements of an HTML page. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (/\ssrc\s*=/i.test(match[1]!)) continue;
    hashes.push(`'sha256-${createHash('sha256').update(match[2]!, 'utf8').digest('base64')}'`);
  }
  return hashes;
}
