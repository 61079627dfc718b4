import { randomBytes } from 'node:crypto';
import type { Author } from '../events.js';
import type { WebhookEventType } from './event-types.js';

/** Names listed in one event at most (a bounded body whatever a batch held). */
export const MAX_EDITORS = 50;

/**
 * What an event says about its document: thin on purpose (no content, no headers, cookies or
 * tokens): receivers that want the content fetch it with their own credentials.
 */
export interface EventData {
  document: string;
  title: string;
  /** The committed sequence number the event describes (the document's latest when it was built). */
  seq: number | null;
  /** Who changed the document since the previous event (see editorName). */
  editors: string[];
  /** For user.joined / user.left: who. */
  user?: string;
}

/** `msg_` + 120 random bits: the `webhook-id`, the same on every retry of the event. */
export function newEventId(): string {
  return `msg_${randomBytes(15).toString('base64url')}`;
}

/** The body of an event, as delivered (and stored in the outbox byte for byte: the signature covers it). */
export function eventBody(type: WebhookEventType, timestamp: number, data: EventData): string {
  const { user, ...rest } = data;
  return JSON.stringify({
    type,
    timestamp: new Date(timestamp).toISOString(),
    data: { ...rest, editors: rest.editors.slice(0, MAX_EDITORS), ...(user !== undefined && { user }) },
  });
}

/**
 * How an author is named in events: with tokens (AUTH_SECRET set), the token subject, the one name
 * the server has verified (a display name in awareness is whatever the client says); on a server
 * running open, the display name the editor announces (`user.name` in awareness), since every
 * subject there is `anonymous`.
 */
export function editorName(author: Author, open: boolean): string {
  if (!open) return author.subject;
  return author.name ?? author.subject;
}
