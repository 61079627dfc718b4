/**
 * Revocation beyond one instance and through the real CLI (docs/security.md, "Expiry and
 * revocation"): instances that share REVOCATION_FILE share revocations; a file that turns malformed
 * while servers run keeps the previous list in force; `npm run token -- revoke` by token and by id,
 * and its refusals of bad flags (exit status 2 and the reason), each in a child process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { counter } from '../helpers/metrics.js';
import { baseEnv, tempDir, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, closed, open, startSecureServer, token, upgrade } from './security-harness.js';

const CLI = path.resolve('dist/server/cli/token.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command as its own process and resolves with its exit status and output (never rejects on a non-zero status). */
async function runProcess(command: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { env: { ...baseEnv(), ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('two instances sharing one REVOCATION_FILE', () => {
  const shared = path.join(tempDir('collab-revocations-'), 'revoked-tokens.json');
  let a: ServerProcess;
  let b: ServerProcess;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    // Separate data directories (each its own SQLite file): only the revocation file is shared.
    [a, b] = await Promise.all([startSecureServer({ REVOCATION_FILE: shared }), startSecureServer({ REVOCATION_FILE: shared })]);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await Promise.all([a?.kill(), b?.kill()]);
  });
  const connect = async (server: ServerProcess, t: string) => {
    const socket = await open(`${server.syncUrl}/shared-doc?token=${t}`);
    sockets.push(socket);
    return socket;
  };
  const revokedOn = (server: ServerProcess) => counter(server.httpUrl, 'collab_refused_total', '{reason="token revoked"}');

  it('an API revocation on one instance closes the connection on the other (4401) within its poll interval', async () => {
    const victim = await token({ subject: 'frank', tokenId: 'frank-laptop' });
    const bystander = await token({ subject: 'frank', tokenId: 'frank-phone' });
    const onB = await connect(b, victim);
    const survivor = await connect(b, bystander);
    const revokedBefore = await revokedOn(b);

    // B polls the file every 500 ms: the deadline is that plus a margin for a loaded machine.
    const whenClosed = closed(onB, 500 + 4_500);
    const admin = await token({ subject: 'ops', admin: true });
    const response = await fetch(`${a.httpUrl}/api/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ tokenId: 'frank-laptop' }),
    });
    expect(response.status).toBe(200);
    expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
    expect((await revokedOn(b)) - revokedBefore).toBe(1);
    // Both instances refuse it from now on; the other token of the same subject is untouched.
    for (const server of [a, b]) expect(await upgrade(`${server.syncUrl}/shared-doc?token=${victim}`)).toMatchObject({ status: 401, reason: 'token revoked' });
    expect(survivor.readyState).toBe(survivor.OPEN);
  });

  it('keeps the previous list in force when the file turns malformed, logs an error, and picks up the next valid file', async () => {
    const revoked = await token({ subject: 'gina', tokenId: 'gina-old' });
    const admin = await token({ subject: 'ops', admin: true });
    const response = await fetch(`${a.httpUrl}/api/auth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ tokenId: 'gina-old' }),
    });
    expect(response.status).toBe(200);
    await waitFor(async () => (await upgrade(`${b.syncUrl}/shared-doc?token=${revoked}`)).status === 401, 'B to have read the revocation');
    const valid = fs.readFileSync(shared, 'utf8');
    expect(JSON.parse(valid).tokens).toHaveProperty('gina-old');

    // The file turns malformed (a bad edit, a half-copied volume): both instances say so...
    const errorsBefore = [a, b].map((server) => server.logs.filter((line) => line.includes('revocation file unreadable')).length);
    fs.writeFileSync(shared, '{ "version": 1, "tokens": { "gina-old": ');
    for (const [i, server] of [a, b].entries()) {
      await waitFor(() => server.logs.filter((line) => line.includes('revocation file unreadable')).length > errorsBefore[i]!, `instance ${i} to log the malformed file`);
      const line = server.logs.filter((entry) => entry.includes('revocation file unreadable')).at(-1)!;
      expect(JSON.parse(line)).toMatchObject({ level: 50, msg: 'revocation file unreadable; keeping the previous list' });
    }
    // ...and keep what they had: the revoked token stays revoked, other tokens still work.
    for (const server of [a, b]) {
      expect(await upgrade(`${server.syncUrl}/shared-doc?token=${revoked}`)).toMatchObject({ status: 401, reason: 'token revoked' });
      const fine = await upgrade(`${server.syncUrl}/shared-doc?token=${await token({ subject: 'gina', tokenId: 'gina-new' })}`);
      expect(fine.status).toBe(101);
      fine.socket!.terminate();
    }

    // A valid file again (with one more revocation) is read as usual: polling did not stop.
    const live = await connect(b, await token({ subject: 'hank', tokenId: 'hank-1' }));
    const whenClosed = closed(live, 500 + 4_500);
    const repaired = JSON.parse(valid) as { tokens: Record<string, number> };
    repaired.tokens['hank-1'] = Math.floor(Date.now() / 1000) + 3600;
    fs.writeFileSync(shared, JSON.stringify(repaired));
    expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
    expect((await upgrade(`${a.syncUrl}/shared-doc?token=${revoked}`)).reason).toBe('token revoked');
  });
});

