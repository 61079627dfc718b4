import { describe, expect, it } from 'vitest';
import { hostName, hostPolicy, hostProblem } from '../../server/auth/hosts.js';
import { originPolicy, originProblem } from '../../server/auth/origin.js';
import { CLOCK_LEEWAY_SECONDS, parseClaims } from '../../server/auth/tokens.js';
import { contentTypeProblem } from '../../server/http/browser-guard.js';
import { contentSecurityPolicy, frameOptions } from '../../server/http/security-headers.js';
import { hiddenPathProblem, inlineScriptHashes } from '../../server/http/static.js';
import { createTokenBuckets } from '../../server/limits/token-bucket.js';
import { nameRange, postgresLike, prefixEnd, sqliteGlob } from '../../server/storage/list-patterns.js';
import { safeHref } from '../../shared/schema.js';

describe('safeHref', () => {
  it('keeps absolute http(s), mailto and tel links and same-origin paths', () => {
    for (const href of ['https://example.com/a?b#c', 'http://example.com', 'HTTPS://EXAMPLE.COM', 'mailto:a@example.com', 'tel:+4912345', '/d/notes', '#top', '?q=1', './x', '../x']) {
      expect(safeHref(href), href).toBe(href);
    }
    expect(safeHref('  https://example.com  ')).toBe('https://example.com');
    expect(safeHref('example.com/page')).toBe('https://example.com/page');
  });

  it('refuses other schemes, protocol-relative and backslash hosts, and whitespace or control-character tricks', () => {
    for (const href of [
      'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', 'ftp://example.com',
      '//evil.example', '///evil.example', '/\\evil.example', '\\\\evil.example', '\\/evil.example', 'https:\\\\evil.example',
      'https:evil.example', 'https:/evil.example', 'https://', '/\t/evil.example', '/\n/evil.example', '/\r/evil.example',
      'java\tscript:alert(1)', 'java\nscript:alert(1)', '\u0001javascript:alert(1)', '/ /evil.example', '/\u00a0/evil.example',
      '/\u2028/evil.example', '\ufeff//evil.example', 'https://exa mple.com', '',
    ]) {
      expect(safeHref(href), JSON.stringify(href)).toBeNull();
    }
  });
});

describe('Host checks (DNS rebinding)', () => {
  const loopback = hostPolicy({ listenHost: '127.0.0.1', publicUrl: null, allowedHosts: null });
  it('a loopback server accepts loopback names and IP literals only', () => {
    for (const host of ['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST', '[::1]:3000', '10.0.0.5', 'app.localhost:5173', undefined]) {
      expect(hostProblem(host, loopback), String(host)).toBeNull();
    }
    expect(hostProblem('evil.example:3000', loopback)).toMatch(/DNS rebinding/);
    expect(hostProblem('localhost.evil.example', loopback)).toMatch(/DNS rebinding/);
    expect(hostProblem('a b', loopback)).toMatch(/malformed/);
  });
  it('PUBLIC_URL and ALLOWED_HOSTS add names; a non-loopback HOST without either accepts any', () => {
    const pub = hostPolicy({ listenHost: '0.0.0.0', publicUrl: 'https://docs.example.com', allowedHosts: ['docs.internal'] });
    expect(hostProblem('docs.example.com', pub)).toBeNull();
    expect(hostProblem('docs.internal:8080', pub)).toBeNull();
    expect(hostProblem('evil.example', pub)).toMatch(/DNS rebinding/);
    expect(hostPolicy({ listenHost: '0.0.0.0', publicUrl: null, allowedHosts: null }).any).toBe(true);
    expect(hostPolicy({ listenHost: '127.0.0.1', publicUrl: null, allowedHosts: ['*'] }).any).toBe(true);
    expect(hostName('Docs.Example.com.:443')).toBe('docs.example.com');
  });
  it('open servers admit only their own origin by default', () => {
    expect(originProblem('https://evil.example', '127.0.0.1:3000', originPolicy(null))).toMatch(/not allowed/);
    expect(originProblem('http://127.0.0.1:3000', '127.0.0.1:3000', originPolicy(null))).toBeNull();
    expect(originProblem('https://docs.example.com', '127.0.0.1:3000', originPolicy(null, 'https://docs.example.com'))).toBeNull();
    expect(originProblem('https://evil.example', 'h', originPolicy(['*']))).toBeNull();
  });
});

