import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { AuthError, accessFromClaims, importSecret, mintProblem, mintToken, parseDuration, verifyToken } from '../../server/auth/tokens.js';

const SECRET = 'unit-test-secret-0123456789-abcdefghijkl';
const now = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected a rejection');
}

describe('access tokens', () => {
  it('round-trips the documented claims', async () => {
    const key = await importSecret(SECRET);
    const token = await mintToken(key, { subject: 'alice', documents: ['team/*', 'readme'], canWrite: false, expiresInSeconds: 3600, tokenId: 't1' });
    const claims = await verifyToken(key, token);
    expect(claims).toMatchObject({ sub: 'alice', docs: ['team/*', 'readme'], write: false, jti: 't1' });
    expect(claims.exp - claims.iat!).toBe(3600);
    expect(accessFromClaims(claims)).toMatchObject({ subject: 'alice', canWrite: false, admin: false, authenticated: true, tokenId: 't1' });
  });

  it('accepts tokens minted by any HS256 library with the documented payload (write defaults to read-only)', async () => {
    const key = await importSecret(SECRET);
    const token = await sign({ sub: 'bob', docs: ['*'], exp: now() + 60 }, SECRET, 'HS256');
    expect(await verifyToken(key, token)).toMatchObject({ sub: 'bob', write: false });
  });

  it('accepts tokens from the dependency-free example in examples/mint-token.mjs', async () => {
    // @ts-expect-error: plain JavaScript example without type declarations
    const { mintCollabToken } = (await import('../../examples/mint-token.mjs')) as { mintCollabToken: (options: object) => string };
    const token = mintCollabToken({ secret: SECRET, subject: 'embedder', documents: ['app/*'], write: true, expiresInSeconds: 60 });
    expect(await verifyToken(await importSecret(SECRET), token)).toMatchObject({ sub: 'embedder', docs: ['app/*'], write: true });
  });

  it('is not fooled by a secret that looks like a PEM key', async () => {
    const pemLike = 'MY-PUBLIC-WIKI-AND-PRIVATE-NOTES-SECRET-0123';
    const key = await importSecret(pemLike);
    const token = await mintToken(key, { subject: 'a', documents: ['*'], canWrite: true, expiresInSeconds: 60 });
    expect((await verifyToken(key, token)).sub).toBe('a');
  });

  it.each([
    ['garbage', async () => 'not.a.jwt', /not a well-formed JWT/],
    ['a wrong signature', () => sign({ sub: 'a', docs: ['*'], exp: now() + 60 }, 'other-secret-other-secret-other-secret'), /bad signature/],
    ['HS512', () => sign({ sub: 'a', docs: ['*'], exp: now() + 60 }, SECRET, 'HS512'), /only HS256/],
    ['no exp', () => sign({ sub: 'a', docs: ['*'] }, SECRET), /"exp"/],
    ['an expired exp', () => sign({ sub: 'a', docs: ['*'], exp: now() }, SECRET), /token expired/],
    ['an nbf in the future', () => sign({ sub: 'a', docs: ['*'], exp: now() + 600, nbf: now() + 300 }, SECRET), /not yet valid/],
    ['an iat far in the future', () => sign({ sub: 'a', docs: ['*'], exp: now() + 600, iat: now() + 300 }, SECRET), /issued in the future/],
    ['an empty sub', () => sign({ sub: '', docs: ['*'], exp: now() + 60 }, SECRET), /"sub"/],
    ['docs not a list', () => sign({ sub: 'a', docs: '*', exp: now() + 60 }, SECRET), /"docs"/],
    ['a control character in a pattern', () => sign({ sub: 'a', docs: ['a\nb'], exp: now() + 60 }, SECRET), /control characters/],
    ['write not a boolean', () => sign({ sub: 'a', docs: ['*'], write: 'yes', exp: now() + 60 }, SECRET), /"write"/],
    ['a huge token', async () => 'a'.repeat(9000), /too long/],
  ])('refuses %s with 401 and a reason', async (_what, make, reason) => {
    const key = await importSecret(SECRET);
    const error = await rejection(verifyToken(key, await make()));
    expect(error.status).toBe(401);
    expect(error.closeCode).toBe(4401);
    expect(error.message).toMatch(reason);
  });

  it('tolerates a minute of clock skew for iat', async () => {
    const key = await importSecret(SECRET);
    const token = await sign({ sub: 'a', docs: ['*'], exp: now() + 600, iat: now() + 30 }, SECRET);
    expect((await verifyToken(key, token)).sub).toBe('a');
  });

  it('refuses short secrets and bad mint options', async () => {
    await expect(importSecret('short')).rejects.toThrow(/at least 32/);
    expect(mintProblem({ subject: '', documents: ['*'], canWrite: true, expiresInSeconds: 1 })).toMatch(/subject/);
    expect(mintProblem({ subject: 'a', documents: [], canWrite: true, expiresInSeconds: 1 })).toMatch(/at least one/);
    expect(mintProblem({ subject: 'a', documents: ['*'], canWrite: true, expiresInSeconds: 0 })).toMatch(/lifetime/);
  });

  it('parses lifetimes', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('8h')).toBe(28_800);
    expect(parseDuration('30d')).toBe(2_592_000);
    expect(parseDuration('8x')).toBeNull();
    expect(parseDuration('0')).toBeNull();
    expect(parseDuration('-5m')).toBeNull();
  });
});