describe('the token CLI (npm run token -- ...), as a child process', () => {
  let server: ServerProcess;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    server = await startSecureServer();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await server.kill();
  });
  const file = () => path.join(server.dataDir, 'revoked-tokens.json');
  const cli = (...args: string[]) => runProcess(process.execPath, [CLI, ...args], { AUTH_SECRET: SECRET, DATA_DIR: server.dataDir });
  const connect = async (t: string) => {
    const socket = await open(`${server.syncUrl}/cli-doc?token=${t}`);
    sockets.push(socket);
    return socket;
  };

  it('revoke --token <token>: reads the token’s id and expiry, writes the file; the live connection ends with 4401', async () => {
    const victim = await token({ subject: 'ivy', tokenId: 'ivy-tablet', expiresInSeconds: 1800 });
    const other = await connect(await token({ subject: 'ivy', tokenId: 'ivy-desk' }));
    const socket = await connect(victim);
    // The server polls the file every 500 ms: the deadline is that plus a margin for a loaded machine.
    const whenClosed = closed(socket, 500 + 9_500);
    const result = await cli('revoke', '--token', victim);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`revoked token ivy-tablet of ivy in ${file()}\n`);
    expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
    // Kept until the token would have expired anyway: its own exp, read from the token.
    const stored = JSON.parse(fs.readFileSync(file(), 'utf8')) as { tokens: Record<string, number> };
    expect(stored.tokens['ivy-tablet']).toBe(JSON.parse(Buffer.from(victim.split('.')[1]!, 'base64url').toString()).exp);
    expect(stored.tokens).not.toHaveProperty('ivy-desk');
    expect(other.readyState).toBe(other.OPEN);
    expect((await upgrade(`${server.syncUrl}/cli-doc?token=${victim}`)).reason).toBe('token revoked');
  });

  it('revoke --token-id <jti> (run as `npm run token -- ...`): the live connection of that token ends with 4401', async () => {
    const victim = await token({ subject: 'jack', tokenId: 'jack-laptop' });
    const socket = await connect(victim);
    const whenClosed = closed(socket, 500 + 9_500);
    // Through npm and scripts/token.js, exactly as documented (it compiles the CLI first only if
    // the build is older than the sources; `npm test` has just built it).
    const result = await runProcess('npm', ['run', '--silent', 'token', '--', 'revoke', '--token-id', 'jack-laptop'], { AUTH_SECRET: SECRET, DATA_DIR: server.dataDir });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`revoked token jack-laptop in ${file()}\n`);
    expect(await whenClosed).toEqual({ code: 4401, reason: 'token revoked' });
    expect((await upgrade(`${server.syncUrl}/cli-doc?token=${victim}`)).reason).toBe('token revoked');
  });

  it.each([
    ['no arguments', [], 'error: no arguments'],
    ['an unknown command', ['revokee', '--subject', 'x'], 'error: unknown command "revokee"'],
    ['revoke without a target', ['revoke'], 'error: revoke takes exactly one of --token, --token-id, --subject'],
    ['revoke with two targets', ['revoke', '--token-id', 'a', '--subject', 'b'], 'error: revoke takes exactly one of --token, --token-id, --subject'],
    ['revoke with an unknown flag', ['revoke', '--tokenid', 'a'], "error: Unknown option '--tokenid'"],
    ['revoke with a stray argument', ['revoke', '--subject', 'a', 'extra'], 'error: unexpected argument "extra"'],
    ['revoke --token with something that is no token', ['revoke', '--token', 'not-a-token'], 'error: '],
    ['a mint with a bad --expires-in', ['--subject', 'a', '--documents', '*', '--expires-in', '5 minutes'], 'error: --expires-in must look like 90s, 15m, 8h or 30d, got "5 minutes"'],
    ['a mint without --documents', ['--subject', 'a'], "error: --documents is required (e.g. --documents 'team/*', or '*' for all)"],
  ])('refuses %s with exit status 2 and the reason, and writes nothing', async (_what, args, message) => {
    const before = fs.existsSync(file()) ? fs.readFileSync(file(), 'utf8') : null;
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr).toContain('Usage:');
    expect(result.stdout).toBe('');
    expect(fs.existsSync(file()) ? fs.readFileSync(file(), 'utf8') : null).toBe(before);
  });

  it('refuses to run without AUTH_SECRET (exit status 2), naming the variable', async () => {
    const result = await runProcess(process.execPath, [CLI, 'revoke', '--token', await token()], { DATA_DIR: server.dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith('error: AUTH_SECRET is not set: export the same secret the server uses')).toBe(true);
  });
});
