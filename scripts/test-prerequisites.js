// `npm test` runs this first: the suite needs Chromium (end-to-end tests), redis-server and the
// PostgreSQL server binaries (multi-instance tests start their own throwaway servers) and nginx
// (the reverse-proxy test of docs/scaling.md). Each missing one is installed with apt-get when this
// machine lets us (root, or passwordless sudo); otherwise we stop at once with the exact command,
// rather than letting the suite fail minutes later (or skip tests) for want of a package.
//
// The tests locate the tools with the same functions (tests/helpers/services.ts, browser.ts,
// cluster-nginx.test.ts), so "present" here means "found by the tests".
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's non-root PATH lacks the sbin directories, where nginx lives. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const PG_ROOT = '/usr/lib/postgresql';

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `env.PATH`, then in `extraDirs`; null if none. */
export function findOnPath(name, env = process.env, extraDirs = []) {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Chromium as the end-to-end tests launch it: CHROMIUM_PATH, or Debian's /usr/bin/chromium. */
export function findChromium(env = process.env) {
  const file = env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return isExecutable(file) ? file : null;
}

export function findRedisServer(env = process.env) {
  return findOnPath('redis-server', env);
}

/**
 * The directory of PostgreSQL's server programs (pg_ctl, initdb, postgres, psql): PG_BIN when set
 * (then only there), else the newest of Debian's /usr/lib/postgresql/<major>/bin.
 */
export function findPgBin(env = process.env) {
  const hasServer = (dir) => ['pg_ctl', 'initdb', 'postgres', 'psql'].every((program) => isExecutable(path.join(dir, program)));
  if (env.PG_BIN) return hasServer(env.PG_BIN) ? env.PG_BIN : null;
  let majors = [];
  try {
    majors = fs.readdirSync(PG_ROOT).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a));
  } catch {
    return null;
  }
  for (const major of majors) {
    const dir = path.join(PG_ROOT, major, 'bin');
    if (hasServer(dir)) return dir;
  }
  return null;
}

/** nginx: NGINX_PATH when set (then only there), else on PATH or in the sbin directories. */
export function findNginx(env = process.env) {
  if (env.NGINX_PATH) return isExecutable(env.NGINX_PATH) ? env.NGINX_PATH : null;
  return findOnPath('nginx', env, SBIN_DIRS);
}

/** Every prerequisite: what the tests need it for, the Debian package that provides it, and where it is. */
export function prerequisites(env = process.env) {
  return [
    { tool: 'chromium', package: 'chromium', usedBy: 'end-to-end tests', lookedFor: env.CHROMIUM_PATH ?? '/usr/bin/chromium (or CHROMIUM_PATH)', found: findChromium(env) },
    { tool: 'redis-server', package: 'redis-server', usedBy: 'multi-instance tests', lookedFor: 'redis-server on PATH', found: findRedisServer(env) },
    { tool: 'PostgreSQL server', package: 'postgresql', usedBy: 'multi-instance tests', lookedFor: `pg_ctl, initdb, postgres and psql in ${env.PG_BIN ? `PG_BIN=${env.PG_BIN}` : `${PG_ROOT}/<version>/bin (or PG_BIN)`}`, found: findPgBin(env) },
    // Minimal images lack it; the TLS tests make their certificates with it.
    { tool: 'openssl', package: 'openssl', usedBy: 'TLS tests', lookedFor: 'openssl on PATH or in /usr/bin', found: findOnPath('openssl', env, ['/usr/bin']) },
    { tool: 'nginx', package: 'nginx-light', usedBy: 'reverse-proxy test', lookedFor: env.NGINX_PATH ? `NGINX_PATH=${env.NGINX_PATH}` : 'nginx on PATH or in /usr/sbin (or NGINX_PATH)', found: findNginx(env) },
  ];
}

/** The command a person runs to install `packages` on Debian/Ubuntu. */
export function manualInstallCommand(packages) {
  return `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`;
}

/**
 * What to do about the missing packages: install them ourselves (the argv of each command to run)
 * when apt-get is there and we are root or may sudo without a password; otherwise stop with the
 * command to run.
 */
export function installPlan({ packages, isRoot, aptGet, passwordlessSudo }) {
  if (packages.length === 0) return { action: 'none' };
  if (aptGet && (isRoot || passwordlessSudo)) {
    // sudo resets the environment, so the non-interactive setting goes on its command line.
    const prefix = isRoot ? [] : ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive'];
    return {
      action: 'install',
      commands: [
        [...prefix, aptGet, 'update'],
        [...prefix, aptGet, 'install', '-y', ...packages],
      ],
    };
  }
  const why = !aptGet ? 'apt-get was not found' : 'this is not root and sudo asks for a password';
  return { action: 'stop', why, command: manualInstallCommand(packages) };
}

function describeMissing(missing) {
  return missing.map((p) => `  - ${p.tool} (Debian package ${p.package}, for the ${p.usedBy}): looked for ${p.lookedFor}`).join('\n');
}

function canSudoWithoutPassword(env) {
  const sudo = findOnPath('sudo', env);
  if (!sudo) return false;
  return spawnSync(sudo, ['-n', 'true'], { stdio: 'ignore', env }).status === 0;
}

/** Checks, installs what it can, and returns the process exit code (0: everything is there). */
export function main(env = process.env, log = console.log, fail = console.error) {
  const missing = prerequisites(env).filter((p) => !p.found);
  if (missing.length === 0) {
    log(`Test prerequisites found: ${prerequisites(env).map((p) => `${p.tool} ${p.found}`).join(', ')}`);
    return 0;
  }
  const packages = missing.map((p) => p.package);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const aptGet = findOnPath('apt-get', env);
  const plan = installPlan({ packages, isRoot, aptGet, passwordlessSudo: !isRoot && aptGet !== null && canSudoWithoutPassword(env) });
  if (plan.action === 'stop') {
    fail(
      `The tests need system packages that are missing:\n${describeMissing(missing)}\n\n` +
        `They cannot be installed from here (${plan.why}). Install them with:\n\n    ${plan.command}\n\n` +
        'then run `npm test` again. (Not Debian/Ubuntu? Install Chromium, Redis, the PostgreSQL server, openssl and nginx\n' +
        'with your package manager; CHROMIUM_PATH, PG_BIN and NGINX_PATH point the tests at other locations.)',
    );
    return 1;
  }
  log(`The tests need system packages that are missing:\n${describeMissing(missing)}\nInstalling them (a few minutes on a fresh machine):`);
  for (const argv of plan.commands) {
    log(`$ ${argv.join(' ')}`);
    try {
      execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (error) {
      fail(`\`${argv.join(' ')}\` failed (${error.message.split('\n')[0]}). Install the packages with:\n\n    ${manualInstallCommand(packages)}\n\nthen run \`npm test\` again.`);
      return 1;
    }
  }
  const stillMissing = prerequisites(env).filter((p) => !p.found);
  if (stillMissing.length > 0) {
    fail(`Installed ${packages.join(' ')}, but these are still not found:\n${describeMissing(stillMissing)}`);
    return 1;
  }
  log('Test prerequisites installed.');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  process.exitCode = main();
}
