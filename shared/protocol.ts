/**
 * Wire-level constants shared by the server and the client. Message types 0–3 are the standard
 * y-websocket ones; anything above is an extension that stock clients never send and never receive.
 */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  /**
   * Extension. Client → server with an empty body: "tell me what you have saved". Server → client:
   * the state vector of everything committed to storage, sent after each commit to subscribed
   * connections, so an editor can show "all changes saved" by comparing it with its own.
   */
  SavedState: 100,
  /**
   * Extension. Server → client, in answer to a SavedState subscription: a varUint of flags
   * (AccessFlags) saying what this connection may do, so an editor can turn read-only.
   */
  Access: 101,
} as const;

/** Flags of an Access message. */
export const AccessFlags = {
  CanWrite: 1,
} as const;

/** Sub-types of a Sync message (y-protocols/sync). */
export const SyncMessageType = {
  Step1: 0,
  Step2: 1,
  Update: 2,
} as const;

/** WebSocket close codes the server uses; 4xxx mirror the HTTP status they resemble. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  NotFound: 4404,
  Timeout: 4408,
  TooManyRequests: 4429,
  StorageUnavailable: 4503,
} as const;

/** Path prefix of the sync endpoint: `new WebsocketProvider('ws://host:port' + SYNC_PATH, name, doc)`. */
export const SYNC_PATH = '/sync';

/** The Y.XmlFragment that holds the ProseMirror document. */
export const PROSEMIRROR_FRAGMENT = 'prosemirror';
/** The Y.Map holding document metadata (e.g. an explicitly set `title`). */
export const META_MAP = 'meta';

export const MAX_DOCUMENT_NAME_BYTES = 200;

/**
 * Returns why `name` is not an acceptable document name, or null when it is.
 * Names are free text (decoded from the URL) but bounded, without control characters,
 * and without leading/trailing whitespace so that two names never look the same.
 */
export function documentNameProblem(name: string): string | null {
  if (name.length === 0) return 'document name is empty';
  if (new TextEncoder().encode(name).length > MAX_DOCUMENT_NAME_BYTES) {
    return `document name is longer than ${MAX_DOCUMENT_NAME_BYTES} bytes`;
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'document name contains control characters';
  if (name.trim() !== name) return 'document name has leading or trailing whitespace';
  if (name === '.' || name === '..') return 'document name may not be "." or ".."';
  return null;
}
