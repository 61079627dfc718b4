import { randomBytes, webcrypto } from 'node:crypto';
import { sign, verify } from 'hono/jwt';
import { MAX_PATTERNS, patternProblem } from './patterns.js';

/**
 * Access tokens: JWTs signed with HS256 and the server's AUTH_SECRET. The payload (any JWT
 * library can mint it; see docs/security.md):
 *
 *     { "sub": "alice",              // who: shown in logs and in /api/auth/me
 *       "docs": ["team/*", "notes"], // documents: exact names or patterns with `*`
 *       "write": true,               // false or absent: read-only
 *       "exp": 1767225600,           // required: expiry, Unix seconds
 *       "iat": 1767196800,           // issued at, Unix seconds (revoking a subject uses it)
 *       "jti": "q0nB7m6d2XkV",       // token id (revoking one token uses it)
 *       "admin": true }              // optional: may call the admin API (revocation)
 */
export interface TokenClaims {
  sub: string;
  docs: string[];
  write: boolean;
  exp: number;
  iat?: number;
  jti?: string;
  admin?: boolean;
}

/** What a request or connection may do, from its token (or everything, when the server runs open). */
export interface Access {
  /** Who is connected, for logs; never a token. */
  subject: string;
  canWrite: boolean;
  /** Document patterns it may open. */
  documents: readonly string[];
  admin: boolean;
  /** False when the server runs open (no AUTH_SECRET) and nobody is authenticated. */
  authenticated: boolean;
  /** Unix seconds; null when open. */
  expiresAt: number | null;
  issuedAt: number | null;
  tokenId: string | null;
}

/** Everything, for a server running open. */
export const OPEN_ACCESS: Access = Object.freeze({
  subject: 'anonymous',
  canWrite: true,
  documents: Object.freeze(['*']),
  admin: false,
  authenticated: false,
  expiresAt: null,
  issuedAt: null,
  tokenId: null,
});

/** A request without valid credentials (401) or with credentials that do not cover it (403). */
export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }

  /** The WebSocket close code that mirrors the status. */
  get closeCode(): number {
    return this.status === 401 ? 4401 : 4403;
  }
}

export const MIN_SECRET_LENGTH = 32;
/** Longer tokens are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/**
 * Tolerated clock difference between the minting backend and this server (for iat/nbf). Revoking
 * a subject covers tokens issued up to this long after the revocation (revocation.ts).
 */
export const CLOCK_LEEWAY_SECONDS = 60;
/** 9999-12-31T23:59:59Z: later time claims are nonsense (and overflow Date, 1e308 gave a 500). */
export const MAX_UNIX_SECONDS = 253_402_300_799;
const MAX_SUBJECT_LENGTH = 200;

export type SecretKey = webcrypto.CryptoKey;

/**
 * Imports the secret once as an HMAC key. (Passing the raw string to hono/jwt would also work,
 * but it treats strings containing "PUBLIC" or "PRIVATE" as PEM keys.)
 */
export async function importSecret(secret: string): Promise<SecretKey> {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`the secret must be at least ${MIN_SECRET_LENGTH} characters`);
  return webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export interface MintOptions {
  subject: string;
  documents: readonly string[];
  canWrite: boolean;
  /** Lifetime in seconds. */
  expiresInSeconds: number;
  admin?: boolean;
  /** Token id; a random one by default. */
  tokenId?: string;
  /** Unix seconds; now by default. */
  now?: number;
}

/** Why `options` cannot be made into a token, or null. */
export function mintProblem(options: MintOptions): string | null {
  if (typeof options.subject !== 'string' || options.subject.trim() === '') return 'the subject must be a non-empty string';
  if (options.subject.length > MAX_SUBJECT_LENGTH) return `the subject is longer than ${MAX_SUBJECT_LENGTH} characters`;
  if (!Array.isArray(options.documents) || options.documents.length === 0) return 'at least one document or pattern is needed';
  if (options.documents.length > MAX_PATTERNS) return `at most ${MAX_PATTERNS} document patterns`;
  for (const pattern of options.documents) {
    const problem = patternProblem(pattern);
    if (problem) return `${problem}: ${JSON.stringify(pattern)}`;
  }
  if (!Number.isInteger(options.expiresInSeconds) || options.expiresInSeconds <= 0) return 'the lifetime must be a positive whole number of seconds';
  return null;
}

