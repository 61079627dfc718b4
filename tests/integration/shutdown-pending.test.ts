/**
 * README: "on SIGTERM/SIGINT the server commits what is pending, closes sockets with 1012 so clients
 * reconnect, and exits". Here the commits cannot finish when SIGTERM arrives: every PostgreSQL
 * process is paused (SIGSTOP), so the server's queries hang as on a stalled database. The server
 * must wait for them, not exit without them; once PostgreSQL resumes it commits, exits with 0, and
 * a restarted server has every edit.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { metric } from '../helpers/metrics.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { startPostgres, type PostgresService } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
let postgres: PostgresService | null = null;
let paused: number[] = [];
afterEach(async () => {
  resume();
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.kill('SIGKILL')));
  await postgres?.stop();
  postgres = null;
});

/**
 * Every process of the throwaway PostgreSQL listening on `port`: the postmaster (from its
 * postmaster.pid, whose fourth line is the port) and its children (backends, writers).
 */
function postgresProcesses(port: number): number[] {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    if (!entry.startsWith('collab-pg-')) continue;
    const pidFile = path.join(os.tmpdir(), entry, 'data', 'postmaster.pid');
    let lines: string[];
    try {
      lines = fs.readFileSync(pidFile, 'utf8').split('\n');
    } catch {
      continue;
    }
    if (Number(lines[3]) !== port) continue;
    const postmaster = Number(lines[0]);
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    return [postmaster, ...children];
  }
  throw new Error(`no PostgreSQL postmaster.pid for port ${port} under ${os.tmpdir()}`);
}

function pause(port: number): void {
  paused = postgresProcesses(port);
  for (const pid of paused) process.kill(pid, 'SIGSTOP');
}

function resume(): void {
  for (const pid of paused.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
}

const text = (client: TestClient) => client.doc.getText('body').toString();

describe('SIGTERM while commits are pending', () => {
  it('waits for the stalled commits, exits with 0, and a restarted server has every edit', async () => {
    postgres = await startPostgres();
    const url = await postgres.createDatabase();
    const server = await startServer({ env: { DATABASE_URL: url } });
    servers.push(server);
    const [writer, reader] = [connectClient(server.syncUrl, 'pending'), connectClient(server.syncUrl, 'pending')];
    clients.push(writer, reader);
    await Promise.all([synced(writer), synced(reader)]);
    writer.doc.getText('body').insert(0, 'before;');
    await waitFor(() => text(reader) === 'before;', 'the first edit to be committed and relayed');

    pause(postgres.port);
    const received = () => metric(server.httpUrl, 'collab_messages_in_total', '{type="sync-update"}');
    const receivedBefore = await received();
    for (const piece of ['pending-1;', 'pending-2;', 'pending-3;']) {
      // Separate frames, each acknowledged by the server's metrics before the next.
      const target = (await received()) + 1;
      writer.doc.getText('body').insert(text(writer).length, piece);
      await waitFor(async () => (await received()) >= target, `the server to receive "${piece}"`);
    }
    expect((await received()) - receivedBefore).toBeGreaterThanOrEqual(3);
    // Not committed, so not relayed: the reader still has only the first edit.
    expect(text(reader)).toBe('before;');

    // The writer goes away for good: nothing it holds can be re-sent to the next server.
    writer.destroy();
    const exited = server.kill('SIGTERM');
    await waitFor(() => server.logs.some((line) => line.includes('"shutting down"')), 'the server to start shutting down');
    // Still running: it waits for the commits that PostgreSQL cannot answer yet.
    expect(server.child.exitCode).toBeNull();
    expect(server.logs.some((line) => line.includes('"stopped"'))).toBe(false);
    resume();
    expect(await exited).toBe(0);
    expect(server.logs.some((line) => line.includes('"stopped"'))).toBe(true);

    const restarted = await startServer({ env: { DATABASE_URL: url } });
    servers.push(restarted);
    const fresh = connectClient(restarted.syncUrl, 'pending');
    clients.push(fresh);
    await synced(fresh);
    expect(text(fresh)).toBe('before;pending-1;pending-2;pending-3;');
  });
});
