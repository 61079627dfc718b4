/**
 * scripts/test-prerequisites.js, which `npm test` runs first: it finds the system programs the suite
 * needs where the tests look for them, installs missing ones when it may, and otherwise stops with
 * the exact command. The script is run as a real process with an environment that hides programs;
 * its PATH never contains apt-get there, so these tests cannot install anything.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium, findNginx, findOnPath, findPgBin, findRedisServer, installPlan } from '../../scripts/test-prerequisites.js';
import { CHROMIUM_PATH } from '../helpers/browser.js';
import { findPostgresBinDir, findRedisServerPath } from '../helpers/services.js';

const SCRIPT = path.resolve('scripts/test-prerequisites.js');
const tempDirs: string[] = [];

/** A directory to serve as the whole PATH: holds only the programs linked into it (no apt-get, no sudo). */
function pathWith(programs: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-prereq-path-'));
  tempDirs.push(dir);
  for (const [name, target] of Object.entries(programs)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

function runScript(env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the prerequisite check run by npm test', () => {
  it('passes when every program is where the tests look (npm test put them there)', () => {
    const redis = findRedisServer();
    expect(redis, 'redis-server must be installed for this test (npm test installs it)').not.toBeNull();
    // Still without apt-get on PATH: a unit test must never install packages.
    const result = runScript({ PATH: pathWith({ 'redis-server': redis! }), ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}), ...(process.env.PG_BIN ? { PG_BIN: process.env.PG_BIN } : {}) });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    for (const tool of ['chromium', 'redis-server', 'PostgreSQL server', 'nginx']) expect(result.stdout).toContain(tool);
  });

  it('stops at once with the exact command when nginx is hidden and apt-get is out of reach', () => {
    const redis = findRedisServer();
    expect(redis, 'redis-server must be installed for this test (npm test installs it)').not.toBeNull();
    const result = runScript({ PATH: pathWith({ 'redis-server': redis! }), NGINX_PATH: '/nonexistent/nginx' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('nginx (Debian package nginx-light');
    expect(result.stderr).toContain('apt-get was not found');
    expect(result.stderr).toContain('    sudo apt-get update && sudo apt-get install -y nginx-light\n');
    // Only what is missing is named: the others were found.
    for (const present of ['chromium (', 'redis-server (', 'PostgreSQL server (']) expect(result.stderr).not.toContain(present);
  });

  it('names every missing package in one command', () => {
    const result = runScript({ PATH: pathWith({}), NGINX_PATH: '/nonexistent/nginx', CHROMIUM_PATH: '/nonexistent/chromium', PG_BIN: '/nonexistent/pg' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('sudo apt-get update && sudo apt-get install -y chromium redis-server postgresql nginx-light');
  });

  it('installs with apt-get when root or allowed to sudo without a password, and otherwise stops', () => {
    const packages = ['redis-server', 'nginx-light'];
    expect(installPlan({ packages, isRoot: true, aptGet: '/usr/bin/apt-get', passwordlessSudo: false })).toEqual({
      action: 'install',
      commands: [
        ['/usr/bin/apt-get', 'update'],
        ['/usr/bin/apt-get', 'install', '-y', 'redis-server', 'nginx-light'],
      ],
    });
    expect(installPlan({ packages, isRoot: false, aptGet: '/usr/bin/apt-get', passwordlessSudo: true })).toEqual({
      action: 'install',
      commands: [
        ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', '/usr/bin/apt-get', 'update'],
        ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', '/usr/bin/apt-get', 'install', '-y', 'redis-server', 'nginx-light'],
      ],
    });
    const command = 'sudo apt-get update && sudo apt-get install -y redis-server nginx-light';
    expect(installPlan({ packages, isRoot: false, aptGet: '/usr/bin/apt-get', passwordlessSudo: false })).toEqual({ action: 'stop', why: 'this is not root and sudo asks for a password', command });
    expect(installPlan({ packages, isRoot: true, aptGet: null, passwordlessSudo: false })).toEqual({ action: 'stop', why: 'apt-get was not found', command });
    expect(installPlan({ packages: [], isRoot: true, aptGet: '/usr/bin/apt-get', passwordlessSudo: false })).toEqual({ action: 'none' });
  });

  it('finds the programs exactly where the tests use them', () => {
    // services.ts repeats the lookup (bench/cluster compiles it, without the script): the two must agree.
    expect(findPostgresBinDir()).toBe(findPgBin());
    expect(findPostgresBinDir({ PG_BIN: '/nonexistent/pg' })).toBeNull();
    expect(findPgBin({ PG_BIN: '/nonexistent/pg' })).toBeNull();
    expect(findRedisServerPath()).toBe(findRedisServer());
    const emptyPath = pathWith({});
    expect(findRedisServerPath({ PATH: emptyPath })).toBeNull();
    expect(findRedisServer({ PATH: emptyPath })).toBeNull();
    expect(findChromium()).toBe(CHROMIUM_PATH);
    // nginx is found outside PATH too (Debian's non-root PATH lacks /usr/sbin), and NGINX_PATH is authoritative.
    expect(findNginx({ PATH: emptyPath })).not.toBeNull();
    expect(findNginx({ PATH: emptyPath, NGINX_PATH: '/nonexistent/nginx' })).toBeNull();
    expect(findOnPath('apt-get', { PATH: emptyPath })).toBeNull();
  });
});
