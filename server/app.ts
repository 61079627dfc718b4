import { Hono } from 'hono';
import { WebSocketServer } from 'ws';
import { SYNC_PATH } from '../shared/protocol.js';
import type { RedisRelay } from './cluster/redis-relay.js';
import type { Config } from './config.js';
import { createDocumentRoutes } from './http/documents.js';
import { createHealthRoutes } from './http/health.js';
import { createMetricsRoutes } from './http/metrics.js';
import { createStaticRoutes } from './http/static.js';
import { createSyncRoutes, startHeartbeat } from './http/sync.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { DocumentStore } from './storage/types.js';
import { RoomRegistry } from './sync/room-registry.js';

export interface AppDeps {
  config: Config;
  store: DocumentStore;
  metrics: Metrics;
  logger: Logger;
  /** Relay to other instances (REDIS_URL); absent when this instance runs alone. */
  cluster?: RedisRelay | null;
}

export interface CollabApp {
  app: Hono;
  wss: WebSocketServer;
  registry: RoomRegistry;
  /** Stops timers the app started (heartbeat). */
  stop(): void;
}

/** Builds the HTTP app, the WebSocket server it upgrades into, and the room registry. */
export function createApp({ config, store, metrics, logger, cluster }: AppDeps): CollabApp {
  const registry = new RoomRegistry({
    store,
    metrics: metrics.sync,
    logger,
    roomIdleMs: config.roomIdleMs,
    awarenessIntervalMs: config.awarenessIntervalMs,
    maxAwarenessStateBytes: 64 * 1024,
    compactAfterRows: config.compactAfterRows,
    ...(cluster && {
      onCommitted: (room, update, seq) => cluster.committed(room, update, seq),
      onAwareness: (room, update) => cluster.awareness(room, update),
      onLoaded: (room) => cluster.roomLoaded(room),
      onUnloaded: (room) => cluster.roomUnloaded(room),
    }),
  });
  cluster?.start(registry);
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false });
  const stopHeartbeat = startHeartbeat(wss, config.pingIntervalMs);

  const app = new Hono();
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal server error' }, 500);
  });
  app.route('/healthz', createHealthRoutes(store, {}, cluster ? { redis: () => cluster.check() } : {}));
  app.route('/metrics', createMetricsRoutes(metrics.registry));
  app.route('/api/documents', createDocumentRoutes(store, registry));
  app.route(
    SYNC_PATH,
    createSyncRoutes(SYNC_PATH, { registry, metrics: metrics.sync, logger, maxBufferedBytes: config.maxBufferedBytes, pingIntervalMs: config.pingIntervalMs }),
  );
  if (config.staticDir) app.route('/', createStaticRoutes(config.staticDir));
  app.notFound((c) => c.json({ error: `nothing at ${c.req.path}` }, 404));

  return { app, wss, registry, stop: stopHeartbeat };
}
