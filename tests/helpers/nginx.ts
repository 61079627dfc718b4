import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findNginx } from '../../scripts/test-prerequisites.js';
import { freePort } from './services.js';
import { waitFor } from './wait.js';

export interface Nginx {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly httpUrl: string;
  readonly syncUrl: string;
  stop(): Promise<void>;
}

/**
 * nginx in front of `backends` as a proxy that WebSockets do not get through, as in many
 * corporate networks: plain requests are passed on, round robin over the backends, one request
 * at a time (no sticky sessions, no upstream keep-alive), while the WebSocket handshake loses its
 * `Upgrade` and `Connection` headers, so the server answers it 426 and the browser's WebSocket fails.
 * A missing nginx fails the test, naming the package.
 */
export async function startUpgradeBlockingNginx(backends: number[]): Promise<Nginx> {
  const nginx = findNginx();
  if (!nginx) throw new Error('nginx is not installed (looked on PATH, in /usr/sbin and NGINX_PATH): `npm test` installs it when it can, or run `sudo apt-get install -y nginx-light`');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-nginx-'));
  const port = await freePort();
  const conf = [
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 512; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    '  upstream collab {',
    ...backends.map((backend) => `    server 127.0.0.1:${backend} max_fails=1 fail_timeout=5s;`),
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location / {',
    '      proxy_pass http://collab;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Upgrade "";',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_read_timeout 120s;',
    '      client_max_body_size 20m;',
    '    }',
    '  }',
    '}',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM'); // fast shutdown: SIGQUIT would wait for the open streams
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`http://${host}/healthz`).catch(() => null))?.ok === true, 'nginx to proxy /healthz', 10_000, 50);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, httpUrl: `http://${host}`, syncUrl: `ws://${host}/sync`, stop };
}
