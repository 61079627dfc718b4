import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import { parseAccept } from 'hono/utils/accept';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/utils/compress';
import { SYNC_PATH } from '../../shared/protocol.js';
import { encodedEtag } from '../content/etag.js';

export type ContentEncoding = 'br' | 'gzip';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Bodies smaller than this are sent as they are: below a packet, compressing saves no round trip. */
const THRESHOLD_BYTES = 1024;
/**
 * Brotli quality for responses made per request (API answers): 5 compresses the 105,000-character
 * automerge-paper Markdown about as well as gzip -9 in a few ms. Immutable static files (the
 * editor's hashed bundle) are compressed once at 11 and kept (IMMUTABLE_CACHE_BYTES).
 */
const DYNAMIC_QUALITY = 5;
const IMMUTABLE_QUALITY = 11;
/** Compressed immutable files kept in memory; the built client is about 1 MB before compression. */
const IMMUTABLE_CACHE_BYTES = 16 * 1024 * 1024;

/** Yjs updates and state vectors of the content API compress about 2×; other binary types are left alone. */
function compressible(contentType: string, path: string): boolean {
  if (COMPRESSIBLE_CONTENT_TYPE_REGEX.test(contentType)) return true;
  return path.startsWith('/api/') && /^application\/octet-stream\b/i.test(contentType);
}

/** The coding to answer with for an Accept-Encoding value: brotli, else gzip, by the client's q-values. */
export function chooseEncoding(acceptEncoding: string | undefined): ContentEncoding | null {
  if (!acceptEncoding) return null;
  const accepts = parseAccept(acceptEncoding);
  const q = (name: string) => accepts.find((a) => a.type.toLowerCase() === name)?.q ?? accepts.find((a) => a.type === '*')?.q ?? 0;
  const br = q('br');
  const gz = q('gzip');
  if (br <= 0 && gz <= 0) return null;
  return br >= gz ? 'br' : 'gzip';
}

function compressBytes(bytes: Uint8Array, encoding: ContentEncoding, quality: number, text: boolean): Promise<Buffer> {
  if (encoding === 'gzip') return gzip(bytes, { level: quality >= 11 ? 9 : 6 });
  return brotli(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      [zlib.constants.BROTLI_PARAM_MODE]: text ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  });
}

/**
 * Compresses responses (brotli or gzip, as the client accepts) whose type compresses: HTML,
 * JavaScript, CSS, JSON, Markdown, text, and the content API's Yjs bytes. Never event streams or
 * responses without a body, never what asks for no-transform, never HEAD. Headers set by others
 * (security headers, Cache-Control) stay; `Vary: Accept-Encoding` is added to every compressible
 * response, compressed or not. A strong ETag gets the coding as a suffix (`"tag-br"`), as it names
 * different bytes; the content routes accept it back in If-Match and If-None-Match.
 */
export function compressResponses(): MiddlewareHandler {
  const immutable = new Map<string, Buffer>();
  let immutableBytes = 0;

  return async (c, next) => {
    await next();
    // Sync transports frame their own messages (a streamed fallback response must not be held back here).
    if (c.req.path === SYNC_PATH || c.req.path.startsWith(`${SYNC_PATH}/`)) return;
    const res = c.res;
    const type = res.headers.get('content-type');
    if (!type || !res.body || c.req.method === 'HEAD' || res.status === 204 || res.status === 206 || res.status === 304) return;
    if (res.headers.has('content-encoding') || !compressible(type, c.req.path)) return;
    const cacheControl = res.headers.get('cache-control') ?? '';
    if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl)) return;
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (length < THRESHOLD_BYTES) return;
    const vary = res.headers.get('vary');
    if (!vary) c.header('Vary', 'Accept-Encoding');
    else if (vary !== '*' && !/(?:^|,)\s*accept-encoding\s*(?:,|$)/i.test(vary)) c.header('Vary', `${vary}, Accept-Encoding`);
    const encoding = chooseEncoding(c.req.header('accept-encoding'));
    if (!encoding) return;

    const forever = /\bimmutable\b/i.test(cacheControl) && res.status === 200;
    const key = `${encoding} ${c.req.path}`;
    let compressed = forever ? immutable.get(key) : undefined;
    if (!compressed) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength < THRESHOLD_BYTES) {
        c.res = new Response(bytes, res);
        return;
      }
      compressed = await compressBytes(bytes, encoding, forever ? IMMUTABLE_QUALITY : DYNAMIC_QUALITY, !/octet-stream/i.test(type));
      if (forever && immutableBytes + compressed.byteLength <= IMMUTABLE_CACHE_BYTES) {
        immutable.set(key, compressed);
        immutableBytes += compressed.byteLength;
      }
    } else {
      await res.body.cancel();
    }
    const etag = res.headers.get('etag');
    c.res = new Response(compressed as Uint8Array<ArrayBuffer>, res);
    // Hono carries the previous response's headers over to the new one: corrected afterwards.
    c.res.headers.set('content-encoding', encoding);
    c.res.headers.set('content-length', String(compressed.byteLength));
    if (etag) c.res.headers.set('etag', encodedEtag(etag, encoding));
  };
}
