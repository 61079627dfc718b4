import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Hono } from 'hono';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { SYNC_PATH } from '../shared/protocol.js';
import type { RedisRelay } from './cluster/redis-relay.js';
import { Authenticator } from './auth/authenticator.js';
import type { Config } from './config.js';
import { hostPolicy } from './auth/hosts.js';
import { apiAuth, apiCors, createAuthRoutes } from './http/auth.js';
import { hostGuard, jsonWrites } from './http/browser-guard.js';
import { bodyLimits, contentWriteTypes, createContentRoutes } from './http/content.js';
import { createDocumentContent } from './content/document-content.js';
import { createDocumentDeletion } from './sync/deletion.js';
import { createDocumentRoutes } from './http/documents.js';
import { createFileRoutes, fileWriteTypes, isUploadPath } from './http/files.js';
import { createFileSweeper } from './files/sweeper.js';
import { createWebhookRoutes, webhookWriteTypes } from './http/webhooks.js';
import { createAdminRoutes } from './http/admin.js';
import { createProtocolLog } from './sync/protocol-log.js';
import { createHealthRoutes } from './http/health.js';
import { createMetricsRoutes } from './http/metrics.js';
import { notFound } from './http/not-found.js';
import { createStaticRoutes } from './http/static.js';
import { securityHeaders } from './http/security-headers.js';
import { createHttpSync } from './http/http-sync.js';
import { createSyncEndpoint, selectSubprotocol } from './http/sync.js';
import { perMessageDeflate, startIdleStreamRelease } from './http/ws-compression.js';
import { compressResponses } from './http/compression.js';
import { ConnectionLimiter } from './limits/connection-limiter.js';
import { createTokenBuckets } from './limits/token-bucket.js';
import { UntrustedProxyCheck } from './limits/untrusted-proxy.js';
import { createEventBus, type EventBus } from './events.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { DocumentDeletedError, type DocumentStore } from './storage/types.js';
import { RoomLimitError, RoomRegistry } from './sync/room-registry.js';
import { deriveTitle } from './sync/title.js';
import { createWebhooks, type Webhooks } from './webhooks/service.js';
import { createHistory, type History } from './history/service.js';
import { createVersionRoutes } from './http/versions.js';
import { isLoopbackHost } from './auth/hosts.js';

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
  /** The HTTP server's `upgrade` listener (WebSocket handshakes do not go through `app`). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Every open WebSocket. */
  sockets(): Iterable<WebSocket>;
  registry: RoomRegistry;
  /** Tokens, origins, revocations; `auth.open` when AUTH_SECRET is unset. */
  auth: Authenticator;
  /** Internal events (server/events.ts): commits, creations, deletions, presence. */
  events: EventBus;
  /** Webhook delivery: `await webhooks.start()` before serving, `await webhooks.stop()` after the rooms closed. */
  webhooks: Webhooks;
  /** Version history: started here; `await history.stop()` at shutdown while rooms are loaded (records what is pending). */
  history: History;
  /** Stops timers the app started (heartbeat, token expiry, revocation polling). */
  stop(): void;
}

