import fs from 'node:fs';
import path from 'node:path';
import { createSqliteStore } from '../../server/storage/sqlite.js';
import { tempDir } from '../helpers/server.js';
import { describeStoreContract } from './storage-contract.js';

describeStoreContract('SQLite', async () => {
  const dir = tempDir('collab-sqlite-');
  const file = path.join(dir, 'collab.sqlite');
  return {
    open: async () => createSqliteStore({ file, synchronous: 'normal' }),
    dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
