import type { Awareness } from 'y-protocols/awareness';
import type { Author } from '../events.js';
import type { Connection } from './connection.js';
import type { TransactionOrigin } from './origins.js';

/** Longest display name taken from awareness (the editor shows at most 64 characters too). */
const MAX_NAME_CHARS = 64;

/** The `user.name` a connection announced in one of its awareness states: text, trimmed, bounded; null if none. */
function announcedName(connection: Connection, awareness: Awareness): string | null {
  for (const clientId of connection.awarenessClients) {
    const user = (awareness.getStates().get(clientId) as { user?: { name?: unknown } } | undefined)?.user;
    if (typeof user?.name !== 'string') continue;
    const name = user.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, MAX_NAME_CHARS);
    if (name) return name;
  }
  return null;
}

export function authorOf(connection: Connection, awareness: Awareness): Author {
  return { subject: connection.access.subject, name: announcedName(connection, awareness) };
}

/** The connections whose updates a committed batch holds, as authors (server changes have none). */
export function authorsOf(origins: ReadonlySet<TransactionOrigin>, awareness: Awareness): Author[] {
  const seen = new Set<Connection>();
  const authors: Author[] = [];
  for (const origin of origins) {
    if (origin.kind !== 'client' && origin.kind !== 'completing-pending') continue;
    if (seen.has(origin.connection)) continue;
    seen.add(origin.connection);
    authors.push(authorOf(origin.connection, awareness));
  }
  return authors;
}
