/**
 * TLS_CERT_FILE/TLS_KEY_FILE: the server speaks HTTPS and wss:// on PORT with a self-signed
 * certificate made here with openssl; the stock y-websocket client syncs over wss:// (trusting that
 * certificate as its CA); a certificate replaced on disk is served to new connections without a
 * restart (the file watch, and SIGHUP); bad files stop the server at start naming the variable.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { once, waitFor } from '../helpers/wait.js';
import { startRefused, startServer, tempDir, type ServerProcess } from '../helpers/server.js';

interface Certificate {
  certFile: string;
  keyFile: string;
  pem: string;
  fingerprint: string;
}

function requireOpenssl(): void {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('these tests make certificates with openssl, which is missing: install the Debian/Ubuntu package `openssl` (sudo apt-get install -y openssl)');
  }
}

/** A self-signed certificate for 127.0.0.1 (an EC key: quick to make), written into `dir` under `name`. */
function makeCertificate(dir: string, name: string, commonName: string): Certificate {
  requireOpenssl();
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate:\n${made.stderr}`);
  const pem = fs.readFileSync(certFile, 'utf8');
  return { certFile, keyFile, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** SHA-256 fingerprint of the certificate a new TLS connection to the server is given. */
async function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** The stock WebsocketProvider over wss://, trusting `ca` (Node's `ws` with the `ca` option). */
function wssClient(syncUrl: string, document: string, ca: string) {
  class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(syncUrl, document, doc, { WebSocketPolyfill: TrustingWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  return { doc, provider, destroy: () => (provider.destroy(), doc.destroy()) };
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .once('error', reject);
  });
}

const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
});

describe('TLS', () => {
  it('serves HTTPS and wss:// on PORT; the stock client syncs over wss://', async () => {
    const dir = tempDir();
    const first = makeCertificate(dir, 'server', 'collab first');
    const server = await startServer({ env: { TLS_CERT_FILE: first.certFile, TLS_KEY_FILE: first.keyFile } });
    servers.push(server);
    expect(server.httpUrl).toMatch(/^https:/);
    expect(server.syncUrl).toMatch(/^wss:/);
    expect(server.logs.join('\n')).toContain(first.fingerprint);

    const health = await httpsGet(`${server.httpUrl}/healthz`, first.pem);
    expect(health.status).toBe(200);
    // Plain HTTP on the TLS port gets nothing useful: the port speaks TLS only.
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();

    const a = wssClient(server.syncUrl, 'tls-doc', first.pem);
    const b = wssClient(server.syncUrl, 'tls-doc', first.pem);
    try {
      await Promise.all([a, b].map((client) => (client.provider.synced ? null : once(client.provider as never, 'sync', 'a wss:// client to sync'))));
      a.doc.getText('t').insert(0, 'over wss');
      b.doc.getText('t').insert(0, 'both ways, ');
      await waitFor(() => a.doc.getText('t').toString() === b.doc.getText('t').toString() && a.doc.getText('t').length === 'over wssboth ways, '.length, 'both wss:// clients to converge');
      expect(a.doc.getText('t').toString()).toContain('over wss');
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('serves a certificate replaced on disk to new connections without a restart, and reloads on SIGHUP', async () => {
    const dir = tempDir();
    const live = makeCertificate(dir, 'live', 'collab original');
    const server = await startServer({ env: { TLS_CERT_FILE: live.certFile, TLS_KEY_FILE: live.keyFile } });
    servers.push(server);
    expect(await servedFingerprint(server.port)).toBe(live.fingerprint);
    // An open connection keeps its certificate; it must not stop the reload.
    const before = wssClient(server.syncUrl, 'renewal', live.pem);
    await once(before.provider as never, 'sync', 'the client connected before the renewal to sync');

    // A renewal as certbot does it: new files moved over the old ones.
    const renewed = makeCertificate(dir, 'renewed', 'collab renewed');
    fs.renameSync(renewed.keyFile, live.keyFile);
    fs.renameSync(renewed.certFile, live.certFile);
    await waitFor(async () => (await servedFingerprint(server.port)) === renewed.fingerprint, 'new connections to get the renewed certificate', 20_000, 200);
    expect(server.logs.some((line) => line.includes('TLS certificate reloaded') && line.includes(renewed.fingerprint))).toBe(true);
    const after = wssClient(server.syncUrl, 'renewal', renewed.pem);
    try {
      await once(after.provider as never, 'sync', 'a client trusting only the renewed certificate to sync');
      after.doc.getText('t').insert(0, 'after renewal');
      await waitFor(() => before.doc.getText('t').toString() === 'after renewal', 'the connection opened before the renewal to receive the edit');
    } finally {
      before.destroy();
      after.destroy();
    }

    // SIGHUP: the files are read at once. A half-written renewal (a key that is not the
    // certificate's) is refused and the certificate in use stays.
    const third = makeCertificate(dir, 'third', 'collab third');
    const mismatched = makeCertificate(dir, 'other', 'collab other');
    fs.copyFileSync(third.certFile, live.certFile);
    fs.copyFileSync(mismatched.keyFile, live.keyFile);
    server.child.kill('SIGHUP');
    await waitFor(() => server.logs.some((line) => line.includes('TLS certificate not reloaded') && line.includes('TLS_KEY_FILE')), 'the mismatched pair to be refused');
    expect(await servedFingerprint(server.port)).toBe(renewed.fingerprint);
    fs.copyFileSync(third.keyFile, live.keyFile);
    server.child.kill('SIGHUP');
    await waitFor(async () => (await servedFingerprint(server.port)) === third.fingerprint, 'SIGHUP to load the third certificate', 10_000, 100);
    // The file watcher may have loaded the pair first; the signal still reads it again and says so.
    await waitFor(() => server.logs.some((line) => line.includes('"reason":"SIGHUP"') && line.includes(third.fingerprint)), 'SIGHUP to reload the third certificate');
    expect(server.child.exitCode).toBeNull();
  });

  it('refuses to start with files that cannot be served, naming the variable', async () => {
    const dir = tempDir();
    const good = makeCertificate(dir, 'good', 'collab good');
    const other = makeCertificate(dir, 'other', 'collab other');
    const garbage = path.join(dir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a certificate\n');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ TLS_CERT_FILE: good.certFile }, /TLS_KEY_FILE must be set too/],
      [{ TLS_KEY_FILE: good.keyFile }, /TLS_CERT_FILE must be set too/],
      [{ TLS_CERT_FILE: path.join(dir, 'missing.crt'), TLS_KEY_FILE: good.keyFile }, /TLS_CERT_FILE cannot be read \(.*missing\.crt: ENOENT\)/],
      [{ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: path.join(dir, 'missing.key') }, /TLS_KEY_FILE cannot be read/],
      [{ TLS_CERT_FILE: garbage, TLS_KEY_FILE: good.keyFile }, /TLS_CERT_FILE \(.*garbage\.pem\) is not a PEM certificate/],
      [{ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: garbage }, /TLS_KEY_FILE \(.*garbage\.pem\) is not an unencrypted PEM private key/],
      [{ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: other.keyFile }, /TLS_KEY_FILE \(.*other\.key\) is not the private key of the certificate in TLS_CERT_FILE/],
    ];
    for (const [env, message] of cases) {
      const output = await startRefused({ env });
      expect(output, JSON.stringify(env)).toMatch(/exited with 78/);
      expect(output, JSON.stringify(env)).toMatch(message);
    }
  });
});
