import path from 'node:path';
import { normalizeOrigin } from './auth/origin.js';
import { patternProblem } from './auth/patterns.js';
import { MIN_SECRET_LENGTH } from './auth/tokens.js';
import { readHistoryConfig, type HistoryConfig } from './history/config.js';
import { WS_COMPRESSION_DEFAULT } from './http/ws-compression.js';
import { readTlsFiles, TlsFileError, type TlsFiles } from './tls.js';
import { readWebhookConfig, type WebhookConfig } from './webhooks/config.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** Directory of the embedded SQLite database (`DATA_DIR/collab.sqlite`). */
  dataDir: string;
  logLevel: LogLevel;
  /** `full` fsyncs every commit (survives power loss); `normal` survives process crashes only. */
  sqliteSynchronous: 'full' | 'normal';
  /** How long a room stays loaded after its last client left. */
  roomIdleMs: number;
  /** Compact a document once its update log has this many rows. */
  compactAfterRows: number;
  /** Minimum spacing of awareness frames per room; changes in between are coalesced. */
  awarenessIntervalMs: number;
  /** Largest WebSocket message accepted, in bytes. */
  maxMessageBytes: number;
  /** A connection whose unsent bytes exceed this is closed as a slow consumer. */
  maxBufferedBytes: number;
  /** Interval of WebSocket pings; a connection that misses two is closed. */
  pingIntervalMs: number;
  /** Directory of the built client served at `/`; null disables static serving. */
  staticDir: string | null;
  /** PostgreSQL URL (`DATABASE_URL`); null means the embedded SQLite database in `dataDir`. */
  databaseUrl: string | null;
  /** Connections in the PostgreSQL pool. */
  databasePoolSize: number;
  /** Redis URL (`REDIS_URL`) through which instances relay updates and awareness; null for one instance. */
  redisUrl: string | null;
  /** HS256 secret of access tokens (`AUTH_SECRET`, at least 32 characters); null runs the server open. */
  authSecret: string | null;
  /** Browser origins allowed besides the server's own (`ALLOWED_ORIGINS`); `['*']` any; null the default. */
  allowedOrigins: string[] | null;
  /** Take the client address from the last X-Forwarded-For entry (behind a reverse proxy). */
  trustProxy: boolean;
  /** File of revoked tokens (`REVOCATION_FILE`, default `DATA_DIR/revoked-tokens.json`). */
  revocationFile: string;
  /** Open WebSocket connections in total / per client address; 0 is unlimited. */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Documents loaded in memory at once. */
  maxRooms: number;
  /** Sustained frames and bytes per second per connection (bursts of ten seconds' worth); 0 is unlimited. */
  maxMessagesPerSecond: number;
  maxBytesPerSecond: number;
  /** Largest awareness state (cursor, user) of one client, in bytes of JSON. */
  maxAwarenessStateBytes: number;
  /** The URL browsers reach the server at (`PUBLIC_URL`), e.g. behind a proxy; null if unset. */
  publicUrl: string | null;
  /** Host names accepted in the Host header besides loopback, IP literals and PUBLIC_URL's (`ALLOWED_HOSTS`); `['*']` any; null the default. */
  allowedHosts: string[] | null;
  /** CSP `frame-ancestors` sources (`FRAME_ANCESTORS`), e.g. `'self' https://app.example.com`. */
  frameAncestors: string;
  /** Documents one token subject (or, open, one client address) may create per minute (bursts of as many); 0 is unlimited. */
  maxDocumentCreationsPerMinute: number;
  /** Time a client has to send its request headers, WebSocket upgrades included, in ms. */
  handshakeTimeoutMs: number;
  /** Webhooks (`WEBHOOK_*`): the default endpoint, debouncing, timeouts, retries, SSRF rule. */
  webhooks: WebhookConfig;
  /** Largest body of a content write or import (Markdown, HTML, JSON, text), in bytes; larger: 413. */
  maxContentBytes: number;
  /** Largest file (image) upload, in bytes (`MAX_FILE_BYTES`); larger: 413. */
  maxFileBytes: number;
  /** How long an uploaded file may stay unreferenced by its document before it is deleted (`UNREFERENCED_FILE_GRACE_MS`). */
  unreferencedFileGraceMs: number;
  /** Version history (`VERSION_*`): interval of automatic versions, retention. */
  history: HistoryConfig;
  /** `TLS_CERT_FILE` and `TLS_KEY_FILE`: serve HTTPS and wss:// on PORT; null serves plain HTTP. */
  tls: TlsFiles | null;
  /** permessage-deflate on WebSockets for clients that offer it (`WS_COMPRESSION`). */
  wsCompression: boolean;
  /** Document patterns (`LOG_PROTOCOL`) whose frames are logged one line each; null logs none. */
  logProtocol: string[] | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase() as T;
  if (!allowed.includes(value)) throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return value;
}

