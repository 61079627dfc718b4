import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll } from 'vitest';

export interface ServerProcess {
  readonly port: number;
  readonly httpUrl: string;
  /** Base URL for `new WebsocketProvider(syncUrl, name, doc)`. */
  readonly syncUrl: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Every log line the process printed (JSON lines from pino, or plain text). */
  readonly logs: string[];
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Reuse a data directory (to restart on the same data); a fresh temporary one by default. */
  dataDir?: string;
  /** Listen on this port (to restart where clients reconnect); a free one by default. */
  port?: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const MAIN = path.resolve('dist/server/main.js');

/**
 * The only variables of the test runner's environment a server inherits. Everything else (a
 * developer's DATABASE_URL, REDIS_URL, AUTH_SECRET, NODE_OPTIONS, LOG_LEVEL...) would silently change
 * what a "SQLite, open" test runs; a test that wants a setting passes it in `env`.
 */
export const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'SYSTEMROOT'] as const;

/** The runner's environment reduced to INHERITED_ENV (for servers and CLIs that tests spawn). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Temporary directories of this test process, removed when it exits (or by removeTempDirs()). */
const tempDirs = new Set<string>();
/** Servers still running, SIGKILLed when the test process exits (a test that failed half-way). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill() and rmSync() are.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    removeTempDirs();
  });
}

export function tempDir(prefix = 'collab-test-'): string {
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes every directory tempDir() made so far (e.g. in an afterAll, once no server uses them). */
export function removeTempDirs(): void {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Starts the built server as its own process on 127.0.0.1 and resolves once it listens. */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...baseEnv(),
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      STATIC_DIR: '',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  installExitHook();
  running.add(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  let tls = false;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${options.timeoutMs ?? 20_000} ms:\n${logs.join('\n')}`)), options.timeoutMs ?? 20_000);
    const onLine = (line: string) => {
      logs.push(line);
      if (!line.includes('"listening"')) return;
      try {
        const parsed = JSON.parse(line) as { port?: number; tls?: boolean };
        if (typeof parsed.port === 'number') {
          tls = parsed.tls === true;
          clearTimeout(timer);
          resolve(parsed.port);
        }
      } catch {
        // not a JSON line
      }
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    port,
    // With TLS_CERT_FILE/TLS_KEY_FILE the server speaks HTTPS and wss:// on the same port.
    httpUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    syncUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/sync`,
    dataDir,
    child,
    logs,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * One server for the tests of a file (or describe block): started in beforeAll, killed in afterAll,
 * its temporary data directory removed. Returns a getter, since the server exists only once the
 * tests run: `const server = useServer({ env: { ... } }); ... server().syncUrl`.
 */
export function useServer(options: StartOptions = {}): () => ServerProcess {
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    server = await startServer(options);
  });
  afterAll(async () => {
    await server?.kill();
    if (server && !options.dataDir) fs.rmSync(server.dataDir, { recursive: true, force: true });
    server = null;
  });
  return () => {
    if (!server) throw new Error('useServer(): the server exists only inside tests (after beforeAll)');
    return server;
  };
}

/**
 * Starts a server that must refuse to start, and resolves with its output; a server that starts
 * anyway is killed (not left running) and the promise rejects, saying so.
 */
export async function startRefused(options: StartOptions = {}): Promise<string> {
  let started: ServerProcess;
  try {
    started = await startServer({ timeoutMs: 10_000, ...options });
  } catch (error) {
    return (error as Error).message;
  }
  await started.kill('SIGKILL');
  throw new Error(`the server started (port ${started.port}) although it should have refused to:\n${started.logs.join('\n')}`);
}
