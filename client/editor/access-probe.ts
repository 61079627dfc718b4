/**
 * A server may answer the WebSocket handshake with 401/403, which a browser reports only as a
 * failed connection (1006). Asking the HTTP API about the document tells the two apart: a 401/403
 * there means access, not the network, is the problem. (Cross-origin embeds without CORS on the
 * API cannot ask; the probe then learns nothing, quietly.)
 */

/**
 * At most one request per this many milliseconds: y-websocket retries a failing socket every
 * 0.2–2.5 s, and each retry would otherwise cost one API request.
 */
export const PROBE_INTERVAL_MS = 5000;

export interface AccessProbeOptions {
  /** The server's HTTP base, e.g. 'https://docs.example.com' (server-url.ts). */
  httpBase: string;
  document: string;
  /** The current token (it changes with setToken). */
  token: () => string | undefined;
}

/** Returns a function resolving to the server's reason for refusing access, or null (allowed, unreachable, or asked too recently). */
export function createAccessProbe(options: AccessProbeOptions): () => Promise<string | null> {
  let inFlight = false;
  let lastAsked = -Infinity;
  return async () => {
    if (inFlight || Date.now() - lastAsked < PROBE_INTERVAL_MS) return null;
    inFlight = true;
    lastAsked = Date.now();
    try {
      const token = options.token();
      const response = await fetch(`${options.httpBase}/api/documents/${encodeURIComponent(options.document)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
      });
      if (response.status !== 401 && response.status !== 403) return null;
      let reason = response.status === 401 ? 'an access token is required' : 'access to this document is not allowed';
      try {
        const body = (await response.json()) as { error?: unknown };
        if (typeof body.error === 'string' && body.error !== '') reason = body.error;
      } catch {
        // not JSON: keep the generic reason
      }
      return reason;
    } catch {
      return null; // unreachable, or not allowed to ask (CORS): nothing learned
    } finally {
      inFlight = false;
    }
  };
}