/** Builds the HTTP app, the WebSocket endpoint, and the room registry. */
export function createApp({ config, store, metrics, logger, cluster }: AppDeps): CollabApp {
  const events = createEventBus((error, event) => logger.error({ err: error, event: event.type, document: event.document }, 'an event listener failed'));
  const registry = new RoomRegistry({
    store,
    events,
    metrics: metrics.sync,
    logger,
    roomIdleMs: config.roomIdleMs,
    awarenessIntervalMs: config.awarenessIntervalMs,
    maxAwarenessStateBytes: config.maxAwarenessStateBytes,
    maxRooms: config.maxRooms,
    compactAfterRows: config.compactAfterRows,
    ...(cluster && {
      onCommitted: (room, update, seq) => cluster.committed(room, update, seq),
      onAwareness: (room, update) => cluster.awareness(room, update),
      onLoaded: (room) => cluster.roomLoaded(room),
      onUnloaded: (room) => cluster.roomUnloaded(room),
    }),
  });
  cluster?.start(registry);
  const auth = new Authenticator({
    secret: config.authSecret,
    allowedOrigins: config.allowedOrigins,
    publicUrl: config.publicUrl,
    hosts: hostPolicy({ listenHost: config.host, publicUrl: config.publicUrl, allowedHosts: config.allowedHosts }),
    revocationFile: config.revocationFile,
    onRevocationReloadError: (error) => logger.error({ err: error }, 'revocation file unreadable; keeping the previous list'),
  });
  // closeTimeout: a peer that does not answer our close frame (a slow consumer, a half-open
  // socket) is cut off after 5 s rather than ws's default 30 s.
  const wssOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    maxPayload: config.maxMessageBytes,
    perMessageDeflate: perMessageDeflate(config.wsCompression),
    handleProtocols: selectSubprotocol,
    closeTimeout: 5_000,
  };
  const wss = new WebSocketServer(wssOptions);
  const untrustedProxy = new UntrustedProxyCheck(config.trustProxy, logger);
  // One limiter for WebSockets and HTTP fallback sessions: a session counts as a connection.
  const limiter = new ConnectionLimiter({ maxConnections: config.maxConnections, maxConnectionsPerAddress: config.maxConnectionsPerAddress });
  const rateLimits = { messagesPerSecond: config.maxMessagesPerSecond, bytesPerSecond: config.maxBytesPerSecond, maxMessageBytes: config.maxMessageBytes };
  const protocolLog = createProtocolLog(config.logProtocol, logger);
  const sync = createSyncEndpoint(SYNC_PATH, {
    wss,
    pingIntervalMs: config.pingIntervalMs,
    registry,
    metrics: metrics.sync,
    logger,
    maxBufferedBytes: config.maxBufferedBytes,
    auth,
    limiter,
    trustProxy: config.trustProxy,
    untrustedProxy,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    rateLimits,
    protocolLog,
  });
  // The HTTP fallback (server/http/http-sync.ts): same limits, auth and rooms as the WebSocket endpoint.
  const httpSync = createHttpSync({
    registry,
    metrics: metrics.sync,
    logger,
    maxBufferedBytes: config.maxBufferedBytes,
    rateLimits,
    auth,
    limiter,
    trustProxy: config.trustProxy,
    untrustedProxy,
    maxMessageBytes: config.maxMessageBytes,
    idleMs: 2 * config.pingIntervalMs,
    ackAfterCommit: Boolean(cluster),
    protocolLog,
  });

  // Compression state of connections that went quiet is freed (memory per idle connection).
  const stopStreamRelease = config.wsCompression ? startIdleStreamRelease(sync.sockets) : null;

  const app = new Hono();
  app.use('*', securityHeaders({ frameAncestors: config.frameAncestors }));
  app.use('*', compressResponses());
  app.use('*', async (c, next) => {
    untrustedProxy.forwardedForProblem(c.req.header('x-forwarded-for'));
    await next();
  });
  app.onError((error, c) => {
    if (error instanceof RoomLimitError) return c.json({ error: error.message }, 503);
    if (error instanceof DocumentDeletedError) return c.json({ error: `no document named "${error.document}"` }, 404);
    logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal server error' }, 500);
  });
  app.route('/healthz', createHealthRoutes(store, cluster ? { redis: () => cluster.check() } : {}));
  app.route('/metrics', createMetricsRoutes(metrics.registry));
  // Everything below answers only to this server's own host names (DNS rebinding).
  app.use('*', hostGuard(auth));
  app.use(
    '/api/*',
    apiCors(auth),
    apiAuth(auth),
    jsonWrites((method, path) => webhookWriteTypes(method, path) ?? contentWriteTypes(method, path) ?? fileWriteTypes(method, path)),
    bodyLimits({ maxContentBytes: config.maxContentBytes, maxUpdateBytes: config.maxMessageBytes, maxFileBytes: config.maxFileBytes, isUpload: isUploadPath }),
  );
  app.route('/api/auth', createAuthRoutes(auth));
  const webhooks = createWebhooks({
    config: config.webhooks,
    store: store.webhooks,
    events,
    logger,
    registry: metrics.registry,
    open: auth.open,
    liveTitle: (name) => {
      const room = registry.peek(name);
      return room ? deriveTitle(room.doc) : null;
    },
  });
  app.route('/api/admin', createAdminRoutes({ open: auth.open, loopbackOnly: isLoopbackHost(config.host), rooms: () => registry.rooms() }));
  app.route('/api/webhooks', createWebhookRoutes(webhooks, { open: auth.open, loopbackOnly: isLoopbackHost(config.host), allowPrivate: config.webhooks.allowPrivate }));
  const perMinute = config.maxDocumentCreationsPerMinute;
  const creations = perMinute > 0 ? createTokenBuckets({ perMinute, capacity: perMinute }) : null;
  const content = createDocumentContent(store, registry);
  const deleteDocument = createDocumentDeletion({ store, registry, events, ...(cluster && { publish: (name: string) => cluster.deleted(name) }) });
  app.route('/api/documents', createDocumentRoutes(store, registry, { creations, trustProxy: config.trustProxy, untrustedProxy, content, deleteDocument, events }));
  app.route('/api/documents', createContentRoutes({ store, content, creations, trustProxy: config.trustProxy }));
  app.route('/api/documents', createFileRoutes({ files: store.files }));
  // Uploads nobody inserted (or whose images were removed) go after the grace period; checked
  // hourly, or more often for a shorter period.
  const fileSweeper = store.files
    ? createFileSweeper({ files: store.files, read: async (name) => (await content.read(name))?.doc ?? null, graceMs: config.unreferencedFileGraceMs, logger })
    : null;
  fileSweeper?.start(Math.min(3600_000, config.unreferencedFileGraceMs / 2));
  const history = createHistory({ config: config.history, store: store.versions, documents: store, registry, events, logger, open: auth.open });
  history.start();
  app.route('/api/documents', createVersionRoutes(history));
  app.route(SYNC_PATH, httpSync.routes);
  app.route(SYNC_PATH, sync.routes);
  if (config.staticDir) app.route('/', createStaticRoutes(config.staticDir));
  const index = config.staticDir ? path.join(config.staticDir, 'index.html') : null;
  app.notFound((c) => notFound(c, index));

  return {
    app,
    wss,
    handleUpgrade: sync.handleUpgrade,
    sockets: sync.sockets,
    registry,
    auth,
    events,
    webhooks,
    history,
    stop: () => {
      sync.stop();
      stopStreamRelease?.();
      httpSync.stop();
      auth.stop();
      fileSweeper?.stop();
    },
  };
}