describe('API write content types', () => {
  it('requires application/json on writes only', () => {
    expect(contentTypeProblem('GET', undefined)).toBeNull();
    expect(contentTypeProblem('POST', 'application/json; charset=utf-8')).toBeNull();
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      expect(contentTypeProblem('POST', type), String(type)).toMatch(/application\/json/);
    }
    expect(contentTypeProblem('delete', 'text/plain')).toMatch(/DELETE/);
  });
});

describe('security headers and static paths', () => {
  it('builds the CSP from the host and FRAME_ANCESTORS, and never interpolates a strange Host', () => {
    expect(contentSecurityPolicy('docs.example.com', "'self'")).toContain("connect-src 'self' ws://docs.example.com wss://docs.example.com");
    expect(contentSecurityPolicy("x; script-src 'unsafe-inline'", "'self'")).toContain("connect-src 'self';");
    expect(frameOptions("'self'")).toBe('SAMEORIGIN');
    expect(frameOptions("'none'")).toBe('DENY');
    expect(frameOptions('https://a.example')).toBeNull();
  });
  it('hashes inline scripts only', () => {
    const hashes = inlineScriptHashes('<script src="/a.js"></script><script type="module">alert(1)</script>');
    expect(hashes).toEqual(["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]);
  });
  it('refuses dot segments however encoded', () => {
    for (const p of ['/.env', '/a/.git/config', '/%2eenv', '/a%2f.git', '/a\\.git']) expect(hiddenPathProblem(p), p).not.toBeNull();
    expect(hiddenPathProblem('/%zz')).not.toBeNull();
    expect(hiddenPathProblem('/assets/app.1a2b.js')).toBeNull();
  });
});

describe('token time claims', () => {
  const now = 1_800_000_000;
  const base = { sub: 'a', docs: ['*'], exp: now + 60 };
  it('refuses absurd numbers with a 401 naming the claim', () => {
    for (const [claims, reason] of [
      [{ ...base, exp: 1e308 }, /"exp" must be Unix seconds/],
      [{ ...base, exp: -1 }, /"exp" must be Unix seconds/],
      [{ ...base, iat: 1e20 }, /"iat" must be Unix seconds/],
      [{ ...base, nbf: Number.MAX_VALUE }, /"nbf" must be Unix seconds/],
      [{ sub: 'a', docs: ['*'] }, /"exp" \(expiry\) is required/],
    ] as const) {
      expect(() => parseClaims(claims as Record<string, unknown>, now)).toThrow(expect.objectContaining({ status: 401, message: expect.stringMatching(reason) }));
    }
    expect(parseClaims({ ...base, iat: now + CLOCK_LEEWAY_SECONDS }, now).iat).toBe(now + CLOCK_LEEWAY_SECONDS);
  });
});

describe('token buckets (document creation quota)', () => {
  it('grants a burst of capacity, then refills at the rate, per key', () => {
    const buckets = createTokenBuckets({ perMinute: 60, capacity: 3 });
    const t = 1_000_000;
    expect([buckets.take('a', t), buckets.take('a', t), buckets.take('a', t)]).toEqual([null, null, null]);
    expect(buckets.take('a', t)).toBe(1);
    expect(buckets.take('b', t)).toBeNull();
    expect(buckets.take('a', t + 1_000)).toBeNull();
    expect(buckets.take('a', t + 1_000)).toBe(1);
  });
  it('stays bounded under a flood of distinct keys', () => {
    const buckets = createTokenBuckets({ perMinute: 1, capacity: 1, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) buckets.take(`k${i}`, 5);
    expect(buckets.size).toBeLessThanOrEqual(100);
  });
});

describe('list patterns', () => {
  it('computes the range and exact-match patterns', () => {
    expect(nameRange('team/*')).toEqual({ exact: null, prefix: 'team/', prefixEnd: 'team0' });
    expect(nameRange('notes')).toMatchObject({ exact: 'notes' });
    expect(nameRange('*x')).toEqual({ exact: null, prefix: '', prefixEnd: null });
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('\u{D7FF}')).toBe('\u{E000}');
    expect(prefixEnd('\u{10FFFF}')).toBeNull();
    expect(prefixEnd('ü')).toBe('ý');
    expect(sqliteGlob('a?[b]*')).toBe('a[?][[]b]*');
    expect(postgresLike('a%_\\*')).toBe('a\\%\\_\\\\%');
  });
});
