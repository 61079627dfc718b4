// `npm start`: builds the server and the client when the build is missing or older than the
// sources, then runs the server in this process.
import { execSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isStale, root } from './staleness.js';

process.chdir(root);
if (isStale(['dist/server/main.js', 'dist/client/index.html'], ['server', 'shared', 'client', 'vite.config.ts', 'package.json'])) {
  console.log('Building the server and the client (first start, or sources changed)...');
  execSync('npm run build', { stdio: 'inherit' });
}
await import(pathToFileURL(path.join(root, 'dist/server/main.js')).href);
