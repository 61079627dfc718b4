// Minting collab-docs access tokens in an embedding app's backend, with nothing but node:crypto.
// (Any JWT library works the same way: HS256, the payload below, the server's AUTH_SECRET.)
//
//   AUTH_SECRET=... node examples/mint-token.mjs alice 'team/*' --read-only
//
// In your backend: after your own login check, mint a token for the user and hand it to the
// browser, which passes it to the editor (`mountEditor({ token })`, `<collab-editor token=...>`)
// or stores it for the workspace (a link `https://docs.example.com/?token=...`).
import { createHmac, randomBytes } from 'node:crypto';

const base64url = (data) => Buffer.from(data).toString('base64url');

/**
 * @param {object} options
 * @param {string} options.secret      the server's AUTH_SECRET (32+ characters)
 * @param {string} options.subject     who the token is for (shown in logs and /api/auth/me)
 * @param {string[]} options.documents document names, or patterns with * ("team/*", "*")
 * @param {boolean} [options.write]    false (default) for read-only
 * @param {number} [options.expiresInSeconds] lifetime; 8 hours by default
 * @returns {string} the token
 */
export function mintCollabToken({ secret, subject, documents, write = false, expiresInSeconds = 8 * 3600 }) {
  if (!secret || secret.length < 32) throw new Error('AUTH_SECRET must be at least 32 characters');
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT' };
  const payload = {
    sub: subject, // who
    docs: documents, // which documents: exact names or patterns with *
    write, // false: may read, see and show cursors, but change nothing
    iat: now, // issued at (revoking a subject revokes tokens issued until then)
    exp: now + expiresInSeconds, // required
    jti: randomBytes(12).toString('base64url'), // token id (to revoke this one token)
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

// Run directly: print a token.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [subject, ...rest] = process.argv.slice(2);
  const readOnly = rest.includes('--read-only');
  const documents = rest.filter((arg) => arg !== '--read-only');
  if (!subject || documents.length === 0) {
    console.error("usage: AUTH_SECRET=... node examples/mint-token.mjs <subject> <document or pattern>... [--read-only]");
    process.exit(2);
  }
  console.log(mintCollabToken({ secret: process.env.AUTH_SECRET, subject, documents, write: !readOnly }));
}
