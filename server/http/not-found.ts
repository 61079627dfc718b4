import fs from 'node:fs';
import type { Context } from 'hono';
import { accepts } from 'hono/accepts';

/**
 * True when the request prefers a page to JSON: a browser navigating sends `Accept: text/html,…`;
 * API clients send `application/json`, `*∕*` (curl) or nothing, and get JSON.
 */
export function wantsHtml(c: Context): boolean {
  return accepts(c, { header: 'Accept', supports: ['application/json', 'text/html'], default: 'application/json' }) === 'text/html';
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The page when the editor is not served (STATIC_DIR empty): plain, no scripts, light or dark. */
function plainPage(path: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Page not found · Collab Docs</title>
<style>body{margin:0 auto;max-width:40rem;padding:3rem 1.25rem;font:16px/1.5 system-ui,sans-serif}a{color:LinkText}</style>
</head>
<body>
<main>
<h1>Page not found</h1>
<p>There is nothing at <code>${escapeHtml(path)}</code>. Check the address.</p>
<p><a href="/">Go to the start page</a>.</p>
</main>
</body>
</html>
`;
}

/**
 * A 404 that suits who asked: JSON `{ "error": "nothing at <path>" }` for API clients; for people,
 * the workspace's page (`index`, which says in words that there is nothing there and links to the
 * documents) or, without a built client, a plain page.
 */
export function notFound(c: Context, index: string | null): Response {
  if (!wantsHtml(c)) return c.json({ error: `nothing at ${c.req.path}` }, 404);
  const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' };
  if (index !== null && fs.existsSync(index)) return new Response(fs.readFileSync(index), { status: 404, headers });
  return new Response(plainPage(c.req.path), { status: 404, headers });
}
