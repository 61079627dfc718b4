import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { MessageType } from '../../shared/protocol.js';

/**
 * Replaces y-websocket's sync handler with the same one plus the error handler it does not pass:
 * y-protocols catches an update that fails to apply (or whose observers throw) and only logs it,
 * which leaves a silently stale or blank editor. `onError` is told instead (the content guard
 * pauses editing with an alert). Returns the function that puts y-websocket's handler back.
 */
export function reportSyncFailures(provider: WebsocketProvider, doc: Y.Doc, onError: (error: unknown) => void): () => void {
  const handlers = provider.messageHandlers;
  const original = handlers[MessageType.Sync]!;
  handlers[MessageType.Sync] = (encoder, decoder, _provider, emitSynced) => {
    encoding.writeVarUint(encoder, MessageType.Sync);
    const kind = syncProtocol.readSyncMessage(decoder, encoder, doc, provider, onError);
    if (emitSynced && kind === syncProtocol.messageYjsSyncStep2 && !provider.synced) provider.synced = true;
  };
  return () => {
    handlers[MessageType.Sync] = original;
  };
}
