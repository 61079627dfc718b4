import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as Y from 'yjs';
import { OPEN_ACCESS, documentProblem, type Access } from '../auth/authenticator.js';
import { MissingDependencyError, type DocumentContent } from '../content/document-content.js';
import { ifNoneMatchHolds } from '../content/etag.js';
import { ContentError } from '../content/fit.js';
import { FORMATS, MEDIA_TYPES, formatOfMediaType, isFormat, type ContentFormat } from '../content/formats.js';
import { loadConversion } from '../content/lazy.js';
import type { TokenBuckets } from '../limits/token-bucket.js';
import { DocumentDeletedError, type DocumentStore } from '../storage/types.js';
import { ProtocolError } from '../sync/protocol.js';
import { refuse, type AuthVariables } from './auth.js';
import type { WriteTypes } from './browser-guard.js';
import { creatorKey } from './creator-key.js';

export interface ContentRouteOptions {
  store: Pick<DocumentStore, 'info' | 'create'>;
  content: DocumentContent;
  /** Document creations per token subject (or, open, per client address): a PUT that creates counts. */
  creations?: TokenBuckets | null;
  trustProxy?: boolean;
}

/** Without `format` or a usable Accept header, content is Markdown. */
const DEFAULT_FORMAT: ContentFormat = 'markdown';
const UPDATE_TYPE = 'application/octet-stream';

/** The media types each write of the content API takes (see jsonWrites); null: JSON as everywhere else. */
export const contentWriteTypes: WriteTypes = (method, path) => {
  if (method === 'PUT' && /^\/api\/documents\/[^/]+\/content$/.test(path)) return FORMATS.map((format) => MEDIA_TYPES[format]);
  if (method === 'POST' && /^\/api\/documents\/[^/]+\/update$/.test(path)) return [UPDATE_TYPE];
  // DELETE has no body.
  if (method === 'DELETE' && /^\/api\/documents\/[^/]+$/.test(path)) return ['', 'application/json'];
  return null;
};

/**
 * Bounds every API request body (413 beyond): Yjs updates as sync messages are
 * (MAX_MESSAGE_BYTES), file uploads at MAX_FILE_BYTES, everything else (content, imports, JSON)
 * at MAX_CONTENT_BYTES. A body
 * beyond the bound is refused as soon as its Content-Length says so, or once that many bytes
 * arrived, never buffered whole.
 */
export function bodyLimits({ maxContentBytes, maxUpdateBytes, maxFileBytes, isUpload }: { maxContentBytes: number; maxUpdateBytes: number; maxFileBytes: number; isUpload: (path: string) => boolean }): MiddlewareHandler {
  const tooLarge = (limit: number, what: string) =>
    bodyLimit({ maxSize: limit, onError: (c) => c.json({ error: `${what} larger than ${limit} bytes` }, 413) });
  const content = tooLarge(maxContentBytes, 'request body');
  const update = tooLarge(maxUpdateBytes, 'update');
  const file = tooLarge(maxFileBytes, 'file (MAX_FILE_BYTES)');
  return (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    if (isUpload(c.req.path)) return file(c, next);
    return (/\/update$/.test(c.req.path) ? update : content)(c, next);
  };
}

/**
 * The format a GET asks for: `?format=` if given (400 if unknown), else the Accept header's best
 * match among the formats' media types (q-values and wildcards honoured), else Markdown.
 */
export function requestedFormat(formatParam: string | undefined, accept: string | undefined): { format: ContentFormat } | { status: 400 | 406; error: string } {
  if (formatParam !== undefined) {
    return isFormat(formatParam) ? { format: formatParam } : { status: 400, error: `format must be one of ${FORMATS.join(', ')}` };
  }
  if (!accept || accept.trim() === '') return { format: DEFAULT_FORMAT };
  let best: { format: ContentFormat; q: number; specificity: number } | null = null;
  for (const range of accept.split(',')) {
    const [typePart = '', ...params] = range.split(';');
    const type = typePart.trim().toLowerCase();
    const qParam = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    // The default first: `*/*` means "anything", and Markdown is what we give then.
    for (const format of [DEFAULT_FORMAT, ...FORMATS.filter((f) => f !== DEFAULT_FORMAT)]) {
      const mediaType = MEDIA_TYPES[format];
      const specificity = type === mediaType ? 2 : type === `${mediaType.split('/')[0]}/*` ? 1 : type === '*/*' ? 0 : -1;
      if (specificity < 0) continue;
      if (!best || q > best.q || (q === best.q && specificity > best.specificity)) best = { format, q, specificity };
    }
  }
  return best ? { format: best.format } : { status: 406, error: `acceptable types are ${FORMATS.map((f) => MEDIA_TYPES[f]).join(', ')}` };
}

/** A state vector from `?stateVector=` (base64 or base64url), or why it is not one. */
function stateVectorParam(raw: string | undefined): { stateVector?: Uint8Array } | { error: string } {
  if (raw === undefined) return {};
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) return { error: 'stateVector must be base64' };
  const bytes = new Uint8Array(Buffer.from(raw, 'base64'));
  try {
    Y.decodeStateVector(bytes);
  } catch {
    return { error: 'stateVector is not a Yjs state vector' };
  }
  return { stateVector: bytes };
}

const accessOf = (c: Context<{ Variables: AuthVariables }>): Access => c.get('access') ?? OPEN_ACCESS;
const notFound = (c: Context, name: string) => c.json({ error: `no document named "${name}"` }, 404);

