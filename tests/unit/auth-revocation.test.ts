import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RevocationList, addRevocation, readRevocationFile } from '../../server/auth/revocation.js';
import { SessionTracker } from '../../server/auth/sessions.js';
import { CLOCK_LEEWAY_SECONDS, OPEN_ACCESS, type Access } from '../../server/auth/tokens.js';
import { baseEnv } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'revocations-')), 'revoked.json');
const access = (overrides: Partial<Access> = {}): Access => ({
  subject: 'alice',
  canWrite: true,
  documents: ['*'],
  admin: false,
  authenticated: true,
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  issuedAt: Math.floor(Date.now() / 1000) - 10,
  tokenId: 't1',
  ...overrides,
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the revocation list', () => {
  it('revokes single tokens and every token of a subject issued until then', () => {
    const list = new RevocationList(file());
    list.load();
    expect(list.reasonFor(access())).toBeNull();
    list.revoke({ tokenId: 't1' });
    expect(list.reasonFor(access())).toBe('token revoked');
    expect(list.reasonFor(access({ tokenId: 't2' }))).toBeNull();
    list.revoke({ subject: 'alice' });
    expect(list.reasonFor(access({ tokenId: 't2' }))).toBe('token revoked');
    // A token issued after the revocation is valid, unless its iat lies within the clock leeway (a
    // minter's clock running ahead could have made it before the revocation).
    expect(list.reasonFor(access({ tokenId: 't3', issuedAt: Math.floor(Date.now() / 1000) + CLOCK_LEEWAY_SECONDS + 5 }))).toBeNull();
    expect(list.reasonFor(access({ tokenId: 't5', issuedAt: Math.floor(Date.now() / 1000) + 5 }))).toBe('token revoked');
    expect(list.reasonFor(access({ tokenId: 't4', issuedAt: null }))).toBe('token revoked');
    expect(list.reasonFor(OPEN_ACCESS)).toBeNull();
  });

  it('survives restarts, drops expired single-token entries, and refuses a malformed file', () => {
    const where = file();
    addRevocation(where, { tokenId: 'old', expiresAt: 1 });
    addRevocation(where, { tokenId: 'new', expiresAt: 4_000_000_000 });
    expect(Object.keys(readRevocationFile(where).tokens)).toEqual(['new']);
    const list = new RevocationList(where);
    list.load();
    expect(list.reasonFor(access({ tokenId: 'new' }))).toBe('token revoked');
    fs.writeFileSync(where, '{ nope');
    expect(() => new RevocationList(where).load()).toThrow(/not valid JSON/);
    fs.writeFileSync(where, JSON.stringify({ tokens: { x: 'soon' } }));
    expect(() => new RevocationList(where).load()).toThrow(/tokens.x/);
  });

  it('notices changes another process writes to the file', async () => {
    const where = file();
    const list = new RevocationList(where);
    list.load();
    list.watch();
    // Another process: the real revocation CLI (built into dist/ like the server the other tests run).
    const revokeInChild = (...args: string[]) =>
      execFileSync(process.execPath, [path.resolve('dist/server/cli/token.js'), 'revoke', ...args], {
        env: { ...baseEnv(), REVOCATION_FILE: where },
        stdio: 'pipe',
      });
    // The watcher polls; a write before its first look at the file would not count as a change, so
    // first a probe revocation is written (again, until it is noticed): then the watcher is live.
    await waitFor(
      () => {
        if (list.reasonFor(access({ tokenId: 'probe' })) !== null) return true;
        revokeInChild('--token-id', 'probe');
        return false;
      },
      'the watcher to notice a probe revocation written by a child process',
      10_000,
      300,
    );
    expect(list.reasonFor(access())).toBeNull();
    const changed = new Promise<void>((resolve) => list.onChange(resolve));
    revokeInChild('--subject', 'alice');
    await changed;
    expect(list.reasonFor(access())).toBe('token revoked');
    list.stop();
  });
});

describe('live sessions', () => {
  it('end with 4401 when the token expires', () => {
    vi.useFakeTimers();
    const tracker = new SessionTracker(null);
    const end = vi.fn();
    tracker.track(access({ expiresAt: Math.floor(Date.now() / 1000) + 2 }), end);
    vi.advanceTimersByTime(1_000);
    expect(end).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_500);
    expect(end).toHaveBeenCalledWith(4401, 'token expired');
    expect(tracker.size).toBe(0);
  });

  it('re-arm timers beyond setTimeout’s range, and untracking stops them', () => {
    vi.useFakeTimers();
    const tracker = new SessionTracker(null);
    const end = vi.fn();
    const untrack = tracker.track(access({ expiresAt: Math.floor(Date.now() / 1000) + 40 * 86_400 }), end);
    vi.advanceTimersByTime(30 * 86_400_000);
    expect(end).not.toHaveBeenCalled();
    untrack();
    vi.advanceTimersByTime(20 * 86_400_000);
    expect(end).not.toHaveBeenCalled();
    expect(tracker.size).toBe(0);
  });

  it('end with 4401 when their token is revoked, and only those', () => {
    const list = new RevocationList(file());
    list.load();
    const tracker = new SessionTracker(list);
    const revoked = vi.fn();
    const kept = vi.fn();
    tracker.track(access({ tokenId: 'a' }), revoked);
    tracker.track(access({ tokenId: 'b', subject: 'bob' }), kept);
    tracker.track(OPEN_ACCESS, kept);
    list.revoke({ tokenId: 'a' });
    expect(revoked).toHaveBeenCalledWith(4401, 'token revoked');
    expect(kept).not.toHaveBeenCalled();
    expect(tracker.size).toBe(1);
    tracker.stop();
  });
});
