import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../../server/storage/index.js';
import { startPostgres, type PostgresService } from '../helpers/services.js';
import { describeStoreContract } from './storage-contract.js';

let postgres: PostgresService;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeStoreContract('PostgreSQL', async () => {
  // A fresh database per test, created and migrated by the store itself.
  const url = await postgres.createDatabase();
  return {
    open: () => createStore({ databaseUrl: url, databasePoolSize: 4, dataDir: '/nonexistent', sqliteSynchronous: 'full' }),
    dispose: async () => {},
  };
});
