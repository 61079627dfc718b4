/**
 * The event types webhook endpoints can subscribe to. Adding one (e.g. `version.created` with
 * version history) is an entry here plus whatever enqueues it (WebhookService.enqueue): endpoints,
 * configuration and the API take their lists from this one place.
 */
export const WEBHOOK_EVENT_TYPES = ['document.created', 'document.updated', 'document.deleted', 'user.joined', 'user.left'] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Presence events are opt-in: one per connection opening or closing a document is a lot of traffic. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter((type) => !type.startsWith('user.'));

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** Why `list` (from WEBHOOK_EVENTS or the API) is not a list of event types, or null. `*` means all. */
export function eventListProblem(list: readonly unknown[]): string | null {
  if (list.length === 0) return 'name at least one event type';
  for (const entry of list) {
    if (entry !== '*' && !isWebhookEventType(entry)) return `unknown event type ${JSON.stringify(entry)}; known: ${WEBHOOK_EVENT_TYPES.join(', ')} (or *)`;
  }
  return null;
}

/** The event types a list means (`*` expands to every type). */
export function expandEventList(list: readonly string[]): WebhookEventType[] {
  if (list.includes('*')) return [...WEBHOOK_EVENT_TYPES];
  return WEBHOOK_EVENT_TYPES.filter((type) => list.includes(type));
}
