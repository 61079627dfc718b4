import { serve } from '@hono/node-server';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '../shared/protocol.js';
import { createApp } from './app.js';
import { isLoopbackHost } from './auth/hosts.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createStore } from './storage/index.js';
import { readTlsFiles, watchCertificates, type CertificateReloader, type TlsCredentials, type TlsFiles } from './tls.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
// Whatever a client sends, one failure must not take every other document down with it: a
// failure that escaped its room is logged (with a metric-free, content-free message) and the
// process keeps serving. Rooms whose document can no longer be trusted unload themselves.
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection; still serving'));
process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception; still serving'));
if (!config.authSecret) {
  // Loud on purpose: without a secret anyone who can reach the port may read and change every document.
  const exposed = !['127.0.0.1', '::1', 'localhost'].includes(config.host);
  logger.warn(
    { host: config.host, exposed },
    'AUTH_SECRET is not set: the server runs OPEN, without tokens; anyone who can reach it may read and change every document. Set AUTH_SECRET (32+ characters) before exposing it.',
  );
  process.stderr.write(
    `\n  !!! RUNNING OPEN: no AUTH_SECRET, every client may read and write every document${exposed ? ` (and HOST=${config.host} accepts other machines)` : ''}.\n` +
      '  !!! For local use only. See docs/security.md to require tokens.\n\n',
  );
}
if (!config.publicUrl && !config.allowedHosts && !isLoopbackHost(config.host)) {
  logger.warn(
    { host: config.host },
    'HOST is not a loopback address and neither PUBLIC_URL nor ALLOWED_HOSTS is set: any Host header is accepted, so DNS rebinding is not prevented. Set PUBLIC_URL to the URL browsers use.',
  );
}
const store = await createStore(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'cannot open storage');
  process.exit(1);
});
const metrics = createMetrics();
// Imported only when used: the Redis client alone adds ~25 MB of resident memory.
const cluster = config.redisUrl
  ? new (await import('./cluster/redis-relay.js')).RedisRelay({ url: config.redisUrl, logger, metrics: metrics.cluster })
  : null;
const { app, wss, handleUpgrade, sockets, registry, stop, webhooks, history } = createApp({ config, store, metrics, logger, cluster });
// Before serving: the default endpoint (WEBHOOK_URL) is in place before the first edit is told.
await webhooks.start().catch((error: unknown) => {
  logger.fatal({ err: error }, 'cannot start webhooks');
  process.exit(1);
});

// Request headers (WebSocket upgrades included) must arrive within HANDSHAKE_TIMEOUT_MS; Node
// checks once a second (its default, 30 s, would let a slow client hold a socket much longer).
const serverOptions = { headersTimeout: config.handshakeTimeoutMs, connectionsCheckingInterval: 1_000 };
// TLS_CERT_FILE/TLS_KEY_FILE: HTTPS and wss:// on the same port (checked in loadConfig; read again
// here, so that the certificate served is the one on disk now).
function readCredentials(files: TlsFiles): TlsCredentials {
  try {
    return readTlsFiles(files);
  } catch (error) {
    process.stderr.write(`configuration error: ${(error as Error).message}\n`);
    process.exit(78);
  }
}
const credentials = config.tls ? readCredentials(config.tls) : null;
const onListening = (info: AddressInfo) => {
  logger.info(
    {
      host: info.address,
      port: info.port,
      tls: credentials !== null,
      ...(credentials && { certificate: credentials.fingerprint, certificateValidTo: credentials.validTo }),
      storage: store.kind,
      dataDir: store.kind === 'sqlite' ? config.dataDir : undefined,
      instance: cluster?.instanceId,
    },
    'listening',
  );
};
const server = credentials
  ? serve({ fetch: app.fetch, port: config.port, hostname: config.host, createServer: createHttpsServer, serverOptions: { ...serverOptions, cert: credentials.cert, key: credentials.key } }, onListening)
  : serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions }, onListening);
// Renewed certificates are picked up when the files change, or at once on SIGHUP.
let certificates: CertificateReloader | null = null;
if (config.tls && credentials) {
  certificates = watchCertificates(server as HttpsServer, config.tls, logger, credentials);
  process.on('SIGHUP', () => certificates?.reload('SIGHUP'));
}
// Handshakes go to the sync endpoint directly rather than through Hono (serve's `websocket`
// option), so that no request object of Hono's lives as long as the socket.
server.on('upgrade', handleUpgrade);
server.on('error', (error) => {
  logger.fatal({ err: error }, 'cannot listen');
  process.exit(1);
});

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  certificates?.stop();
  wss.close(); // handshakes still arriving on open connections are refused with 503
  stop();
  // Commit what is pending first, then tell clients to reconnect (to us after restart, or elsewhere).
  await Promise.all(registry.rooms().map((room) => room.drain()));
  await history.stop(); // the versions of edits still pending, while their rooms are loaded
  for (const room of registry.rooms()) room.closeConnections(CloseCode.ServiceRestart, 'server restarting');
  for (const ws of sockets()) ws.close(CloseCode.ServiceRestart, 'server restarting');
  await registry.closeAll();
  await webhooks.stop(); // after the rooms' last commits: their debounced events go to the outbox now
  await cluster?.close();
  await store.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
