/**
 * Hocuspocus 4 as shipped, on 127.0.0.1:PORT; with its SQLite extension when SQLITE_FILE is set.
 * Its own signal handler stores pending documents and exits on SIGTERM.
 */
import { SQLite } from '@hocuspocus/extension-sqlite';
import { Server } from '@hocuspocus/server';

const sqliteFile = process.env.SQLITE_FILE;
const server = new Server({
  port: Number(process.env.PORT ?? 0),
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  extensions: sqliteFile ? [new SQLite({ database: sqliteFile })] : [],
});
await server.listen();
