import { Hono } from 'hono';
import type { DocumentStore } from '../storage/types.js';

/**
 * `GET /healthz`: 200 when the process is live and storage answers, 503 otherwise. A failing
 * `degradedChecks` entry (e.g. Redis: the instance still serves, relaying between instances more
 * slowly) is reported with status "degraded" and still 200, so a load balancer keeps the instance.
 */
export function createHealthRoutes(store: DocumentStore, degradedChecks: Record<string, () => Promise<void>> = {}) {
  const app = new Hono();
  app.get('/', async (c) => {
    const results: Record<string, string> = {};
    let healthy = true;
    let degraded = false;
    const run = async (name: string, check: () => Promise<void>) => {
      try {
        await check();
        results[name] = 'ok';
        return true;
      } catch (error) {
        results[name] = error instanceof Error ? error.message : 'failed';
        return false;
      }
    };
    if (!(await run('storage', () => store.check()))) healthy = false;
    for (const [name, check] of Object.entries(degradedChecks)) if (!(await run(name, check))) degraded = true;
    const status = !healthy ? 'unavailable' : degraded ? 'degraded' : 'ok';
    return c.json({ status, checks: results }, healthy ? 200 : 503);
  });
  return app;
}
