import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { ClaimedDelivery, DeliveryOutcome, WebhookStore } from '../storage/webhook-store.js';
import type { WebhookMetrics } from './metrics.js';
import { retryDelayMs } from './retry.js';
import { sendAttempt, type Attempt, type AttemptResult } from './sender.js';
import { signatureHeaders } from './signing.js';

export interface WorkerOptions {
  store: WebhookStore;
  metrics: WebhookMetrics;
  logger: Logger;
  timeoutMs: number;
  retryScheduleMs: readonly number[];
  allowPrivate: boolean;
  disableAfterMs: number;
  /** An endpoint has failed for disableAfterMs: disable it. */
  disable(endpointId: string, reason: string): Promise<void>;
  /** How often the outbox is polled for due deliveries (another instance's events, retries). */
  pollMs?: number;
  send?: (attempt: Attempt) => Promise<AttemptResult>;
}

/**
 * Deliveries in flight per instance, and per endpoint: a slow endpoint (10 s per attempt) holds at
 * most PER_ENDPOINT of the slots, so the others keep flowing; the rest wait in the outbox, which
 * costs nothing but rows.
 */
const MAX_IN_FLIGHT = 16;
const PER_ENDPOINT = 4;
const POLL_MS = 1_000;
/**
 * Polls asked for by wake() are at least this far apart: events are enqueued up to hundreds of
 * times a second under heavy editing, and one claim query can serve all of them (a 20 ms delay).
 */
const WAKE_SPACING_MS = 20;
/**
 * A lease lasts twice the attempt's timeout plus 5 s (the timeout covers DNS and connecting; the
 * margin covers recording the outcome on a busy database): 25 s at the default 10 s timeout, the
 * longest a dead instance's deliveries wait before another instance takes them over.
 */
export const leaseMs = (timeoutMs: number): number => 2 * timeoutMs + 5_000;

/**
 * Delivers the outbox: claims due deliveries (leased to this instance, so each goes out from one
 * instance at a time), sends each signed, records the outcome, schedules retries, and disables
 * endpoints that fail for too long. Runs entirely off the sync path: commits never wait for it.
 */
