import type { DeliveryRecord, DeliveryStatus, WebhookEndpointRecord } from './webhook-store.js';

/** Rows of the webhook tables as both drivers return them (PostgreSQL BIGINTs come as strings). */
export interface EndpointRow {
  id: string;
  url: string;
  secret: string;
  events: string;
  documents: string;
  created_at: number | string;
  failing_since: number | string | null;
  disabled_at: number | string | null;
  disabled_reason: string | null;
}
export interface OutboxRow {
  event_id: string;
  endpoint_id: string;
  type: string;
  document: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number | string;
  next_attempt_at: number | string;
  last_status: number | string | null;
  last_error: string | null;
  created_at: number | string;
  updated_at: number | string;
  delivered_at: number | string | null;
}

export const toEndpoint = (row: EndpointRow): WebhookEndpointRecord => ({
  id: row.id,
  url: row.url,
  secret: row.secret,
  events: JSON.parse(row.events) as string[],
  documents: JSON.parse(row.documents) as string[],
  createdAt: Number(row.created_at),
  failingSince: row.failing_since === null ? null : Number(row.failing_since),
  disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  disabledReason: row.disabled_reason,
});
export const toDelivery = (row: OutboxRow): DeliveryRecord => ({
  eventId: row.event_id,
  endpointId: row.endpoint_id,
  type: row.type,
  document: row.document,
  status: row.status,
  attempts: Number(row.attempts),
  nextAttemptAt: row.status === 'pending' ? Number(row.next_attempt_at) : null,
  lastStatus: row.last_status === null ? null : Number(row.last_status),
  lastError: row.last_error,
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
});

