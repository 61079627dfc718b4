import * as Y from 'yjs';

/**
 * Why an update needs content the document does not have, or null if it can be applied whole.
 * A sync client may send such an update (Yjs holds it back, bounded: pending-content.ts) because
 * its connection will send what is missing; an update posted over HTTP has no connection that
 * will, so it is refused whole instead of being held and silently dropped a minute later.
 *
 * Per client, the update's structs must start at or before what the document has and run without
 * gaps; every reference (origin, right origin, parent) and deletion must fall within what the
 * document has or the update brings. Malformed updates pass here: the room's guard refuses them.
 */
export function missingDependency(doc: Y.Doc, update: Uint8Array): string | null {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return null;
  }
  const available = new Map<number, number>();
  const upTo = (client: number) => available.get(client) ?? Y.getState(doc.store, client);
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue;
    const { client, clock } = struct.id;
    const have = upTo(client);
    if (clock > have) return `the update needs changes of client ${client} from clock ${have} that the server does not have`;
    available.set(client, Math.max(have, clock + struct.length));
  }
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    const parent = struct.parent instanceof Y.ID ? struct.parent : null;
    for (const ref of [struct.origin, struct.rightOrigin, parent]) {
      if (ref && ref.clock >= upTo(ref.client)) return `the update refers to content of client ${ref.client} (clock ${ref.clock}) that the server does not have`;
    }
  }
  for (const [client, deletions] of decoded.ds.clients) {
    for (const deletion of deletions) {
      if (deletion.clock + deletion.len > upTo(client)) return `the update deletes content of client ${client} that the server does not have`;
    }
  }
  return null;
}
