import fs from 'node:fs';
import path from 'node:path';

/** Integration tests run the built server (`npm test` builds first); fail early with a clear message if it is missing. */
export default function setup(): void {
  const main = path.resolve('dist/server/main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run the tests with \`npm test\`, which builds first`);
}
