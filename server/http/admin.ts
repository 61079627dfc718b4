import { Hono } from 'hono';
import { OPEN_ACCESS, type Access } from '../auth/authenticator.js';
import type { Connection } from '../sync/connection.js';
import type { Room } from '../sync/room.js';
import { refuse, type AuthVariables } from './auth.js';

export interface AdminRouteOptions {
  /** The server runs without AUTH_SECRET. */
  open: boolean;
  /** HOST is a loopback address (only this machine can reach the server). */
  loopbackOnly: boolean;
  /** The documents loaded on this instance. */
  rooms(): Iterable<Room>;
}

/**
 * Who may look at live connections: an admin token. An open server has no tokens; it answers only
 * while it listens on loopback, as with webhooks: the listing shows every document name and the
 * address of everyone connected.
 */
export function adminAccessProblem(access: Access, options: Pick<AdminRouteOptions, 'open' | 'loopbackOnly'>): string | null {
  if (options.open) return options.loopbackOnly ? null : 'the admin API of a server running open needs HOST on loopback; set AUTH_SECRET and use an admin token';
  return access.admin ? null : 'the admin API needs an admin token';
}

/** One connection as the listing shows it: figures and identities, never content or tokens. */
export function describeConnection(connection: Connection) {
  return {
    id: connection.id,
    transport: connection.transportKind,
    address: connection.remoteAddress,
    subject: connection.access.subject,
    canWrite: connection.access.canWrite,
    connectedAt: new Date(connection.connectedAt).toISOString(),
    messagesIn: connection.messagesIn,
    bytesIn: connection.bytesIn,
    messagesOut: connection.messagesOut,
    bytesOut: connection.bytesOut,
    queuedBytes: connection.queuedBytes,
    awarenessClients: [...connection.awarenessClients],
  };
}

/** A loaded document and its connections on this instance. */
export function describeRoom(room: Room) {
  const connections = [...room.connections].map(describeConnection);
  return { name: room.name, committedSeq: room.committedSeq, connections };
}

/**
 * `/api/admin`: `GET /connections` lists the documents loaded on this instance (with several
 * instances, ask each) and their live connections, for debugging a live system (docs/debugging.md).
 */
export function createAdminRoutes(options: AdminRouteOptions) {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.use('*', async (c, next) => {
    const problem = adminAccessProblem(c.get('access') ?? OPEN_ACCESS, options);
    if (problem) return refuse(c, 403, problem);
    await next();
  });

  app.get('/connections', (c) => {
    const documents = [...options.rooms()].map(describeRoom).sort((a, b) => a.name.localeCompare(b.name));
    const connections = documents.reduce((sum, document) => sum + document.connections.length, 0);
    c.header('Cache-Control', 'no-store');
    return c.json({ generatedAt: new Date().toISOString(), totals: { documents: documents.length, connections }, documents });
  });

  return app;
}
