import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { FILE_ID, fileUrl } from '../../shared/images.js';
import { OPEN_ACCESS, documentProblem, type Access } from '../auth/authenticator.js';
import { sniffImage } from '../files/image-sniff.js';
import type { FileInfo, FileStore } from '../storage/file-store.js';
import { refuse, type AuthVariables } from './auth.js';
import type { WriteTypes } from './browser-guard.js';

export interface FileRouteOptions {
  /** The store's files; without them uploads are refused (405). */
  files: FileStore | undefined;
}

/**
 * What an upload may declare. The declared type is never trusted (the bytes decide), but the
 * types a browser sends for images must reach the route, so that an SVG or a BMP is refused with
 * what it is; `''` is a file of unknown type (no Content-Type). Other types (text/html, forms)
 * are refused by jsonWrites before the route, with 415 as well.
 */
const UPLOAD_TYPES: readonly string[] = [
  '',
  'application/octet-stream',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/svg+xml',
  'image/bmp',
  'image/tiff',
  'image/avif',
  'image/heic',
  'image/x-icon',
  'image/vnd.microsoft.icon',
];

/** The media types of uploads (see jsonWrites); null for every other request. */
export const fileWriteTypes: WriteTypes = (method, path) => (method === 'POST' && /^\/api\/documents\/[^/]+\/files$/.test(path) ? UPLOAD_TYPES : null);

/** Whether a request path is an upload (its body is bounded by MAX_FILE_BYTES, not MAX_CONTENT_BYTES). */
export const isUploadPath = (path: string): boolean => /^\/api\/documents\/[^/]+\/files$/.test(path);

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

const accessOf = (c: Context<{ Variables: AuthVariables }>): Access => c.get('access') ?? OPEN_ACCESS;

const describe = (name: string, info: FileInfo) => ({
  id: info.id,
  url: fileUrl(name, info.id),
  type: info.type,
  size: info.size,
  width: info.width,
  height: info.height,
  createdAt: new Date(info.createdAt).toISOString(),
});

/**
 * `/api/documents/:name/files`: images in documents.
 *
 * - `POST /:name/files` (the image's bytes as the body; a read-write token for the document): 201
 *   with `{ id, url, type, size, width, height }` (200 if the document had these bytes already).
 *   Only PNG, JPEG, GIF and WebP, found by their bytes (415 otherwise, saying what the file is);
 *   larger than MAX_FILE_BYTES: 413 (bodyLimits); no such document: 404.
 * - `GET /:name/files/:id` (a token that can read the document): the bytes, as their sniffed type,
 *   cacheable for a year (the id is the SHA-256 of the bytes: a URL never shows anything else).
 */
export function createFileRoutes(options: FileRouteOptions) {
  const { files } = options;
  const app = new Hono<{ Variables: AuthVariables }>();

  app.post('/:name/files', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name, true);
    if (denied) return refuse(c, 403, denied);
    if (!files) return c.json({ error: 'this server stores no files' }, 405);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0) return c.json({ error: 'expected the bytes of an image (the body is empty)' }, 400);
    const image = sniffImage(bytes);
    if ('problem' in image) return c.json({ error: `${image.problem}; only PNG, JPEG, GIF and WebP images are accepted` }, 415);
    const id = createHash('sha256').update(bytes).digest('base64url');
    const stored = await files.put({ document: name, id, type: image.type, width: image.width, height: image.height, bytes }, Date.now());
    if (!stored) return c.json({ error: `no document named "${name}"` }, 404);
    return c.json(describe(name, stored.info), stored.created ? 201 : 200);
  });

  app.get('/:name/files/:id', async (c) => {
    const name = c.req.param('name');
    const id = c.req.param('id');
    const denied = documentProblem(accessOf(c), name);
    if (denied) return refuse(c, 403, denied);
    const notFound = () => c.json({ error: `no file "${id.slice(0, 60)}" in document "${name}"` }, 404);
    if (!files || !FILE_ID.test(id)) return notFound();
    const etag = `"${id}"`;
    // Private: the answer depends on the token; shared caches must not hand it to others.
    c.header('Cache-Control', 'private, max-age=31536000, immutable');
    c.header('ETag', etag);
    if (c.req.header('if-none-match')?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      if (!(await files.get(name, id))) return notFound();
      return c.body(null, 304);
    }
    const file = await files.get(name, id);
    if (!file) return notFound();
    c.header('Content-Type', file.type);
    c.header('Content-Length', String(file.bytes.byteLength));
    c.header('X-Content-Type-Options', 'nosniff');
    // Opened as a page (not in an <img>), the image can run nothing, load nothing, be framed by no one.
    c.header('Content-Security-Policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'");
    c.header('Content-Disposition', `inline; filename="${id}.${EXTENSIONS[file.type] ?? 'bin'}"`);
    c.header('Cross-Origin-Resource-Policy', 'same-site');
    return c.body(file.bytes as Uint8Array<ArrayBuffer>);
  });

  return app;
}
