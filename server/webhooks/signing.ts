import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` followed by
 * base64 of 24 to 64 random bytes; each attempt carries `webhook-id` (the event's id, the same on
 * every retry), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
 * (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the decoded secret).
 */
const PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** Why `secret` is not a Standard Webhooks secret, or null. */
export function secretProblem(secret: unknown): string | null {
  if (typeof secret !== 'string') return 'secret must be a string';
  if (!secret.startsWith(PREFIX)) return `secret must start with ${PREFIX} (e.g. ${PREFIX} followed by \`openssl rand -base64 32\`)`;
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return `secret must be ${PREFIX} followed by base64`;
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) return `secret must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, got ${bytes}`;
  return null;
}

export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers of one delivery attempt. `secret` must have passed secretProblem(). */
export function signatureHeaders(secret: string, id: string, timestampSeconds: number, body: string): SignatureHeaders {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
