import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/**
 * Serves the built client. Workspace routes (`/`, `/d/<name>`) get the single-page app's
 * index.html; everything else is a file or a 404.
 */
export function createStaticRoutes(root: string) {
  const app = new Hono();
  const index = path.join(root, 'index.html');
  const sendIndex = () => {
    if (!fs.existsSync(index)) return null;
    return new Response(fs.readFileSync(index), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' } });
  };
  app.get('/', (c) => sendIndex() ?? c.text('The client is not built: run `npm run build`.', 503));
  app.get('/d/*', (c) => sendIndex() ?? c.text('The client is not built: run `npm run build`.', 503));
  if (fs.existsSync(root)) app.use('/*', serveStatic({ root }));
  return app;
}
