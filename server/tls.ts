import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import tls from 'node:tls';
import type { Logger } from './logger.js';

/** Where the certificate chain and its private key are (`TLS_CERT_FILE`, `TLS_KEY_FILE`), both PEM. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** The PEM bytes of a certificate chain and its key, checked to belong together. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the leaf certificate (for logs: which certificate is being served). */
  fingerprint: string;
  /** When the leaf certificate expires (ISO 8601). */
  validTo: string;
}

/** A certificate or key file that cannot be served; the message names the variable. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

function readFile(file: string, variable: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TlsFileError(`${variable} cannot be read (${file}: ${code})`);
  }
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0]!;
}

/**
 * Reads and checks the pair: the certificate file must start with a PEM certificate (its chain may
 * follow), the key file must hold an unencrypted PEM private key, and the key must be the
 * certificate's. Throws TlsFileError naming the variable at fault.
 */
export function readTlsFiles(files: TlsFiles): TlsCredentials {
  const cert = readFile(files.certFile, 'TLS_CERT_FILE');
  const key = readFile(files.keyFile, 'TLS_KEY_FILE');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new TlsFileError(`TLS_CERT_FILE (${files.certFile}) is not a PEM certificate: ${firstLine(error)}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsFileError(`TLS_KEY_FILE (${files.keyFile}) is not an unencrypted PEM private key: ${firstLine(error)}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(`TLS_KEY_FILE (${files.keyFile}) is not the private key of the certificate in TLS_CERT_FILE (${files.certFile})`);
  }
  try {
    // What the server will do with them: catches what the two checks above let through.
    tls.createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsFileError(`TLS_CERT_FILE and TLS_KEY_FILE cannot be used together: ${firstLine(error)}`);
  }
  return { cert, key, fingerprint: leaf.fingerprint256, validTo: new Date(leaf.validTo).toISOString() };
}

/** How often the files are looked at for changes: two stat() calls, a few microseconds, every 2 s. */
const WATCH_INTERVAL_MS = 2_000;
/** A renewal writes the certificate and the key one after the other: reload once both are written. */
const SETTLE_MS = 250;

export interface CertificateReloader {
  /** Reads the files again now (SIGHUP); keeps the certificate in use if they are not a valid pair. */
  reload(reason: string): void;
  stop(): void;
}

/**
 * Serves renewed certificates without a restart: when either file changes (or on `reload()`,
 * i.e. SIGHUP) the pair is read again and handed to `server.setSecureContext`; connections opened
 * afterwards get it, open ones keep theirs. A pair that does not check out (a renewal half-written,
 * a wrong key) is logged and the previous certificate stays in use.
 *
 * Files are polled with fs.watchFile rather than fs.watch: renewal tools (certbot, acme.sh) replace
 * files or the symlinks to them, which an inotify watch on the old inode would not see.
 */
export function watchCertificates(server: Pick<HttpsServer, 'setSecureContext'>, files: TlsFiles, logger: Logger, served: TlsCredentials): CertificateReloader {
  let current = served.fingerprint;
  let settle: NodeJS.Timeout | null = null;

  const reload = (reason: string) => {
    let next: TlsCredentials;
    try {
      next = readTlsFiles(files);
    } catch (error) {
      logger.error({ reason, problem: (error as Error).message }, 'TLS certificate not reloaded; still serving the previous one');
      return;
    }
    if (next.fingerprint === current && reason === 'file changed') return;
    server.setSecureContext({ cert: next.cert, key: next.key });
    logger.info({ reason, fingerprint: next.fingerprint, previous: current, validTo: next.validTo }, 'TLS certificate reloaded');
    current = next.fingerprint;
  };
  const changed = (now: fs.Stats, before: fs.Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    if (settle) clearTimeout(settle);
    settle = setTimeout(() => {
      settle = null;
      reload('file changed');
    }, SETTLE_MS);
  };
  for (const file of [files.certFile, files.keyFile]) fs.watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, changed);

  return {
    reload,
    stop() {
      if (settle) clearTimeout(settle);
      for (const file of [files.certFile, files.keyFile]) fs.unwatchFile(file, changed);
    },
  };
}
