// `npm run token -- ...`: runs the token CLI (server/cli/token.ts), compiling the server first when
// the build is missing or older than the sources.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/server/cli/token.js');

function newestMtime(target) {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

const builtAt = fs.existsSync(cli) ? fs.statSync(cli).mtimeMs : 0;
if (builtAt < Math.max(newestMtime(path.join(root, 'server')), newestMtime(path.join(root, 'shared')))) {
  process.stderr.write('Compiling the server (npm run build:server)...\n');
  try {
    execSync('npx tsc -p tsconfig.server.json', { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (error) {
    // tsc still emits on type errors elsewhere; only a missing CLI is fatal.
    process.stderr.write(String(error.stdout ?? '') + '\n');
    if (!fs.existsSync(cli)) process.exit(1);
  }
}
await import(pathToFileURL(cli).href);