/** Signs a token with the claims above. */
export async function mintToken(key: SecretKey | string, options: MintOptions): Promise<string> {
  const problem = mintProblem(options);
  if (problem) throw new Error(problem);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: options.subject,
    docs: [...options.documents],
    write: options.canWrite,
    iat: now,
    exp: now + options.expiresInSeconds,
    jti: options.tokenId ?? randomBytes(12).toString('base64url'),
  };
  if (options.admin) claims.admin = true;
  const secret = typeof key === 'string' ? await importSecret(key) : key;
  return sign({ ...claims }, secret as unknown as Parameters<typeof sign>[1], 'HS256');
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A time claim: Unix seconds from 1970 to 9999 (a JSON number, fractions allowed). */
function isUnixTime(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0 && value <= MAX_UNIX_SECONDS;
}

/** Checks the payload's shape; throws AuthError(401) naming the first problem. */
export function parseClaims(payload: Record<string, unknown>, now: number): TokenClaims {
  const fail = (why: string): never => {
    throw new AuthError(401, `invalid token: ${why}`);
  };
  const { sub, docs, write, exp, iat, nbf, jti, admin } = payload;
  if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUBJECT_LENGTH) fail('"sub" must be a non-empty string');
  if (!Array.isArray(docs) || docs.length === 0 || docs.length > MAX_PATTERNS) fail(`"docs" must be a list of 1 to ${MAX_PATTERNS} document patterns`);
  for (const pattern of docs as unknown[]) if (patternProblem(pattern)) fail(`"docs": ${patternProblem(pattern)}`);
  if (write !== undefined && typeof write !== 'boolean') fail('"write" must be true or false');
  if (admin !== undefined && typeof admin !== 'boolean') fail('"admin" must be true or false');
  if (exp === undefined) fail('"exp" (expiry) is required');
  if (!isUnixTime(exp)) fail('"exp" must be Unix seconds between 0 and 253402300799 (year 9999)');
  if (iat !== undefined && !isUnixTime(iat)) fail('"iat" must be Unix seconds between 0 and 253402300799 (year 9999)');
  if (nbf !== undefined && !isUnixTime(nbf)) fail('"nbf" must be Unix seconds between 0 and 253402300799 (year 9999)');
  if (jti !== undefined && (typeof jti !== 'string' || jti.length > 200)) fail('"jti" must be a string');
  if ((exp as number) <= now) throw new AuthError(401, 'token expired');
  if (isFiniteNumber(iat) && iat > now + CLOCK_LEEWAY_SECONDS) fail('issued in the future');
  if (isFiniteNumber(nbf) && nbf > now + CLOCK_LEEWAY_SECONDS) throw new AuthError(401, 'token not yet valid');
  return {
    sub: sub as string,
    docs: docs as string[],
    write: write === true,
    exp: exp as number,
    ...(isFiniteNumber(iat) && { iat }),
    ...(typeof jti === 'string' && { jti }),
    ...(admin === true && { admin: true }),
  };
}

/** Verifies signature and claims; throws AuthError(401) with a reason a client may be shown. */
export async function verifyToken(key: SecretKey, token: string, now = Math.floor(Date.now() / 1000)): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError(401, 'invalid token: too long');
  let payload: Record<string, unknown>;
  try {
    // Time claims are checked below, with leeway for iat/nbf and a required exp.
    payload = (await verify(token, key as unknown as Parameters<typeof verify>[1], { alg: 'HS256', exp: false, nbf: false, iat: false })) as Record<string, unknown>;
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'JwtTokenSignatureMismatched') throw new AuthError(401, 'invalid token: bad signature');
    if (name === 'JwtAlgorithmMismatch' || name === 'JwtHeaderInvalid') throw new AuthError(401, 'invalid token: only HS256 tokens are accepted');
    throw new AuthError(401, 'invalid token: not a well-formed JWT');
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new AuthError(401, 'invalid token: payload is not an object');
  return parseClaims(payload, now);
}

export function accessFromClaims(claims: TokenClaims): Access {
  return {
    subject: claims.sub,
    canWrite: claims.write,
    documents: claims.docs,
    admin: claims.admin === true,
    authenticated: true,
    expiresAt: claims.exp,
    issuedAt: claims.iat ?? null,
    tokenId: claims.jti ?? null,
  };
}

/** Parses `90s`, `15m`, `8h`, `30d` or a bare number of seconds. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  const seconds = value * unit;
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}