export class DeliveryWorker {
  /** Who holds a lease: unique per process, so a restarted instance never mistakes a dead one's lease for its own. */
  readonly owner = `${process.pid}-${randomBytes(6).toString('base64url')}`;
  private readonly inFlight = new Map<string, { endpointId: string; done: Promise<void>; abort: AbortController }>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private again = false;
  private lastPollAt = 0;
  private stopped = true;

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Polls now (e.g. an event was just enqueued here) instead of at the next interval. */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    const wait = this.lastPollAt + WAKE_SPACING_MS - performance.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (wait > 0) {
      this.timer = setTimeout(() => this.wake(), wait);
      this.timer.unref();
      return;
    }
    void this.poll();
  }

  /**
   * Stops claiming; waits up to `graceMs` for attempts in flight, then abandons the rest (their
   * leases are released, not counted as attempts, so they go out again at once from whichever
   * instance polls next, this one after a restart).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const all = Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const entry of this.inFlight.values()) entry.abort.abort();
    await all;
  }

  private async poll(): Promise<void> {
    this.polling = true;
    this.lastPollAt = performance.now();
    try {
      do {
        this.again = false;
        const free = MAX_IN_FLIGHT - this.inFlight.size;
        if (free <= 0 || this.stopped) break;
        const perEndpoint = new Map<string, number>();
        for (const entry of this.inFlight.values()) perEndpoint.set(entry.endpointId, (perEndpoint.get(entry.endpointId) ?? 0) + 1);
        const busy = [...perEndpoint].filter(([, n]) => n >= PER_ENDPOINT).map(([id]) => id);
        const now = Date.now();
        const claimed = await this.options.store.claim(this.owner, now, leaseMs(this.options.timeoutMs), Math.min(free, PER_ENDPOINT * 4), busy);
        for (const delivery of claimed) {
          // Several of one endpoint may come in one claim: beyond its share they wait (lease released).
          const count = perEndpoint.get(delivery.endpointId) ?? 0;
          if (count >= PER_ENDPOINT) {
            void this.release(delivery);
            continue;
          }
          perEndpoint.set(delivery.endpointId, count + 1);
          this.launch(delivery);
        }
        if (claimed.length > 0) this.again = true;
      } while (this.again && !this.stopped);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'webhook outbox poll failed; trying again');
    } finally {
      this.polling = false;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.wake(), this.options.pollMs ?? POLL_MS);
        this.timer.unref();
      }
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    const key = `${delivery.eventId}\n${delivery.endpointId}`;
    const abort = new AbortController();
    const done = this.attempt(delivery, abort.signal)
      .catch((error: unknown) => this.options.logger.error({ err: error, event: delivery.eventId, endpoint: delivery.endpointId }, 'webhook attempt failed to record'))
      .finally(() => {
        this.inFlight.delete(key);
        // A slot is free: whatever is due can go.
        this.wake();
      });
    this.inFlight.set(key, { endpointId: delivery.endpointId, done, abort });
  }

  private async release(delivery: ClaimedDelivery): Promise<void> {
    const outcome: DeliveryOutcome = { status: 'pending', at: Date.now(), nextAttemptAt: Date.now(), httpStatus: null, error: null, attempted: false };
    await this.options.store.settle(delivery.eventId, delivery.endpointId, this.owner, outcome).catch(() => {});
  }

  private async attempt(delivery: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const { metrics, logger, store } = this.options;
    const headers = signatureHeaders(delivery.secret, delivery.eventId, Math.floor(Date.now() / 1000), delivery.payload);
    const started = performance.now();
    const result = await (this.options.send ?? sendAttempt)({
      url: delivery.url,
      body: delivery.payload,
      headers: { ...headers },
      timeoutMs: this.options.timeoutMs,
      allowPrivate: this.options.allowPrivate,
      signal,
    });
    const at = Date.now();
    if (result.aborted) {
      await store.settle(delivery.eventId, delivery.endpointId, this.owner, { status: 'pending', at, nextAttemptAt: at, httpStatus: null, error: null, attempted: false });
      return;
    }
    metrics.attemptSeconds.observe((performance.now() - started) / 1000);
    const attemptsMade = delivery.attempts + 1;
    const context = { event: delivery.eventId, type: delivery.type, endpoint: delivery.endpointId, attempt: attemptsMade };
    let outcome: DeliveryOutcome;
    if (result.ok) {
      outcome = { status: 'delivered', at, nextAttemptAt: at, httpStatus: result.status, error: null, attempted: true };
    } else {
      const delay = retryDelayMs(this.options.retryScheduleMs, attemptsMade);
      outcome = delay === null
        ? { status: 'failed', at, nextAttemptAt: at, httpStatus: result.status, error: result.error, attempted: true }
        : { status: 'pending', at, nextAttemptAt: at + delay, httpStatus: result.status, error: result.error, attempted: true };
    }
    const settled = await store.settle(delivery.eventId, delivery.endpointId, this.owner, outcome);
    if (!settled) {
      // The lease ran out mid-attempt and another instance took the delivery over; it records the outcome.
      logger.warn(context, 'webhook lease expired during the attempt; another instance delivers it');
      return;
    }
    if (outcome.status === 'delivered') {
      metrics.attempts.inc({ outcome: 'delivered' });
      metrics.deliverySeconds.observe(Math.max(0, at - delivery.createdAt) / 1000);
      logger.debug(context, 'webhook delivered');
      return;
    }
    metrics.attempts.inc({ outcome: outcome.status === 'failed' ? 'failed' : 'retry' });
    if (outcome.status === 'failed') logger.warn({ ...context, error: result.error }, 'webhook delivery failed after its last attempt');
    else logger.info({ ...context, error: result.error, retryAt: new Date(outcome.nextAttemptAt).toISOString() }, 'webhook attempt failed; will retry');
    if (settled.failingSince !== null && at - settled.failingSince >= this.options.disableAfterMs) {
      const since = new Date(settled.failingSince).toISOString();
      await this.options.disable(delivery.endpointId, `every attempt failed since ${since} (last: ${result.error})`);
    }
  }
}
