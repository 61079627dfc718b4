// `npm run token -- ...`: runs the token CLI (server/cli/token.ts), compiling the server first when
// the build is missing or older than the sources.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStale, root } from './staleness.js';

const cli = path.join(root, 'dist/server/cli/token.js');

if (isStale(['dist/server/cli/token.js'], ['server', 'shared'])) {
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
