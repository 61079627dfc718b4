import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flavor } from './wire.js';

/**
 * `ours-hocuspocus`: this server, driven by the Hocuspocus load client on `/sync` (the protocol of
 * @hocuspocus/provider). `baseline`: this server built from another commit (`--baseline DIR`), to
 * compare a change in one run.
 */
export type ServerKind = 'ours' | 'ours-hocuspocus' | 'baseline' | 'hocuspocus' | 'reference' | 'raw';

/** Every kind, in the order a round runs them; `baseline` only takes part when the run names a build. */
export const SERVER_KINDS: readonly ServerKind[] = ['ours', 'ours-hocuspocus', 'baseline', 'reference', 'hocuspocus', 'raw'];

export const SERVER_LABELS: Record<ServerKind, string> = {
  ours: 'this server',
  'ours-hocuspocus': 'this server (Hocuspocus protocol)',
  baseline: 'this server, baseline build',
  reference: 'y-websocket-server 0.1.1',
  hocuspocus: 'Hocuspocus 4.7',
  raw: 'raw ws relay',
};

export const FLAVORS: Record<ServerKind, Flavor> = { ours: 'y', 'ours-hocuspocus': 'hocuspocus', baseline: 'y', reference: 'y', hocuspocus: 'hocuspocus', raw: 'raw' };

/** This project's server (this build), whichever protocol its clients speak. */
export function isOurs(kind: ServerKind): boolean {
  return kind === 'ours' || kind === 'ours-hocuspocus';
}

/** The repository root: dist/bench/lib → ../../.. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PEERS = path.join(ROOT, 'dist/bench/peers');

export interface LaunchOptions {
  kind: ServerKind;
  /** Where the server keeps its data; reused to restart on the same data. */
  dataDir: string;
  /** Peers persist only when asked; this project's server always does. */
  persist: boolean;
  port?: number;
  /** Extra environment for this project's server (e.g. AWARENESS_INTERVAL_MS). */
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** For `baseline`: the dist directory of the other build (holding server/main.js). */
  baselineDist?: string;
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** The WebSocket URL a client of `documentName` connects to. */
  url(documentName: string): string;
  /** The last lines the process printed, for error messages. */
  output(): string;
  /** Graceful stop (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  readonly exited: boolean;
}

/** A port that was free a moment ago (the server binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before listening:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`server did not listen on ${port} within ${timeoutMs} ms:\n${output()}`);
}

function command(options: LaunchOptions, port: number): { script: string; env: Record<string, string> } {
  const base = { HOST: '127.0.0.1', PORT: String(port) };
  switch (options.kind) {
    case 'ours':
    case 'ours-hocuspocus':
    case 'baseline':
      if (options.kind === 'baseline' && !options.baselineDist) throw new Error('the baseline server needs --baseline DIR');
      return {
        script: options.kind === 'baseline' ? path.join(options.baselineDist!, 'server/main.js') : path.join(ROOT, 'dist/server/main.js'),
        env: {
          ...base,
          DATA_DIR: options.dataDir,
          LOG_LEVEL: 'warn',
          STATIC_DIR: '',
          // The peers have no abuse limits; load generators from one address would trip ours.
          MAX_CONNECTIONS: '0',
          MAX_CONNECTIONS_PER_ADDRESS: '0',
          MAX_MESSAGES_PER_SECOND: '0',
          MAX_BYTES_PER_SECOND: '0',
          ...options.env,
        },
      };
    case 'reference':
      return {
        script: path.join(ROOT, 'node_modules/@y/websocket-server/src/server.js'),
        env: options.persist ? { ...base, YPERSISTENCE: path.join(options.dataDir, 'leveldb') } : base,
      };
    case 'hocuspocus':
      return {
        script: path.join(PEERS, 'hocuspocus.js'),
        env: options.persist ? { ...base, SQLITE_FILE: path.join(options.dataDir, 'hocuspocus.sqlite') } : base,
      };
    case 'raw':
      return { script: path.join(PEERS, 'raw-relay.js'), env: base };
  }
}

/** Starts one server as its own process and resolves once it accepts TCP connections. */
export async function launch(options: LaunchOptions): Promise<RunningServer> {
  fs.mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const { script, env } = command(options, port);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
    cwd: options.dataDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const output = () => lines.join('\n');
  try {
    await waitForPort(port, child, 20_000, output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const kind = options.kind;
  return {
    kind,
    port,
    pid: child.pid!,
    dataDir: options.dataDir,
    child,
    url(documentName) {
      const name = encodeURIComponent(documentName);
      if (kind === 'ours' || kind === 'baseline') return `ws://127.0.0.1:${port}/sync/${name}`;
      // The document name travels in every frame, as with Hocuspocus' own server.
      if (kind === 'ours-hocuspocus') return `ws://127.0.0.1:${port}/sync`;
      if (kind === 'hocuspocus') return `ws://127.0.0.1:${port}/`;
      return `ws://127.0.0.1:${port}/${name}`;
    },
    output,
    get exited() {
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
}
