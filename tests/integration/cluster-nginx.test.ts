/**
 * The nginx configuration of docs/scaling.md, run as written (upstream servers and `listen` replaced
 * by local ones) in front of two instances. Where nginx is missing the tests fail, naming the package
 * (`npm test` installs it first when it can): a skipped test would pass CI without testing the proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synced } from '../helpers/clients.js';
import { freePort } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { findNginx } from '../../scripts/test-prerequisites.js';
import { clientPool, converged, insertMarker, markerList, startCluster, type Cluster } from './cluster-harness.js';

const nginx = findNginx();

/** The ```nginx block of docs/scaling.md, pointed at local instances. */
function documentedConfig(backends: number[], port: number): string {
  const doc = fs.readFileSync(path.resolve('docs/scaling.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/scaling.md has no ```nginx block');
  const upstreamServers = /^( *server [^\n]*:3000[^\n]*;\n)+/m;
  expect(block).toMatch(upstreamServers);
  expect(block).toMatch(/^ *listen 80;$/m);
  return block
    .replace(upstreamServers, backends.map((p) => `    server 127.0.0.1:${p} max_fails=2 fail_timeout=5s;\n`).join(''))
    .replace(/^( *)listen 80;$/m, `$1listen 127.0.0.1:${port};`);
}

describe('behind nginx as configured in docs/scaling.md', () => {
  let cluster: Cluster;
  let proxy: ChildProcess;
  let dir: string;
  let base: string;
  const clients = clientPool();

  beforeAll(async () => {
    if (!nginx) throw new Error('nginx is not installed (looked on PATH, in /usr/sbin and NGINX_PATH): `npm test` installs it when it can, or run `sudo apt-get install -y nginx-light`');
    cluster = await startCluster(2);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-nginx-'));
    const port = await freePort();
    const conf = [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      documentedConfig(
        cluster.servers.map((s) => s.port),
        port,
      ),
      '}',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    proxy = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    base = `127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`http://${base}/healthz`).catch(() => null))?.ok === true, 'nginx to proxy /healthz', 10_000, 50);
  });

  afterAll(async () => {
    clients.destroyAll();
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGQUIT');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await cluster?.stop();
  });

  it('spreads WebSocket clients over both instances, which converge', async () => {
    const editors = Array.from({ length: 6 }, () => clients.connect(`ws://${base}/sync`, 'through nginx'));
    await Promise.all(editors.map((client) => synced(client)));
    // least_conn: both instances got clients.
    const perInstance = await Promise.all(
      cluster.servers.map(async (s) => {
        const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
        return Number(/^collab_connections (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
    expect(perInstance.every((n) => n > 0)).toBe(true);
    const inserted: string[] = [];
    for (let round = 0; round < 10; round++) {
      editors.forEach((client, i) => {
        insertMarker(client, `${i}.${round}`);
        inserted.push(`<${i}.${round}>`);
      });
      // A sleep on purpose (load, not a wait): spreads the rounds over many commits and relay messages.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const text = await converged(editors, 'clients behind nginx to converge');
    expect(markerList(text)).toEqual(inserted.sort());
  });

  it('moves the clients of a killed instance to the other one', async () => {
    const editors = Array.from({ length: 4 }, () => clients.connect(`ws://${base}/sync`, 'nginx failover'));
    await Promise.all(editors.map((client) => synced(client)));
    editors[0]!.doc.getText('body').insert(0, '<before>');
    await converged(editors, 'clients to converge before the kill');
    await cluster.servers[0]!.kill('SIGKILL');
    editors.forEach((client, i) => insertMarker(client, `after ${i}`));
    await waitFor(() => editors.every((client) => client.provider.wsconnected), 'every client to reconnect through nginx', 15_000);
    const text = await converged(editors, 'clients to converge after the kill');
    expect(markerList(text)).toEqual(['<after 0>', '<after 1>', '<after 2>', '<after 3>', '<before>']);
  });
});