function url(env: Env, key: string, protocols: readonly string[]): string | null {
  const raw = env[key]?.trim();
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be a URL (${protocols.map((p) => `${p}//...`).join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${key} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${parsed.protocol}//..."`);
  }
  return raw;
}

/** PUBLIC_URL: an http(s) origin, optionally with a path; returned as its origin. */
function publicUrl(env: Env, key: string): string | null {
  const raw = url(env, key, ['http:', 'https:']);
  return raw === null ? null : new URL(raw).origin;
}

function secret(env: Env, key: string): string | null {
  const raw = env[key];
  if (raw === undefined || raw === '') return null;
  if (raw.trim() !== raw) throw new ConfigError(`${key} must not start or end with whitespace`);
  if (raw.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${key} must be at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 48\`), got ${raw.length}`);
  }
  return raw;
}

function origins(env: Env, key: string): string[] | null {
  const raw = env[key]?.trim();
  if (!raw) return null;
  const list = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of list) {
    if (entry !== '*' && !normalizeOrigin(entry)) {
      throw new ConfigError(`${key} must be * or a comma-separated list of origins like https://app.example.com, got "${entry}"`);
    }
  }
  return list;
}

function hostNames(env: Env, key: string): string[] | null {
  const raw = env[key]?.trim();
  if (!raw) return null;
  const list = raw.split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  for (const entry of list) {
    if (entry !== '*' && !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(entry)) {
      throw new ConfigError(`${key} must be * or a comma-separated list of host names like docs.example.com (no scheme or port), got "${entry}"`);
    }
  }
  return list;
}

/** CSP source expressions: keywords ('self', 'none') and origins or host patterns; no `;` or `,`. */
function frameAncestors(env: Env, key: string): string {
  const raw = env[key]?.trim();
  if (!raw) return "'self'";
  for (const source of raw.split(/\s+/)) {
    if (!/^('self'|'none'|\*|(https?:\/\/)?(\*\.)?[a-z0-9.-]+(:(\d+|\*))?|https?:)$/i.test(source)) {
      throw new ConfigError(`${key} must be a space-separated list of CSP sources ('self', 'none', https://app.example.com), got "${source}"`);
    }
  }
  return raw;
}

function flag(env: Env, key: string): boolean {
  const value = oneOf(env, key, ['1', 'true', 'yes', '0', 'false', 'no'] as const, 'no');
  return value === '1' || value === 'true' || value === 'yes';
}

/**
 * TLS_CERT_FILE and TLS_KEY_FILE, both or neither. The files are read and checked here (PEM, key
 * matching the certificate), so that a bad pair stops the server at start rather than at the first
 * handshake.
 */
function tlsFiles(env: Env, cwd: string): TlsFiles | null {
  const cert = env.TLS_CERT_FILE?.trim();
  const key = env.TLS_KEY_FILE?.trim();
  if (!cert && !key) return null;
  if (!cert) throw new ConfigError('TLS_CERT_FILE must be set too when TLS_KEY_FILE is (the certificate chain in PEM)');
  if (!key) throw new ConfigError('TLS_KEY_FILE must be set too when TLS_CERT_FILE is (the private key in PEM)');
  const files = { certFile: path.resolve(cwd, cert), keyFile: path.resolve(cwd, key) };
  try {
    readTlsFiles(files);
  } catch (error) {
    if (error instanceof TlsFileError) throw new ConfigError(error.message);
    throw error;
  }
  return files;
}