/** Maps what content and update writes throw to answers; rethrows anything else. */
function refusal(c: Context, name: string, error: unknown): Response {
  if (error instanceof ContentError || error instanceof ProtocolError) return c.json({ error: error.message }, 400);
  if (error instanceof MissingDependencyError) return c.json({ error: error.message }, 409);
  if (error instanceof DocumentDeletedError) return notFound(c, name);
  throw error;
}

/**
 * `/api/documents/:name/...`: the document's content outside the editor, on the same rooms,
 * storage and guarantees as the sync path.
 *
 * - `GET content` (`?format=markdown|html|json|text` or Accept) and `PUT content` (body in any of
 *   those; `?mode=append`; `If-Match`); a PUT creates a missing document (201) unless If-Match is given.
 * - `GET update[?stateVector=]`, `GET state-vector`, `POST update` (a binary Yjs update, checked
 *   as a sync client's is).
 *
 * Reading needs a token granting the document; writing, a read-write one (403 otherwise).
 */
export function createContentRoutes(options: ContentRouteOptions) {
  const { store, content } = options;
  const app = new Hono<{ Variables: AuthVariables }>();

  app.get('/:name/content', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name);
    if (denied) return refuse(c, 403, denied);
    const wanted = requestedFormat(c.req.query('format'), c.req.header('accept'));
    if ('error' in wanted) return c.json({ error: wanted.error }, wanted.status);
    const read = await content.read(name);
    if (!read) return notFound(c, name);
    c.header('ETag', read.etag);
    c.header('Vary', 'Accept');
    c.header('Cache-Control', 'no-cache');
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch && ifNoneMatchHolds(ifNoneMatch, read.etag)) return c.body(null, 304);
    const { serializeContent } = await loadConversion();
    const body = serializeContent(wanted.format, read.doc);
    c.header('Content-Type', `${MEDIA_TYPES[wanted.format]}; charset=utf-8`);
    // Served from this origin: should the fragment be opened as a page, it can run nothing.
    if (wanted.format === 'html') c.header('Content-Security-Policy', "default-src 'none'; sandbox");
    return c.body(body);
  });

  app.put('/:name/content', async (c) => {
    const name = c.req.param('name');
    const access = accessOf(c);
    const denied = documentProblem(access, name, true);
    if (denied) return refuse(c, 403, denied);
    const mode = c.req.query('mode') ?? 'replace';
    if (mode !== 'replace' && mode !== 'append') return c.json({ error: 'mode must be replace or append' }, 400);
    const format = formatOfMediaType(c.req.header('content-type'))!;
    const { parseContent } = await loadConversion();
    let doc;
    try {
      doc = parseContent(format, await c.req.text());
    } catch (error) {
      return refusal(c, name, error);
    }
    const ifMatch = c.req.header('if-match') ?? null;
    let created = false;
    if (!(await store.info(name))) {
      // If-Match asks for an existing document in a given state: there is none.
      if (ifMatch !== null) return c.json({ error: `no document named "${name}" to match` }, 412);
      const retryAfter = options.creations?.take(creatorKey(c, access, options.trustProxy ?? false)) ?? null;
      if (retryAfter !== null) {
        c.header('Retry-After', String(retryAfter));
        return refuse(c, 429, `too many documents created; try again in ${retryAfter} s`);
      }
      created = await store.create(name, '');
    }
    try {
      const outcome = await content.write(name, doc, { mode, ifMatch, access });
      if (outcome.status === 'precondition-failed') {
        if (outcome.etag !== '') c.header('ETag', outcome.etag);
        return c.json({ error: outcome.etag === '' ? `no document named "${name}"` : 'the document changed since that ETag (If-Match)' }, 412);
      }
      c.header('ETag', outcome.etag);
      return c.json({ name, etag: outcome.etag, changed: outcome.status === 'written' }, created ? 201 : 200);
    } catch (error) {
      return refusal(c, name, error);
    }
  });

  app.get('/:name/update', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name);
    if (denied) return refuse(c, 403, denied);
    const param = stateVectorParam(c.req.query('stateVector'));
    if ('error' in param) return c.json({ error: param.error }, 400);
    const result = await content.update(name, param.stateVector);
    if (!result) return notFound(c, name);
    return binaryAnswer(c, result.etag, result.update);
  });

  app.get('/:name/state-vector', async (c) => {
    const name = c.req.param('name');
    const denied = documentProblem(accessOf(c), name);
    if (denied) return refuse(c, 403, denied);
    const result = await content.stateVector(name);
    if (!result) return notFound(c, name);
    return binaryAnswer(c, result.etag, result.stateVector);
  });

  app.post('/:name/update', async (c) => {
    const name = c.req.param('name');
    const access = accessOf(c);
    const denied = documentProblem(access, name, true);
    if (denied) return refuse(c, 403, denied);
    const update = new Uint8Array(await c.req.arrayBuffer());
    if (update.length === 0) return c.json({ error: 'expected a Yjs update (the body is empty)' }, 400);
    try {
      const result = await content.applyUpdate(name, update, access);
      if (!result) return notFound(c, name);
      c.header('ETag', result.etag);
      return c.json({ etag: result.etag });
    } catch (error) {
      return refusal(c, name, error);
    }
  });

  return app;
}

/** Yjs bytes (an update or a state vector) of the document state `etag` names; never cached unvalidated. */
function binaryAnswer(c: Context, etag: string, bytes: Uint8Array): Response {
  c.header('ETag', etag);
  c.header('Content-Type', UPDATE_TYPE);
  c.header('Cache-Control', 'no-cache');
  return c.body(bytes as Uint8Array<ArrayBuffer>);
}
