/**
 * Throwaway PostgreSQL and Redis servers for tests, from Debian's `postgresql` and `redis-server`
 * packages: each lives in a temporary directory, listens on 127.0.0.1 and a free port, and is
 * stopped (and its directory removed) by `stop()`, or at the latest when the test process exits.
 *
 * PostgreSQL refuses to run as root; when the tests run as root (as in CI) it is initialised and
 * started as the `postgres` system user that the Debian package creates.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresService {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Creates a fresh, empty database on this server and returns its URL (for isolating tests). */
  createDatabase(name?: string): Promise<string>;
  /** Stops PostgreSQL at once, without a checkpoint (as a crash of its processes would). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data (it recovers from its WAL). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisService {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Shuts Redis down and removes its directory. */
  stop(): Promise<void>;
  /** SIGKILLs Redis (as a crash would); `restart()` brings it back on the same port. */
  kill(): Promise<void>;
  /** Starts Redis again on the same port, empty (after kill() or stop()). */
  restart(): Promise<void>;
}

/** Cleanups still due when the process exits (synchronous: 'exit' handlers cannot wait). */
const onExit = new Set<() => void>();
let exitHookInstalled = false;
function runCleanups(): void {
  for (const cleanup of onExit) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
  onExit.clear();
}
function atExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', runCleanups);
    // A worker stopped by a signal does not emit 'exit': clean up, then die of the signal as before.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        runCleanups();
        process.kill(process.pid, signal);
      });
    }
  }
  onExit.add(fn);
  return () => onExit.delete(fn);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/*
 * The programs are located exactly as `npm test`'s prerequisite check does
 * (scripts/test-prerequisites.js, which tests/unit/test-prerequisites.test.ts holds this to). The
 * lookup is repeated here rather than imported because bench/cluster compiles this file into dist/,
 * where that plain-JavaScript script is not emitted.
 */
const PG_ROOT = '/usr/lib/postgresql';
const PG_PROGRAMS = ['pg_ctl', 'initdb', 'postgres', 'psql'];

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** PG_BIN when set (then only there), else the newest of Debian's /usr/lib/postgresql/<major>/bin; null if none. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const hasServer = (dir: string) => PG_PROGRAMS.every((program) => isExecutable(path.join(dir, program)));
  if (env.PG_BIN) return hasServer(env.PG_BIN) ? env.PG_BIN : null;
  const majors = fs.existsSync(PG_ROOT) ? fs.readdirSync(PG_ROOT).filter((entry) => /^\d+$/.test(entry)) : [];
  const dir = majors.sort((a, b) => Number(b) - Number(a)).map((major) => path.join(PG_ROOT, major, 'bin')).find(hasServer);
  return dir ?? null;
}

/** redis-server on PATH; null if none. */
export function findRedisServerPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return dirs.map((dir) => path.join(dir, 'redis-server')).find(isExecutable) ?? null;
}

function pgBin(): string {
  const dir = findPostgresBinDir();
  if (!dir) throw new Error('PostgreSQL server programs not found: `npm test` installs them, or run `sudo apt-get install -y postgresql` (or set PG_BIN)');
  return dir;
}

function redisServer(): string {
  const file = findRedisServerPath();
  if (!file) throw new Error('redis-server not found on PATH: `npm test` installs it, or run `sudo apt-get install -y redis-server`');
  return file;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL program, as the `postgres` user when we are root. */
function pgCommand(program: string, args: string[]): [string, string[]] {
  const binary = path.join(pgBin(), program);
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

async function pg(program: string, args: string[]): Promise<string> {
  const [command, argv] = pgCommand(program, args);
  try {
    const { stdout } = await run(command, argv, { timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${program} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Starts a PostgreSQL server in a temporary directory. It is tuned for tests (no fsync: the tests
 * kill our server processes, never PostgreSQL itself, so committed data stays in its memory and files);
 * `durable: true` keeps PostgreSQL's defaults (fsync on every commit), e.g. for benchmarks.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresService> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-pg-'));
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const cleanupDir = () => fs.rmSync(dir, { recursive: true, force: true });

  try {
    await pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  } catch (error) {
    cleanupDir();
    throw error;
  }

  let port = 0;
  let settings = '';
  let started = false;
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    settings = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses='127.0.0.1'",
      ...(options.durable ? [] : ['-c fsync=off', '-c full_page_writes=off']),
      '-c max_connections=200',
      '-c shared_buffers=32MB',
    ].join(' ');
    try {
      await pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '60', 'start']);
      started = true;
    } catch (error) {
      lastError = error;
      // Maybe the port was taken in between: stop whatever half-started, and try another.
      await pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    }
  }
  if (!started) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    cleanupDir();
    throw new Error(`PostgreSQL did not start: ${String(lastError)}\n${log}`);
  }

  const stopSync = () => {
    const [command, argv] = pgCommand('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    try {
      execFileSync(command, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
    cleanupDir();
  };
  const forget = atExit(stopSync);
  let databases = 0;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name = `test_${process.pid}_${++databases}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsuitable database name "${name}"`);
      await pg('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async kill() {
      await pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    },
    async restart() {
      await pg('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', settings, '-w', '-t', '60', 'start']);
    },
    async stop() {
      if (!onExit.has(stopSync)) return;
      forget();
      await pg('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(async () => {
        await pg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      });
      cleanupDir();
    },
  };
}

function waitForRedis(child: ChildProcess, port: number, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`redis-server did not start within 20 s:\n${log.join('')}`)), 20_000);
    const onData = (chunk: Buffer) => {
      log.push(chunk.toString());
      if (log.join('').includes('Ready to accept connections')) finish(null);
    };
    const onExitEarly = (code: number | null) => finish(new Error(`redis-server exited with ${code} on port ${port}:\n${log.join('')}`));
    function finish(error: Error | null) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExitEarly);
      if (error) reject(error);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExitEarly);
  });
}

/** Starts redis-server (no persistence) in a temporary directory on 127.0.0.1 and a free port. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisService> {
  const redisBinary = redisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-redis-'));
  let port = options.port ?? 0;
  let child: ChildProcess | null = null;

  const spawnRedis = async (fixedPort: boolean) => {
    for (let attempt = 0; ; attempt++) {
      if (!fixedPort) port = await freePort();
      const log: string[] = [];
      const proc = spawn(
        redisBinary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      proc.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
      try {
        await waitForRedis(proc, port, log);
        proc.stdout?.resume();
        proc.stderr?.resume();
        child = proc;
        return;
      } catch (error) {
        proc.kill('SIGKILL');
        // A port freed by a killed Redis may linger a moment; a free one may have been taken meanwhile.
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const killChild = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  const stopSync = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };

  await spawnRedis(options.port !== undefined);
  const forget = atExit(stopSync);
  return {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    async stop() {
      forget();
      await killChild('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await killChild('SIGKILL');
    },
    async restart() {
      await killChild('SIGKILL');
      await spawnRedis(true);
      atExit(stopSync);
    },
  };
}
