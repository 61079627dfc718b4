import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { Access } from '../auth/authenticator.js';
import { clientAddress } from '../limits/connection-limiter.js';

/** Whose document creation quota a request counts against: the token's subject, or (open) the client address. */
export function creatorKey(c: Context, access: Access, trustProxy: boolean): string {
  if (access.authenticated) return `subject:${access.subject}`;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return `address:${clientAddress(incoming?.socket.remoteAddress, c.req.header('x-forwarded-for'), trustProxy)}`;
}
