import * as encoding from 'lib0/encoding';
import net from 'node:net';
import WebSocket from 'ws';
import { mintToken, type MintOptions } from '../../server/auth/tokens.js';
import { encodeAwarenessEntries, encodeFrame, writeAwareness, writeSyncStep1, writeSyncStep2, writeUpdate } from '../../server/sync/protocol.js';
import { MessageType } from '../../shared/protocol.js';
import { writeSubscribeSaved } from '../../shared/saved-state.js';
import { startServer, type ServerProcess, type StartOptions } from '../helpers/server.js';

/** The AUTH_SECRET of the secured test servers. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export function startSecureServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
  return startServer({ ...options, env: { AUTH_SECRET: SECRET, ...env } });
}

/** A token signed with SECRET: read-write on `*` for an hour unless told otherwise. */
export function token(options: Partial<MintOptions> = {}): Promise<string> {
  return mintToken(SECRET, { subject: 'alice', documents: ['*'], canWrite: true, expiresInSeconds: 3600, ...options });
}

export interface Upgrade {
  /** 101 when the server upgraded; otherwise the HTTP status it answered with. */
  status: number;
  /** X-Refusal-Reason of a refusal. */
  reason: string;
  /** The subprotocol the server chose. */
  protocol: string;
  socket: WebSocket | null;
}

export interface RawOptions {
  headers?: Record<string, string>;
  protocols?: string[];
  origin?: string;
  /** E.g. `{ autoPong: false }` for a peer that never answers pings. */
  client?: WebSocket.ClientOptions;
}

/** Attempts a WebSocket upgrade and reports how the server answered. */
export function upgrade(url: string, options: RawOptions = {}): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { ...options.client, headers: options.headers, origin: options.origin });
    socket.binaryType = 'nodebuffer';
    socket.once('open', () => resolve({ status: 101, reason: '', protocol: socket.protocol, socket }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, reason: String(response.headers['x-refusal-reason'] ?? ''), protocol: '', socket: null });
      response.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

export interface RawResponse {
  status: number;
  /** Header values by lower-case name. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `GET <path>` with exactly `headers` over a plain TCP socket (no WebSocket client in the
 * way, so handshakes can be malformed) and resolves with the answer once the server closes.
 */
export function rawRequest(port: number, path: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to GET ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString();
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers: parsed, body });
    });
    const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** The headers of a well-formed WebSocket handshake. */
export const HANDSHAKE = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };

/** Opens a socket that must be accepted. */
export async function open(url: string, options: RawOptions = {}): Promise<WebSocket> {
  const result = await upgrade(url, options);
  if (!result.socket) throw new Error(`expected ${url} to upgrade, got ${result.status} ${result.reason}`);
  return result.socket;
}

/** Resolves with the code and reason the socket closes with. */
export function closed(socket: WebSocket, timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (socket.readyState === WebSocket.CLOSED) {
      reject(new Error('the socket was closed already'));
      return;
    }
    const timer = setTimeout(() => reject(new Error(`the socket stayed open for ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Collects every binary frame a socket receives. */
export function collect(socket: WebSocket): Uint8Array[] {
  const frames: Uint8Array[] = [];
  socket.on('message', (data: Buffer) => frames.push(new Uint8Array(data)));
  return frames;
}

/**
 * Frames as a client sends them, written with the writers the server uses (server/sync/protocol.ts,
 * shared/saved-state.ts) rather than by hand; the tests with stock y-websocket clients check those
 * writers against y-protocols.
 */
export const frames = {
  step1: (stateVector: Uint8Array) => encodeFrame(writeSyncStep1, stateVector),
  step2: (update: Uint8Array) => encodeFrame(writeSyncStep2, update),
  update: (update: Uint8Array) => encodeFrame(writeUpdate, update),
  /** An awareness frame with entries [clientId, clock, state]. */
  awareness: (entries: Array<[number, number, unknown]>) =>
    encodeFrame(writeAwareness, encodeAwarenessEntries(entries.map(([clientId, clock, state]) => ({ clientId, clock, stateJson: JSON.stringify(state) })))),
  queryAwareness: () => encodeFrame((e) => encoding.writeVarUint(e, MessageType.QueryAwareness)),
  subscribeSaved: () => encodeFrame(writeSubscribeSaved),
};

