import { parseFileUrl } from '../../shared/images.js';

/**
 * Where the editor's <img> elements get their pixels. An own file (`/api/documents/<name>/files/<id>`)
 * needs the document's access rules: with a token (which an <img> cannot send) or from a page of
 * another origin (an embed), it is fetched with `Authorization` and shown from a blob: URL; otherwise
 * it is loaded directly from the server (same origin, the cookie if any). Other images (https URLs)
 * load as they are. One instance per editor owns the blob URLs and revokes them when destroyed.
 */
export interface ImageSources {
  /** The URL to put in an <img> for `src`; rejects if the server refuses the file. */
  resolve(src: string): Promise<string>;
  destroy(): void;
}

export interface ImageSourceOptions {
  /** The server's HTTP base, e.g. 'https://docs.example.com' (server-url.ts). */
  httpBase: string;
  token: () => string | undefined;
}

/** Fetched files kept per editor: ids are content hashes, so a URL never needs refetching; beyond this many, the oldest are revoked. */
const MAX_CACHED = 200;

export function createImageSources(options: ImageSourceOptions): ImageSources {
  const cache = new Map<string, Promise<string>>();
  let destroyed = false;

  const fetchFile = async (url: string): Promise<string> => {
    const token = options.token();
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!response.ok) {
      let reason = `the server answered ${response.status}`;
      try {
        const body = (await response.json()) as { error?: unknown };
        if (typeof body.error === 'string') reason = body.error;
      } catch {
        // not JSON
      }
      throw new Error(reason);
    }
    const objectUrl = URL.createObjectURL(await response.blob());
    if (destroyed) URL.revokeObjectURL(objectUrl);
    return objectUrl;
  };

  return {
    resolve(src) {
      if (!parseFileUrl(src)) return Promise.resolve(src);
      const url = `${options.httpBase}${src}`;
      const sameOrigin = new URL(url, location.href).origin === location.origin;
      if (sameOrigin && !options.token()) return Promise.resolve(url);
      let pending = cache.get(src);
      if (!pending) {
        pending = fetchFile(url);
        // A refusal is not cached: a new token (setToken) may be allowed.
        pending.catch(() => cache.delete(src));
        cache.set(src, pending);
        if (cache.size > MAX_CACHED) {
          const [oldest, first] = cache.entries().next().value as [string, Promise<string>];
          cache.delete(oldest);
          void first.then((objectUrl) => URL.revokeObjectURL(objectUrl), () => {});
        }
      }
      return pending;
    },
    destroy() {
      destroyed = true;
      for (const pending of cache.values()) void pending.then((objectUrl) => URL.revokeObjectURL(objectUrl), () => {});
      cache.clear();
    },
  };
}
