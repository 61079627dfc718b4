import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

const NOT_BUILT = 'The client is not built: run `npm run build`.';

/**
 * Serves the built client (dist/client):
 * - `/` and `/d/<name>`: the workspace app's index.html (never cached, so a deploy takes effect);
 * - `/assets/*`: content-hashed files, cached for good;
 * - `/sw.js`: the service worker, revalidated on every load;
 * - `/lib/*`: the embeddable library, readable from other origins (CORS), since other apps
 *   load it with `<script type="module">`;
 * - `/examples/*`: the embedding example;
 * anything else is a file or a 404.
 */
export function createStaticRoutes(root: string) {
  const app = new Hono();
  const index = path.join(root, 'index.html');
  const sendIndex = () => {
    if (!fs.existsSync(index)) return null;
    return new Response(fs.readFileSync(index), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
  };
  app.get('/', (c) => sendIndex() ?? c.text(NOT_BUILT, 503));
  app.get('/d/*', (c) => sendIndex() ?? c.text(NOT_BUILT, 503));

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
    if (c.res.status === 200) c.header('cache-control', 'no-cache');
  });
  if (fs.existsSync(root)) app.use('/*', serveStatic({ root }));
  return app;
}
