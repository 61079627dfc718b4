// Shared by the npm scripts that build on demand: is a build output older than its sources?
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(target) {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** True when any output (paths relative to the root) is missing or older than the newest source. */
export function isStale(outputs, sources) {
  const builtAt = Math.min(...outputs.map((file) => (fs.existsSync(path.join(root, file)) ? fs.statSync(path.join(root, file)).mtimeMs : 0)));
  return builtAt < Math.max(...sources.map((source) => newestMtime(path.join(root, source))));
}
