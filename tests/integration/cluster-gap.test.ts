/**
 * The gap timer over the real relay: two server processes sharing real PostgreSQL and Redis; the
 * second one reaches Redis through a proxy that loses one chosen relay message. The next message
 * arrives ahead of the lost one, the room holds it, and its gap timer (150 ms) reads the missing
 * commit from PostgreSQL, long before the relay's periodic catch-up (every 5 s) would.
 * tests/integration/room-ordering.test.ts covers the same ordering logic in one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeClusterMessage, ClusterMessageType } from '../../server/cluster/messages.js';
import { synced } from '../helpers/clients.js';
import { startRedisProxy, type PubSubMessage, type RedisProxy } from '../helpers/redis-proxy.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, startRedis, type PostgresService, type RedisService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { clientPool, metricValue, textOf } from './cluster-harness.js';

let postgres: PostgresService;
let redis: RedisService;
let proxy: RedisProxy;
let direct: ServerProcess;
let behindProxy: ServerProcess;
const clients = clientPool();

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  proxy = await startRedisProxy(redis.port);
  direct = await startServer({ env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url } });
  behindProxy = await startServer({ env: { DATABASE_URL: postgres.url, REDIS_URL: proxy.url } });
});
afterAll(async () => {
  clients.destroyAll();
  await Promise.all([direct?.kill(), behindProxy?.kill()]);
  await proxy?.close();
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

/** A committed update relayed for `document`. */
const updateOf = (document: string) => (message: PubSubMessage) =>
  message.channel === `collab:doc:${document}` && decodeClusterMessage(message.data)?.type === ClusterMessageType.Update;

describe('a relay message lost between two instances (real Redis and PostgreSQL)', () => {
  it('is filled from storage by the gap timer as soon as a later message arrives, not at the next periodic catch-up', async () => {
    // Two documents open on both instances: "gap" for the test, "canary" to see periodic catch-ups.
    const writer = clients.connect(direct.syncUrl, 'gap');
    const reader = clients.connect(behindProxy.syncUrl, 'gap');
    const canaryWriter = clients.connect(direct.syncUrl, 'canary');
    const canaryReader = clients.connect(behindProxy.syncUrl, 'canary');
    await Promise.all([writer, reader, canaryWriter, canaryReader].map((client) => synced(client)));
    // The relay works both ways first (and so the proxied instance is subscribed to both channels).
    writer.doc.getText('body').insert(0, '<hello>');
    canaryWriter.doc.getText('body').insert(0, '<hello>');
    await waitFor(() => textOf(reader) === '<hello>' && textOf(canaryReader) === '<hello>', 'both documents to cross instances through Redis');

    // Align with the periodic catch-up: a canary edit whose message is lost (and nothing follows
    // it) reaches the proxied instance only by that catch-up, so once it shows, the next periodic
    // catch-up is about 5 s away.
    let dropped = proxy.dropNext(updateOf('canary'));
    canaryWriter.doc.getText('body').insert(0, '<canary 1>');
    await dropped;
    await waitFor(() => textOf(canaryReader).includes('<canary 1>'), 'the periodic catch-up to bring the lost canary edit', 15_000, 5);

    // Now lose one message of each document.
    const catchUpRowsBefore = await metricValue(behindProxy, 'collab_catch_up_rows_total');
    const droppedGap = proxy.dropNext(updateOf('gap'));
    dropped = proxy.dropNext(updateOf('canary'));
    writer.doc.getText('body').insert(0, '<lost>');
    canaryWriter.doc.getText('body').insert(0, '<canary 2>');
    await Promise.all([droppedGap, dropped]);
    // The next "gap" message arrives ahead of the lost one: held, and the gap filled from storage.
    writer.doc.getText('body').insert(0, '<next>');
    await waitFor(() => textOf(reader).includes('<lost>') && textOf(reader).includes('<next>'), 'the lost edit to be filled in from storage', 10_000, 5);
    expect(textOf(reader)).toBe(textOf(writer));
    expect(await metricValue(behindProxy, 'collab_catch_up_rows_total')).toBeGreaterThan(catchUpRowsBefore);
    // It was the gap timer, not a periodic catch-up: that would have brought the lost canary edit
    // too (it catches up every loaded document at once). This holds as long as the steps since the
    // first canary took under ~4 s, which on an idle loopback they do by far.
    expect(textOf(canaryReader)).not.toContain('<canary 2>');
    // The canary's channel works: the periodic catch-up does bring it, later.
    await waitFor(() => textOf(canaryReader).includes('<canary 2>'), 'the periodic catch-up to bring the second lost canary edit', 15_000);
    expect([direct, behindProxy].flatMap((server) => server.logs.filter((line) => /"level":[56]\d/.test(line)))).toEqual([]);
  });
});
