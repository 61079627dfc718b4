import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  /** Events enqueued, by type (one per event, however many endpoints get it). */
  events: Counter<'type'>;
  /** Attempts by outcome: delivered, retry (failed, another attempt scheduled), failed (no attempt left). */
  attempts: Counter<'outcome'>;
  /** Pending deliveries in the outbox (every instance's), and those of them that failed at least once. */
  outboxPending: Gauge;
  outboxRetrying: Gauge;
  /** From an event's creation to its successful delivery. */
  deliverySeconds: Histogram;
  /** One attempt: from sending to the answer (or the timeout). */
  attemptSeconds: Histogram;
  endpointsDisabled: Counter;
}

/** Registered on the server's registry (server/metrics.ts), shown in /metrics. */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  return {
    events: new Counter({ name: 'collab_webhook_events_total', help: 'Webhook events enqueued', labelNames: ['type'], registers }),
    attempts: new Counter({
      name: 'collab_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retry (failed, will be retried), failed (gave up)',
      labelNames: ['outcome'],
      registers,
    }),
    outboxPending: new Gauge({ name: 'collab_webhook_outbox_pending', help: 'Deliveries waiting in the outbox (all instances)', registers }),
    outboxRetrying: new Gauge({ name: 'collab_webhook_outbox_retrying', help: 'Deliveries in the outbox that failed at least once', registers }),
    deliverySeconds: new Histogram({
      name: 'collab_webhook_delivery_seconds',
      help: 'From an event being enqueued to its successful delivery',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 300, 3600, 36000],
      registers,
    }),
    attemptSeconds: new Histogram({
      name: 'collab_webhook_attempt_seconds',
      help: 'Duration of one delivery attempt (until the answer or the timeout)',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    endpointsDisabled: new Counter({ name: 'collab_webhook_endpoints_disabled_total', help: 'Endpoints disabled after failing for WEBHOOK_DISABLE_AFTER', registers }),
  };
}
