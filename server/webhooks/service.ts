import type { Registry } from 'prom-client';
import type { EventBus, ServerEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { ChangeMark, DeliveryRecord, DeliveryStatus, DocumentHead, OutboxEvent, WebhookStore } from '../storage/webhook-store.js';
import type { WebhookConfig } from './config.js';
import { Debouncer, type Batch } from './debouncer.js';
import { Endpoints, ENDPOINT_REFRESH_MS } from './endpoints.js';
import type { WebhookEventType } from './event-types.js';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.js';
import { editorName, eventBody, newEventId, type EventData } from './payload.js';
import { DeliveryWorker } from './worker.js';

export interface WebhookServiceOptions {
  config: WebhookConfig;
  /** The webhook part of the document store; absent: webhooks are off (a store without it). */
  store: WebhookStore | undefined;
  events: EventBus;
  logger: Logger;
  registry: Registry;
  /** True when the server runs without AUTH_SECRET (decides how editors are named, see editorName). */
  open: boolean;
  /** A loaded document's title as it reads now (fresher than the stored one, saved a little after edits). */
  liveTitle?: (document: string) => string | null;
}

export interface Webhooks {
  /** Whether the store supports webhooks. */
  readonly enabled: boolean;
  readonly endpoints: Endpoints | null;
  start(): Promise<void>;
  /** Sends pending debounced batches to the outbox and stops delivering (in-flight attempts get a few seconds). */
  stop(): Promise<void>;
  deliveries(endpointId: string, limit: number, status?: DeliveryStatus): Promise<DeliveryRecord[]>;
  /**
   * Enqueues an event of `type` for every endpoint that wants it, now; for events that describe no
   * change mark (future ones such as version.created). Resolves once it is in the outbox.
   */
  enqueue(type: WebhookEventType, data: EventData): Promise<void>;
}

/** Delivered and failed rows are kept this long for GET /api/webhooks/:id/deliveries. */
const RETENTION_MS = 7 * 86_400_000;
const HOUSEKEEPING_MS = 5_000;
const PRUNE_EVERY_MS = 3_600_000;
const STOP_GRACE_MS = 3_000;

/**
 * Webhooks: turns internal events into outbox rows and delivers them.
 *
 * document.updated is debounced per document in memory, but never held only there: the storage
 * layer writes a change mark in the same transaction as each commit (webhook-store.ts), and the
 * event is enqueued in the transaction that removes that mark. If the process is killed while a
 * batch waits, the mark stays: the sweep (here, or on any other instance) finds marks older than a
 * batch can be and enqueues their events, with the document's seq as it is then (the editors'
 * names, kept in memory only, are lost: the event then lists none). The cost: nothing per commit
 * beyond the mark's index probe, one write per batch to close it; nothing at all while no endpoint
 * exists (no mark is written then).
 */
export function createWebhooks(options: WebhookServiceOptions): Webhooks {
  const { store, config, logger } = options;
  if (!store) {
    logger.warn('this storage backend has no webhook outbox: webhooks are off');
    return {
      enabled: false,
      endpoints: null,
      start: async () => {},
      stop: async () => {},
      deliveries: async () => [],
      enqueue: async () => {},
    };
  }
  const metrics: WebhookMetrics = createWebhookMetrics(options.registry);
  const endpoints = new Endpoints(store, logger);
  const worker = new DeliveryWorker({
    store,
    metrics,
    logger,
    timeoutMs: config.timeoutMs,
    retryScheduleMs: config.retryScheduleMs,
    allowPrivate: config.allowPrivate,
    disableAfterMs: config.disableAfterMs,
    disable: async (endpointId, reason) => {
      if (!(await endpoints.disable(endpointId, reason))) return;
      metrics.endpointsDisabled.inc();
      logger.error({ endpoint: endpointId, reason }, 'webhook endpoint disabled; POST /api/webhooks/<id>/enable after fixing it');
    },
  });

  const titleOf = (document: string, head: DocumentHead | null) => options.liveTitle?.(document) ?? head?.title ?? '';

  /** One event for the endpoints that want it; none if no endpoint does (then `data` is not even built: a live title walks the document). */
  const event = (type: WebhookEventType, document: string, data: () => EventData, at = Date.now()): OutboxEvent[] => {
    const endpointIds = endpoints.matching(type, document);
    if (endpointIds.length === 0) return [];
    return [{ id: newEventId(), type, document, payload: eventBody(type, at, data()), endpointIds, createdAt: at }];
  };

  const enqueued = (events: readonly OutboxEvent[]) => {
    for (const e of events) metrics.events.inc({ type: e.type });
    if (events.length > 0) worker.wake();
  };

  const createdEvents = (document: string, editors: string[]) => (_mark: ChangeMark, head: DocumentHead | null) =>
    head === null ? [] : event('document.created', document, () => ({ document, title: titleOf(document, head), seq: head.seq, editors }));

  /** A batch is due (or swept): enqueue what its mark says, removing the mark in the same transaction. */
  const close = async (document: string, editors: string[]) => {
    try {
      const events = await store.closeChanges(document, (mark, head) => {
        if (head === null) return [];
        const data = () => ({ document, title: titleOf(document, head), seq: head.seq, editors });
        return [
          ...(mark.created ? event('document.created', document, data) : []),
          ...(head.seq >= Math.max(1, mark.firstSeq) ? event('document.updated', document, data) : []),
        ];
      });
      enqueued(events);
    } catch (error) {
      // The mark stays: the sweep tries again once it is old enough.
      logger.error({ err: error, document }, 'could not enqueue webhook events; the sweep will retry');
    }
  };

  const takeCreated = async (document: string, editors: string[]) => {
    try {
      enqueued(await store.takeCreated(document, createdEvents(document, editors)));
    } catch (error) {
      logger.error({ err: error, document }, 'could not enqueue document.created; the sweep will retry');
    }
  };

  const enqueueNow = async (events: OutboxEvent[], dropChangesOf?: string) => {
    try {
      if (events.length === 0 && dropChangesOf === undefined) return;
      await store.enqueue(events, dropChangesOf === undefined ? {} : { dropChangesOf });
      enqueued(events);
    } catch (error) {
      logger.error({ err: error, types: events.map((e) => e.type) }, 'could not enqueue webhook events');
    }
  };

  const debouncer = new Debouncer({
    debounceMs: config.debounceMs,
    maxWaitMs: config.maxWaitMs,
    due: (batch: Batch) => void close(batch.document, [...batch.editors]),
  });

  const onEvent = (e: ServerEvent) => {
    switch (e.type) {
      case 'document.committed': {
        // No endpoint: storage wrote no mark, so there is nothing to batch, and no write to close a
        // mark per document and batch. An endpoint saved on another instance reaches this cache
        // within ENDPOINT_REFRESH_MS; the marks commits wrote meanwhile are closed by the sweep.
        if (endpoints.all().length === 0) break;
        const editors = e.authors.map((author) => editorName(author, options.open));
        // seq 1: the first commit of the document, which may have created it (the mark knows).
        if (e.seq === 1) void takeCreated(e.document, editors);
        debouncer.touch(e.document, editors);
        break;
      }
      case 'document.created':
        if (endpoints.all().length === 0) break;
        void takeCreated(e.document, e.author ? [editorName(e.author, options.open)] : []);
        break;
      case 'document.deleted': {
        const batch = debouncer.cancel(e.document);
        const editors = [...(batch?.editors ?? []), ...(e.author ? [editorName(e.author, options.open)] : [])];
        const data = { document: e.document, title: e.title ?? '', seq: e.seq ?? null, editors };
        // Pending changes of a deleted document are not told: its mark goes with the deletion event.
        void enqueueNow(event('document.deleted', e.document, () => data), e.document);
        break;
      }
      case 'user.joined':
      case 'user.left': {
        const user = editorName(e.user, options.open);
        void enqueueNow(event(e.type, e.document, () => ({ document: e.document, title: options.liveTitle?.(e.document) ?? '', seq: e.seq, editors: [], user })));
        break;
      }
    }
  };

  /** A mark this old was left by a process that died (or failed to close it): close it from here. */
  const staleAfterMs = config.maxWaitMs + Math.max(config.maxWaitMs, 1_000);
  const sweep = async () => {
    const stale = await store.staleChanges(Date.now() - staleAfterMs, 100);
    for (const document of stale) {
      if (debouncer.has(document)) continue;
      await close(document, []);
    }
    if (stale.length > 0) logger.info({ documents: stale.length }, 'webhook events enqueued for changes left by a stopped instance');
  };

  let lastPrune = 0;
  const housekeeping = async () => {
    await endpoints.refresh();
    const stats = await store.outboxStats();
    metrics.outboxPending.set(stats.pending);
    metrics.outboxRetrying.set(stats.retrying);
    if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = Date.now();
      await store.prune(Date.now() - RETENTION_MS);
    }
  };

  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | null = null;
  const every = (ms: number, fn: () => Promise<void>, what: string) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((error: unknown) => logger.warn({ err: error }, `webhook ${what} failed; trying again`))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  return {
    enabled: true,
    endpoints,
    async start() {
      await endpoints.syncDefault(config);
      unsubscribe = options.events.subscribe(onEvent);
      worker.start();
      every(Math.min(ENDPOINT_REFRESH_MS, HOUSEKEEPING_MS), housekeeping, 'housekeeping');
      every(Math.max(100, Math.min(5_000, Math.floor(config.maxWaitMs / 2))), sweep, 'sweep');
      void sweep().catch((error: unknown) => logger.warn({ err: error }, 'webhook sweep failed; trying again'));
    },
    async stop() {
      unsubscribe?.();
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.all(debouncer.takeAll().map((batch) => close(batch.document, [...batch.editors])));
      await worker.stop(STOP_GRACE_MS);
    },
    deliveries: (endpointId, limit, status) => store.deliveries(endpointId, limit, status),
    enqueue: (type, data) => enqueueNow(event(type, data.document, () => data)),
  };
}
