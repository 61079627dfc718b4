import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { META_MAP, documentNameProblem } from '../../shared/protocol.js';
import { OPEN_ACCESS, documentProblem, type Access } from '../auth/authenticator.js';
import { creationPrefix } from '../auth/patterns.js';
import type { TokenBuckets } from '../limits/token-bucket.js';
import type { UntrustedProxyCheck } from '../limits/untrusted-proxy.js';
import type { DocumentContent } from '../content/document-content.js';
import { importedContent } from '../content/import.js';
import type { EventBus } from '../events.js';
import type { DocumentStore } from '../storage/types.js';
import type { DeleteDocument } from '../sync/deletion.js';
import { titleProblem } from '../../shared/title.js';
import { refuse, type AuthVariables } from './auth.js';
import { RoomLimitError, type RoomRegistry } from '../sync/room-registry.js';
import { readJsonObject } from './json-body.js';
import { creatorKey } from './creator-key.js';

const MAX_LIST = 500;

export interface DocumentRouteOptions {
  /** Document creations per token subject (or, open, per client address); null is unlimited. */
  creations?: TokenBuckets | null;
  /** Client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Says so in a per-address refusal when requests carry X-Forwarded-For without TRUST_PROXY. */
  untrustedProxy?: UntrustedProxyCheck;
  /** Writes imported content (`POST` with `content`) through the document's room. */
  content?: DocumentContent;
  /** `DELETE /:name`; without it documents cannot be deleted. */
  deleteDocument?: DeleteDocument;
  /** Told `document.created` (webhooks send it at once; storage marked it in the creating transaction). */
  events?: EventBus;
}

/** Longest search query (`?q=`); only its first words are used anyway (storage/search-query.ts). */
const MAX_QUERY_CHARS = 500;

function newDocumentName(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * `/api/documents`: list (most recently edited first), create, read and retitle documents.
 * A title set here is written into the document's meta map, so editors see it live.
 */
export function createDocumentRoutes(store: DocumentStore, registry: RoomRegistry, options: DocumentRouteOptions = {}) {
  const app = new Hono<{ Variables: AuthVariables }>();
  // Set by apiAuth; everything when the routes are used without it.
  const accessOf = (c: { get(key: 'access'): Access | undefined }): Access => c.get('access') ?? OPEN_ACCESS;

  app.get('/', async (c) => {
    const limitParam = c.req.query('limit');
    const limit = limitParam === undefined ? 100 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
      return c.json({ error: `limit must be a whole number from 1 to ${MAX_LIST}` }, 400);
    }
    const access = accessOf(c);
    const query = c.req.query('q');
    if (query !== undefined) {
      // Search by title and text, through the full-text index; granted documents only, as the list.
      if (query.length > MAX_QUERY_CHARS) return c.json({ error: `q is longer than ${MAX_QUERY_CHARS} characters` }, 400);
      if (access.documents.includes('*')) return c.json({ documents: await store.search(query, limit) });
      const found = (await store.search(query, limit, access.documents)).filter((info) => documentProblem(access, info.name) === null);
      return c.json({ documents: found });
    }
    if (access.documents.includes('*')) return c.json({ documents: await store.list(limit) });
    // Only what the token grants, selected by the storage query itself (an indexed range per
    // pattern), so that no number of documents others create can push these out of the list.
    // Filtered again here: the query and the token check must never disagree.
    const visible = (await store.list(limit, access.documents)).filter((info) => documentProblem(access, info.name) === null);
    return c.json({ documents: visible });
  });

  app.post('/', async (c) => {
    const access = accessOf(c);
    if (!access.canWrite) return c.json({ error: 'the token is read-only' }, 403);
    const body = (await readJsonObject(c.req.raw)) ?? {};
    // Without a name: a random one, under the token's first prefix pattern (`team/*` → `team/…`).
    const prefix = body.name === undefined ? creationPrefix(access.documents) : '';
    if (prefix === null) return c.json({ error: 'give the document a name: the token grants no prefix to create documents under' }, 403);
    const name = body.name === undefined ? prefix + newDocumentName() : body.name;
    if (typeof name !== 'string') return c.json({ error: 'name must be a string' }, 400);
    const nameProblem = documentNameProblem(name);
    if (nameProblem) return c.json({ error: nameProblem }, 400);
    const denied = documentProblem(access, name, true);
    if (denied) return c.json({ error: denied }, 403);
    // An import is converted before anything is created: content that cannot be imported creates nothing.
    const imported = options.content ? await importedContent(body) : null;
    if (imported && 'error' in imported) return c.json({ error: imported.error }, 400);
    const title = body.title ?? imported?.title ?? '';
    const problem = titleProblem(title);
    if (problem) return c.json({ error: problem }, 400);
    // Quota per token subject (open: per client address): one tenant creating thousands of
    // documents costs storage and would crowd every list that shows recent documents.
    const retryAfter = options.creations?.take(creatorKey(c, access, options.trustProxy ?? false)) ?? null;
    if (retryAfter !== null) {
      c.header('Retry-After', String(retryAfter));
      // Open, the quota is per address: behind a proxy we do not trust, everyone's together.
      const proxyProblem = access.authenticated ? null : (options.untrustedProxy?.forwardedForProblem(c.req.header('x-forwarded-for')) ?? null);
      return refuse(c, 429, `too many documents created; try again in ${retryAfter} s${proxyProblem ? `; ${proxyProblem}` : ''}`);
    }
    // Setting the title or the imported content needs the document's room: refuse before creating
    // anything rather than answer 503 for a document that was created all the same.
    if ((title !== '' || imported) && !registry.hasRoomFor(name)) throw new RoomLimitError('too many documents open on this server; try again later');
    const created = await store.create(name, title as string);
    if (!created) return c.json({ error: `a document named "${name}" exists already` }, 409);
    options.events?.emit({ type: 'document.created', document: name, author: { subject: access.subject, name: null } });
    if (title !== '') await registry.withRoom(name, (room) => room.change((doc) => doc.getMap(META_MAP).set('title', title)));
    if (imported) await options.content!.write(name, imported.doc, { mode: 'replace', access });
    return c.json(await store.info(name), 201);
  });

  app.delete('/:name', async (c) => {
    const name = c.req.param('name');
    const access = accessOf(c);
    const denied = documentProblem(access, name, true);
    if (denied) return refuse(c, 403, denied);
    if (!options.deleteDocument) return c.json({ error: 'documents cannot be deleted on this server' }, 405);
    if (!(await options.deleteDocument(name, access))) return c.json({ error: `no document named "${name}"` }, 404);
    return c.body(null, 204);
  });

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name);
    if (denied) return c.json({ error: denied }, 403);
    const info = await store.info(name);
    return info ? c.json(info) : c.json({ error: `no document named "${name}"` }, 404);
  });

  app.patch('/:name', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name, true);
    if (denied) return c.json({ error: denied }, 403);
    const body = await readJsonObject(c.req.raw);
    if (!body) return c.json({ error: 'expected a JSON object' }, 400);
    const problem = titleProblem(body.title);
    if (problem) return c.json({ error: problem }, 400);
    if (!(await store.info(name))) return c.json({ error: `no document named "${name}"` }, 404);
    await registry.withRoom(name, async (room) => {
      room.change((doc) => doc.getMap(META_MAP).set('title', (body.title as string).trim()));
      await room.drain();
      await room.saveTitle();
    });
    return c.json(await store.info(name));
  });

  return app;
}
