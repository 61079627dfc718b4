import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { WebhookEndpointRecord, WebhookStore } from '../storage/webhook-store.js';
import type { WebhookConfig } from './config.js';
import { endpointWants } from './endpoint-rules.js';
import { isWebhookEventType, type WebhookEventType } from './event-types.js';

/** The endpoint of WEBHOOK_URL; it is managed by the configuration, not the API. */
export const DEFAULT_ENDPOINT_ID = 'default';

/**
 * How often the cached list is re-read: endpoints added or removed through another instance's API
 * take effect here within this time (one indexed read of a small table per interval).
 */
export const ENDPOINT_REFRESH_MS = 5_000;

/** An endpoint as the API shows it: never its secret. */
export function publicEndpoint(endpoint: WebhookEndpointRecord) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    documents: endpoint.documents,
    source: endpoint.id === DEFAULT_ENDPOINT_ID ? 'config' : 'api',
    createdAt: new Date(endpoint.createdAt).toISOString(),
    failingSince: endpoint.failingSince === null ? null : new Date(endpoint.failingSince).toISOString(),
    disabledAt: endpoint.disabledAt === null ? null : new Date(endpoint.disabledAt).toISOString(),
    disabledReason: endpoint.disabledReason,
  };
}

/** The endpoints, cached in memory for deciding on every event who gets it. */
export class Endpoints {
  private cached: WebhookEndpointRecord[] = [];

  constructor(
    private readonly store: WebhookStore,
    private readonly logger: Logger,
  ) {}

  all(): readonly WebhookEndpointRecord[] {
    return this.cached;
  }

  get(id: string): WebhookEndpointRecord | undefined {
    return this.cached.find((endpoint) => endpoint.id === id);
  }

  /** Enabled endpoints that want events of `type` about `document`. */
  matching(type: WebhookEventType, document: string): string[] {
    const ids: string[] = [];
    for (const endpoint of this.cached) {
      if (endpoint.disabledAt !== null) continue;
      const events = endpoint.events.filter(isWebhookEventType);
      if (endpointWants({ events, documents: endpoint.documents }, type, document)) ids.push(endpoint.id);
    }
    return ids;
  }

  async refresh(): Promise<void> {
    this.cached = await this.store.listEndpoints();
  }

  /**
   * Makes the stored default endpoint match WEBHOOK_URL: created, updated (a new URL or secret
   * enables it again: whatever failed was presumably fixed), or removed with its deliveries when
   * WEBHOOK_URL is no longer set.
   */
  async syncDefault(config: WebhookConfig): Promise<void> {
    await this.refresh();
    const existing = this.get(DEFAULT_ENDPOINT_ID);
    if (!config.url || !config.secret) {
      if (existing) {
        await this.store.deleteEndpoint(DEFAULT_ENDPOINT_ID);
        this.logger.info('WEBHOOK_URL is not set: the default webhook endpoint and its deliveries were removed');
      }
    } else {
      const changed = !existing || existing.url !== config.url || existing.secret !== config.secret;
      await this.store.saveEndpoint({
        id: DEFAULT_ENDPOINT_ID,
        url: config.url,
        secret: config.secret,
        events: config.events,
        documents: ['*'],
        createdAt: existing?.createdAt ?? Date.now(),
        failingSince: changed ? null : existing.failingSince,
        disabledAt: changed ? null : existing.disabledAt,
        disabledReason: changed ? null : existing.disabledReason,
      });
      if (existing?.disabledAt != null && !changed) {
        this.logger.warn(
          { endpoint: DEFAULT_ENDPOINT_ID, disabledAt: new Date(existing.disabledAt).toISOString(), reason: existing.disabledReason },
          'the default webhook endpoint is disabled; enable it with POST /api/webhooks/default/enable',
        );
      }
    }
    await this.refresh();
  }

  async create(input: { url: string; secret: string; events: WebhookEventType[]; documents: string[] }): Promise<WebhookEndpointRecord> {
    const record: WebhookEndpointRecord = {
      id: `ep_${randomBytes(12).toString('base64url')}`,
      ...input,
      createdAt: Date.now(),
      failingSince: null,
      disabledAt: null,
      disabledReason: null,
    };
    await this.store.saveEndpoint(record);
    await this.refresh();
    return record;
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.store.deleteEndpoint(id);
    await this.refresh();
    return removed;
  }

  async enable(id: string): Promise<boolean> {
    const enabled = await this.store.enableEndpoint(id);
    await this.refresh();
    return enabled;
  }

  async disable(id: string, reason: string): Promise<boolean> {
    const disabled = await this.store.disableEndpoint(id, reason, Date.now());
    await this.refresh();
    return disabled;
  }
}
