/**
 * How clients hand the server their access token (see docs/security.md). A browser client should
 * prefer the subprotocol (keeps the token out of URLs and logs) or the query parameter (what the
 * stock WebsocketProvider's `params` option produces); API calls send `Authorization: Bearer`.
 */

/** `new WebsocketProvider(url, name, doc, { params: { token } })` → `?token=...`. */
export const TOKEN_QUERY_PARAM = 'token';
/** Cookie read by both the sync endpoint and the API. */
export const TOKEN_COOKIE = 'collab_token';
/** Subprotocol the server echoes back when a token travels in `Sec-WebSocket-Protocol`. */
export const SYNC_SUBPROTOCOL = 'collab';
/** Prefix of the subprotocol entry that carries the token: `collab.token.<jwt>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'collab.token.';

/** The `protocols` to offer so that the token travels in `Sec-WebSocket-Protocol`. */
export function tokenSubprotocols(token: string): string[] {
  return [SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + token];
}
