import { waitFor } from '../helpers/wait.js';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startPostgres, startRedis } from '../helpers/services.js';

describe('throwaway services', () => {
  it('starts and stops PostgreSQL', async () => {
    const t0 = Date.now();
    const service = await startPostgres();
    const t1 = Date.now();
    try {
      const url = await service.createDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
      await client.end();
    } finally {
      await service.stop();
    }
    console.log('pg start', t1 - t0, 'stop', Date.now() - t1);
  });
  it('starts, kills, restarts and stops Redis', async () => {
    const service = await startRedis();
    const redis = new Redis(service.url, { maxRetriesPerRequest: 1 });
    expect(await redis.ping()).toBe('PONG');
    await service.kill();
    await service.restart();
    // The client reconnects by itself: wait until it is ready again rather than for a fixed time.
    await waitFor(() => redis.status === 'ready', 'the Redis client to reconnect to the restarted Redis', 15_000);
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();
    await service.stop();
  });
});
