import fs from 'node:fs';
import path from 'node:path';
import { CLOCK_LEEWAY_SECONDS, type Access } from './tokens.js';

/**
 * Revoked tokens, kept in a small JSON file (REVOCATION_FILE, by default
 * `DATA_DIR/revoked-tokens.json`) so that revocations survive restarts and can be written by
 * the CLI (`npm run token -- revoke ...`) as well as by the admin API. The server polls the file
 * and ends live connections whose token it now lists. Instances that share the file (a shared
 * volume) share the revocations.
 *
 *     { "version": 1,
 *       "tokens":   { "<jti>": <exp, Unix seconds> },     // single tokens; dropped once expired
 *       "subjects": { "alice": <Unix seconds> } }         // when every token of alice was revoked
 *
 * A subject revoked at time R (this server's clock) loses every token whose `iat` is at most
 * R + CLOCK_LEEWAY_SECONDS (60 s). The leeway is there because tokens are accepted with an `iat`
 * up to 60 s in the future (the minting backend's clock may run ahead): a token minted just before
 * R by a clock 45 s ahead carries iat = R + 45 and must not survive. The cost: a new token for the
 * subject works once it is minted more than 60 s after the revocation (mint replacements a minute
 * later). A token without `iat` cannot show when it was issued and is revoked too.
 */
export interface RevocationData {
  version: 1;
  tokens: Record<string, number>;
  subjects: Record<string, number>;
}

const POLL_MS = 500;

function empty(): RevocationData {
  return { version: 1, tokens: {}, subjects: {} };
}

function numberRecord(value: unknown, what: string): Record<string, number> {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`"${what}" must be an object`);
  const out: Record<string, number> = Object.create(null);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'number' || !Number.isFinite(entry)) throw new Error(`"${what}.${key}" must be a number`);
    out[key] = entry;
  }
  return out;
}

/** Reads a revocation file; a missing file is an empty list. Throws on a malformed file. */
export function readRevocationFile(file: string): RevocationData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw error;
  }
  if (text.trim() === '') return empty();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object`);
  const record = parsed as Record<string, unknown>;
  try {
    return { version: 1, tokens: numberRecord(record.tokens, 'tokens'), subjects: numberRecord(record.subjects, 'subjects') };
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

export interface Revocation {
  /** One token, by its `jti`; `expiresAt` (Unix seconds) lets the entry be dropped once it no longer matters. */
  tokenId?: string;
  expiresAt?: number;
  /** Every token of this subject issued up to now (or `at`, Unix seconds). */
  subject?: string;
  at?: number;
}

/**
 * Adds a revocation to the file: read, merge, write to a temporary file and rename (readers never
 * see a half-written file). Expired single-token entries are dropped on the way.
 */
export function addRevocation(file: string, revocation: Revocation, now = Math.floor(Date.now() / 1000)): RevocationData {
  if (!revocation.tokenId && !revocation.subject) throw new Error('name a token id or a subject to revoke');
  const data = readRevocationFile(file);
  for (const [id, exp] of Object.entries(data.tokens)) if (exp < now) delete data.tokens[id];
  if (revocation.tokenId) data.tokens[revocation.tokenId] = revocation.expiresAt ?? now + 365 * 86400;
  if (revocation.subject) data.subjects[revocation.subject] = Math.max(data.subjects[revocation.subject] ?? 0, revocation.at ?? now);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
  return data;
}

/** The revocations in force, reloaded when the file changes. */
export class RevocationList {
  private data: RevocationData = empty();
  private readonly listeners = new Set<() => void>();
  private watching = false;

  constructor(
    readonly file: string,
    private readonly onReloadError: (error: unknown) => void = () => {},
  ) {}

  /** Loads the file now; throws if it is malformed (a startup error). */
  load(): void {
    this.data = readRevocationFile(this.file);
  }

  /** Polls the file for changes made by the CLI or another instance. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    fs.watchFile(this.file, { interval: POLL_MS, persistent: false }, this.onFileChange);
  }

  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    fs.unwatchFile(this.file, this.onFileChange);
  }

  /** Why `access` is revoked, or null. */
  reasonFor(access: Access): string | null {
    if (!access.authenticated) return null;
    if (access.tokenId !== null && Object.hasOwn(this.data.tokens, access.tokenId)) return 'token revoked';
    const before = Object.hasOwn(this.data.subjects, access.subject) ? this.data.subjects[access.subject] : undefined;
    // A token without `iat` cannot show it was issued after the revocation; one whose iat lies
    // within the clock leeway after it may come from a clock running ahead (see above).
    if (before !== undefined && (access.issuedAt === null || access.issuedAt <= before + CLOCK_LEEWAY_SECONDS)) return 'token revoked';
    return null;
  }

  /** Revokes, writes the file and applies it here at once (other instances pick it up by polling). */
  revoke(revocation: Revocation): void {
    this.data = addRevocation(this.file, revocation);
    this.notify();
  }

  snapshot(): RevocationData {
    return structuredClone(this.data);
  }

  /** Calls `listener` whenever the list changed; returns a function that unsubscribes. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly onFileChange = (current: fs.Stats, previous: fs.Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    try {
      this.data = readRevocationFile(this.file);
    } catch (error) {
      // Keep what we had: a half-edited file must not un-revoke anything.
      this.onReloadError(error);
      return;
    }
    this.notify();
  };

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
