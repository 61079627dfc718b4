import { Hono } from 'hono';
import type { DocumentStore } from '../storage/types.js';

/** `GET /healthz`: 200 when the process is live and storage answers, 503 otherwise. */
export function createHealthRoutes(store: DocumentStore, extraChecks: Record<string, () => Promise<void>> = {}) {
  const app = new Hono();
  app.get('/', async (c) => {
    const checks: Record<string, () => Promise<void>> = { storage: () => store.check(), ...extraChecks };
    const results: Record<string, string> = {};
    let healthy = true;
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check();
        results[name] = 'ok';
      } catch (error) {
        healthy = false;
        results[name] = error instanceof Error ? error.message : 'failed';
      }
    }
    return c.json({ status: healthy ? 'ok' : 'unavailable', checks: results }, healthy ? 200 : 503);
  });
  return app;
}
