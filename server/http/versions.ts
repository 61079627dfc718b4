import { Hono, type Context } from 'hono';
import { versionLabelProblem } from '../../shared/version-label.js';
import { OPEN_ACCESS, documentProblem, type Access } from '../auth/authenticator.js';
import { MEDIA_TYPES } from '../content/formats.js';
import { loadConversion } from '../content/lazy.js';
import type { History } from '../history/service.js';
import type { VersionRecord } from '../storage/version-store.js';
import { ProtocolError } from '../sync/protocol.js';
import { refuse, type AuthVariables } from './auth.js';
import { requestedFormat } from './content.js';
import { readJsonObject } from './json-body.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
/** Version ids are `v_` and 16 base64url characters; anything else is no version of ours. */
const VERSION_ID = /^v_[A-Za-z0-9_-]{16}$/;

/** A version as the API shows it. */
const toJson = ({ id, createdAt, label, kind, authors, bytes, seq }: VersionRecord) => ({ id, createdAt, label, kind, authors, bytes, seq });

const accessOf = (c: Context<{ Variables: AuthVariables }>): Access => c.get('access') ?? OPEN_ACCESS;
const noDocument = (c: Context, name: string) => c.json({ error: `no document named "${name}"` }, 404);
const noVersion = (c: Context, name: string, id: string) => c.json({ error: `document "${name}" has no version "${id}"` }, 404);

/** The label of a JSON body, trimmed, or the answer that refuses it. */
async function labelOf(c: Context): Promise<{ label: string } | { refusal: Response }> {
  const body = await readJsonObject(c.req.raw);
  if (!body) return { refusal: c.json({ error: 'expected a JSON object { "label": "..." }' }, 400) };
  const problem = versionLabelProblem(body.label);
  if (problem) return { refusal: c.json({ error: problem }, 400) };
  return { label: (body.label as string).trim() };
}

/**
 * `/api/documents/:name/versions`: version history (server/history/). Reading needs a token
 * granting the document; saving, naming and restoring a read-write one (403 otherwise), exactly
 * as the rest of /api/documents.
 *
 * - `GET /` (`?limit=`): newest first. `POST /` `{ "label" }`: saves the current content (201).
 * - `GET /:id`, `PATCH /:id` `{ "label" }`: one version; name it (named versions are kept forever).
 * - `GET /:id/content?format=markdown|html|json|text` (or Accept), as the content API.
 * - `POST /:id/restore`: the document's content becomes the version's, as a new edit.
 */
export function createVersionRoutes(history: History) {
  const app = new Hono<{ Variables: AuthVariables }>();

  // Access first (403 says nothing about what exists), then whether history is on.
  const guard = async (c: Context<{ Variables: AuthVariables }>, next: () => Promise<void>) => {
    const write = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    const denied = documentProblem(accessOf(c), c.req.param('name')!, write);
    if (denied) return refuse(c, 403, denied);
    if (!history.enabled) return c.json({ error: 'this server keeps no version history' }, 501);
    await next();
  };
  app.use('/:name/versions', guard);
  app.use('/:name/versions/*', guard);

  app.get('/:name/versions', async (c) => {
    const name = c.req.param('name');
    const limitParam = c.req.query('limit');
    const limit = limitParam === undefined ? DEFAULT_LIMIT : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return c.json({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}` }, 400);
    const versions = await history.list(name, limit);
    if (!versions) return noDocument(c, name);
    return c.json({ versions: versions.map(toJson) });
  });

  app.post('/:name/versions', async (c) => {
    const name = c.req.param('name');
    const body = await labelOf(c);
    if ('refusal' in body) return body.refusal;
    const access = accessOf(c);
    const version = await history.save(name, body.label, { subject: access.subject, name: null });
    if (!version) return noDocument(c, name);
    return c.json(toJson(version), 201);
  });

  app.get('/:name/versions/:id', async (c) => {
    const { name, id } = c.req.param();
    const version = VERSION_ID.test(id) ? await history.version(name, id) : null;
    return version ? c.json(toJson(version)) : noVersion(c, name, id);
  });

  app.patch('/:name/versions/:id', async (c) => {
    const { name, id } = c.req.param();
    const body = await labelOf(c);
    if ('refusal' in body) return body.refusal;
    const version = VERSION_ID.test(id) ? await history.setLabel(name, id, body.label) : null;
    return version ? c.json(toJson(version)) : noVersion(c, name, id);
  });

  app.get('/:name/versions/:id/content', async (c) => {
    const { name, id } = c.req.param();
    const wanted = requestedFormat(c.req.query('format'), c.req.header('accept'));
    if ('error' in wanted) return c.json({ error: wanted.error }, wanted.status);
    const found = VERSION_ID.test(id) ? await history.content(name, id) : null;
    if (!found) return noVersion(c, name, id);
    c.header('Content-Type', `${MEDIA_TYPES[wanted.format]}; charset=utf-8`);
    c.header('Vary', 'Accept');
    // A version never changes; it can only be deleted (retention, or with its document).
    c.header('Cache-Control', 'private, max-age=300');
    if (wanted.format === 'html') c.header('Content-Security-Policy', "default-src 'none'; sandbox");
    const { serializeContent } = await loadConversion();
    return c.body(serializeContent(wanted.format, found.doc));
  });

  app.post('/:name/versions/:id/restore', async (c) => {
    const { name, id } = c.req.param();
    if (!VERSION_ID.test(id)) return noVersion(c, name, id);
    try {
      const result = await history.restore(name, id, accessOf(c));
      if (!result) return noVersion(c, name, id);
      return c.json({ restored: toJson(result.restored), before: toJson(result.before) });
    } catch (error) {
      // The room refused the edit (reloading after a broken update): nothing was restored.
      if (error instanceof ProtocolError) return c.json({ error: error.message }, 409);
      throw error;
    }
  });

  return app;
}
