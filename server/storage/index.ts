import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createSqliteStore } from './sqlite.js';
import type { DocumentStore } from './types.js';

export type { DocumentStore } from './types.js';

/**
 * The storage backend the configuration asks for: PostgreSQL when DATABASE_URL is set (required
 * for several instances on several machines), otherwise the embedded SQLite file in DATA_DIR.
 */
export async function createStore(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'dataDir' | 'sqliteSynchronous'>,
  logger?: Logger,
): Promise<DocumentStore> {
  if (config.databaseUrl) {
    // Imported only when used: the pg driver adds ~15 MB of resident memory to every process.
    const { createPostgresStore } = await import('./postgres.js');
    return createPostgresStore({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize,
      onError: (error) => logger?.warn({ err: error }, 'PostgreSQL connection lost; it will be replaced'),
    });
  }
  return createSqliteStore({ file: path.join(config.dataDir, 'collab.sqlite'), synchronous: config.sqliteSynchronous });
}
