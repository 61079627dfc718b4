import { describe, expect, it } from 'vitest';
import { AuthError, Authenticator, queryValue, tokenFromRequest, type RequestHead } from '../../server/auth/authenticator.js';

const ALL = ['authorization', 'subprotocol', 'query', 'cookie'] as const;
const request = (url: string, headers: RequestHead['headers'] = {}): RequestHead => ({ url, headers });

describe('credentials of a request, whatever parsed it', () => {
  it('finds the token in each place, the first place in the given order winning', () => {
    expect(tokenFromRequest(request('/sync/d', { authorization: 'Bearer a.b.c' }), ALL)).toEqual({ token: 'a.b.c', source: 'authorization' });
    expect(tokenFromRequest(request('/sync/d', { 'sec-websocket-protocol': 'collab, collab.token.x.y.z' }), ALL)).toEqual({ token: 'x.y.z', source: 'subprotocol' });
    expect(tokenFromRequest(request('/sync/d?other=1&token=q.r.s'), ALL)).toEqual({ token: 'q.r.s', source: 'query' });
    expect(tokenFromRequest(request('http://host/sync/d?token=abs'), ALL)).toEqual({ token: 'abs', source: 'query' });
    expect(tokenFromRequest(request('/sync/d', { cookie: 'other=1; collab_token=c.d.e' }), ALL)).toEqual({ token: 'c.d.e', source: 'cookie' });
    const everywhere = request('/sync/d?token=q', { authorization: 'Bearer a', cookie: 'collab_token=c' });
    expect(tokenFromRequest(everywhere, ALL)?.source).toBe('authorization');
    expect(tokenFromRequest(everywhere, ['cookie', 'query'])?.source).toBe('cookie');
    expect(tokenFromRequest(request('/sync/d?token='), ALL)).toBeNull();
  });

  it('refuses an Authorization header that is not a Bearer token', () => {
    expect(() => tokenFromRequest(request('/', { authorization: 'Basic abc' }), ALL)).toThrow(AuthError);
  });

  it('reads the query of a request target without being fooled by a fragment', () => {
    expect(queryValue('/p?token=a%2Bb&x', 'token')).toBe('a+b');
    expect(queryValue('/p?x=1#token=no', 'token')).toBeUndefined();
    expect(queryValue('/p', 'token')).toBeUndefined();
  });

  it('checks the Origin against the allow-list and the Host header of the same request', () => {
    const auth = new Authenticator({ secret: null, allowedOrigins: ['https://app.example'], revocationFile: '' });
    expect(() => auth.checkOrigin(request('/', { origin: 'http://docs.example:8080', host: 'docs.example:8080' }))).not.toThrow();
    expect(() => auth.checkOrigin(request('/', { origin: 'https://app.example', host: 'docs.example' }))).not.toThrow();
    expect(() => auth.checkOrigin(request('/', { host: 'docs.example' }))).not.toThrow();
    expect(() => auth.checkOrigin(request('/', { origin: 'https://evil.example', host: 'docs.example' }))).toThrow(/not allowed/);
    auth.stop();
  });
});
