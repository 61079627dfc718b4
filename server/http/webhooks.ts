import { Hono } from 'hono';
import { OPEN_ACCESS, type Access } from '../auth/authenticator.js';
import type { DeliveryRecord, DeliveryStatus } from '../storage/webhook-store.js';
import { documentPatternsProblem, endpointUrlProblem } from '../webhooks/endpoint-rules.js';
import { DEFAULT_ENDPOINT_ID, publicEndpoint } from '../webhooks/endpoints.js';
import { DEFAULT_WEBHOOK_EVENTS, eventListProblem, expandEventList } from '../webhooks/event-types.js';
import type { Webhooks } from '../webhooks/service.js';
import { generateSecret, secretProblem } from '../webhooks/signing.js';
import { refuse, type AuthVariables } from './auth.js';
import type { WriteTypes } from './browser-guard.js';
import { readJsonObject } from './json-body.js';

export interface WebhookRouteOptions {
  /** The server runs without AUTH_SECRET. */
  open: boolean;
  /** HOST is a loopback address (only this machine can reach the server). */
  loopbackOnly: boolean;
  allowPrivate: boolean;
}

const MAX_ENDPOINTS = 100;

/** Writes of these routes without a body (DELETE, POST .../enable) carry no Content-Type (see jsonWrites). */
export const webhookWriteTypes: WriteTypes = (method, path) =>
  (method === 'DELETE' && /^\/api\/webhooks\/[^/]+$/.test(path)) || (method === 'POST' && /^\/api\/webhooks\/[^/]+\/enable$/.test(path))
    ? ['', 'application/json']
    : null;
const MAX_DELIVERIES = 500;
const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/**
 * Who may manage endpoints: an admin token (`admin: true`). An open server has no tokens: there,
 * whoever can reach it may already read and change every document, so it allows management only
 * while it listens on loopback (only this machine); an open server on other interfaces refuses,
 * since an endpoint can send every document's name and title anywhere.
 */
export function webhookAccessProblem(access: Access, options: Pick<WebhookRouteOptions, 'open' | 'loopbackOnly'>): string | null {
  if (options.open) return options.loopbackOnly ? null : 'managing webhooks on a server running open needs HOST on loopback; set AUTH_SECRET and use an admin token';
  return access.admin ? null : 'managing webhooks needs an admin token';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const publicDelivery = (d: DeliveryRecord) => ({
  eventId: d.eventId,
  type: d.type,
  document: d.document,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: iso(d.nextAttemptAt),
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
  deliveredAt: iso(d.deliveredAt),
});

/**
 * `/api/webhooks`: list and add endpoints (`POST { url, secret?, events?, documents? }`; the secret
 * is generated when not given and shown only in this answer), read, delete and re-enable one,
 * and list its deliveries (`GET /:id/deliveries?status=failed&limit=100`).
 */
export function createWebhookRoutes(webhooks: Webhooks, options: WebhookRouteOptions) {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.use('*', async (c, next) => {
    const problem = webhookAccessProblem(c.get('access') ?? OPEN_ACCESS, options);
    if (problem) return refuse(c, 403, problem);
    if (!webhooks.endpoints) return c.json({ error: 'this storage backend has no webhook outbox' }, 503);
    await next();
  });
  const endpoints = () => webhooks.endpoints!;

  app.get('/', (c) => c.json({ endpoints: endpoints().all().map(publicEndpoint) }));

  app.post('/', async (c) => {
    const body = await readJsonObject(c.req.raw);
    if (!body) return c.json({ error: 'expected a JSON object { "url", "secret"?, "events"?, "documents"? }' }, 400);
    const urlProblem = endpointUrlProblem(body.url, options.allowPrivate);
    if (urlProblem) return c.json({ error: urlProblem }, 400);
    const secret = body.secret ?? generateSecret();
    const badSecret = secretProblem(secret);
    if (badSecret) return c.json({ error: badSecret }, 400);
    const events = body.events ?? [...DEFAULT_WEBHOOK_EVENTS];
    if (!Array.isArray(events)) return c.json({ error: 'events must be an array of event types' }, 400);
    const eventsProblem = eventListProblem(events);
    if (eventsProblem) return c.json({ error: eventsProblem }, 400);
    const documents = body.documents ?? ['*'];
    const documentsProblem = documentPatternsProblem(documents);
    if (documentsProblem) return c.json({ error: documentsProblem }, 400);
    if (endpoints().all().length >= MAX_ENDPOINTS) return c.json({ error: `at most ${MAX_ENDPOINTS} endpoints` }, 409);
    const created = await endpoints().create({ url: body.url as string, secret: secret as string, events: expandEventList(events as string[]), documents: documents as string[] });
    return c.json({ ...publicEndpoint(created), secret: created.secret }, 201);
  });

  app.get('/:id', (c) => {
    const endpoint = endpoints().get(c.req.param('id'));
    return endpoint ? c.json(publicEndpoint(endpoint)) : c.json({ error: `no webhook endpoint "${c.req.param('id')}"` }, 404);
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    if (id === DEFAULT_ENDPOINT_ID) return c.json({ error: 'the default endpoint comes from WEBHOOK_URL: unset it and restart to remove it' }, 409);
    return (await endpoints().remove(id)) ? c.body(null, 204) : c.json({ error: `no webhook endpoint "${id}"` }, 404);
  });

  app.post('/:id/enable', async (c) => {
    const id = c.req.param('id');
    if (!(await endpoints().enable(id))) return c.json({ error: `no webhook endpoint "${id}"` }, 404);
    return c.json(publicEndpoint(endpoints().get(id)!));
  });

  app.get('/:id/deliveries', async (c) => {
    const id = c.req.param('id');
    await endpoints().refresh();
    if (!endpoints().get(id)) return c.json({ error: `no webhook endpoint "${id}"` }, 404);
    const limitParam = c.req.query('limit');
    const limit = limitParam === undefined ? 100 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES) return c.json({ error: `limit must be a whole number from 1 to ${MAX_DELIVERIES}` }, 400);
    const status = c.req.query('status');
    if (status !== undefined && !STATUSES.includes(status as DeliveryStatus)) return c.json({ error: `status must be one of ${STATUSES.join(', ')}` }, 400);
    const deliveries = await webhooks.deliveries(id, limit, status as DeliveryStatus | undefined);
    return c.json({ deliveries: deliveries.map(publicDelivery) });
  });

  return app;
}