/** LOG_PROTOCOL: comma-separated document patterns as in tokens (`team/*`, `*`). */
function documentPatterns(env: Env, key: string): string[] | null {
  const raw = env[key]?.trim();
  if (!raw) return null;
  const list = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of list) {
    const problem = patternProblem(entry);
    if (problem) throw new ConfigError(`${key} must be a comma-separated list of document patterns like team/* (${problem}), got "${entry}"`);
  }
  return list;
}

/** Reads and validates the configuration; throws ConfigError with a message naming the variable. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const host = (env.HOST ?? '127.0.0.1').trim();
  if (host === '') throw new ConfigError('HOST must not be empty');
  const staticDir = env.STATIC_DIR === '' ? null : path.resolve(cwd, env.STATIC_DIR ?? 'dist/client');
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    dataDir: path.resolve(cwd, env.DATA_DIR?.trim() || 'data'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', ['full', 'normal'] as const, 'full'),
    roomIdleMs: integer(env, 'ROOM_IDLE_MS', 30_000, 0, 24 * 3600_000),
    compactAfterRows: integer(env, 'COMPACT_AFTER_ROWS', 500, 1, 10_000_000),
    awarenessIntervalMs: integer(env, 'AWARENESS_INTERVAL_MS', 50, 0, 10_000),
    maxMessageBytes: integer(env, 'MAX_MESSAGE_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBufferedBytes: integer(env, 'MAX_BUFFERED_BYTES', 64 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
    pingIntervalMs: integer(env, 'PING_INTERVAL_MS', 30_000, 100, 3600_000),
    staticDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    authSecret: secret(env, 'AUTH_SECRET'),
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS'),
    trustProxy: flag(env, 'TRUST_PROXY'),
    revocationFile: path.resolve(cwd, env.REVOCATION_FILE?.trim() || path.join(env.DATA_DIR?.trim() || 'data', 'revoked-tokens.json')),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 10_000, 0, 10_000_000),
    maxConnectionsPerAddress: integer(env, 'MAX_CONNECTIONS_PER_ADDRESS', 500, 0, 10_000_000),
    maxRooms: integer(env, 'MAX_ROOMS', 10_000, 1, 10_000_000),
    maxMessagesPerSecond: integer(env, 'MAX_MESSAGES_PER_SECOND', 1_000, 0, 10_000_000),
    maxBytesPerSecond: integer(env, 'MAX_BYTES_PER_SECOND', 4 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    maxAwarenessStateBytes: integer(env, 'MAX_AWARENESS_STATE_BYTES', 64 * 1024, 256, 16 * 1024 * 1024),
    publicUrl: publicUrl(env, 'PUBLIC_URL'),
    allowedHosts: hostNames(env, 'ALLOWED_HOSTS'),
    frameAncestors: frameAncestors(env, 'FRAME_ANCESTORS'),
    maxDocumentCreationsPerMinute: integer(env, 'MAX_DOCUMENT_CREATIONS_PER_MINUTE', 120, 0, 10_000_000),
    handshakeTimeoutMs: integer(env, 'HANDSHAKE_TIMEOUT_MS', 10_000, 100, 300_000),
    webhooks: readWebhookConfig(env, (message) => {
      throw new ConfigError(message);
    }),
    maxContentBytes: integer(env, 'MAX_CONTENT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxFileBytes: integer(env, 'MAX_FILE_BYTES', 10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    unreferencedFileGraceMs: integer(env, 'UNREFERENCED_FILE_GRACE_MS', 24 * 3600_000, 60_000, 365 * 24 * 3600_000),
    history: readHistoryConfig(env, (message) => {
      throw new ConfigError(message);
    }),
    tls: tlsFiles(env, cwd),
    wsCompression: oneOf(env, 'WS_COMPRESSION', ['on', 'off'] as const, WS_COMPRESSION_DEFAULT) === 'on',
    logProtocol: documentPatterns(env, 'LOG_PROTOCOL'),
  };
}
