/**
 * Storage backends the server-level suites run against. SQLite needs nothing; PostgreSQL is a
 * throwaway server started for the suite (tests/helpers/services.ts) and stopped afterwards.
 */
export interface Backend {
  name: string;
  /** Starts what the backend needs; resolves with the server environment that selects it. */
  setup(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
}

export const sqliteBackend: Backend = {
  name: 'SQLite',
  async setup() {
    return { env: {}, async teardown() {} };
  },
};

export const postgresBackend: Backend = {
  name: 'PostgreSQL',
  async setup() {
    const { startPostgres } = await import('./services.js');
    const postgres = await startPostgres();
    return { env: { DATABASE_URL: postgres.url }, teardown: () => postgres.stop() };
  },
};

/**
 * PostgreSQL as production runs it: fsync and full_page_writes on (the default backend turns them
 * off for speed, which is safe only while PostgreSQL itself never crashes).
 */
export const durablePostgresBackend: Backend = {
  name: 'PostgreSQL (durable: fsync on)',
  async setup() {
    const { startPostgres } = await import('./services.js');
    const postgres = await startPostgres({ durable: true });
    return { env: { DATABASE_URL: postgres.url }, teardown: () => postgres.stop() };
  },
};

export const backends: Backend[] = [sqliteBackend, postgresBackend];
