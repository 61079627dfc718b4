import { Hono } from 'hono';
import type { Registry } from 'prom-client';

/** `GET /metrics`: Prometheus text format. */
export function createMetricsRoutes(registry: Registry) {
  const app = new Hono();
  app.get('/', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  return app;
}
