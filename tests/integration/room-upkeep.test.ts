import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../server/logger.js';
import { createMetrics } from '../../server/metrics.js';
import { RoomUpkeep, type LogSize } from '../../server/sync/room-upkeep.js';
import { createSqliteStore } from '../../server/storage/sqlite.js';
import type { DocumentStore } from '../../server/storage/types.js';
import { tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * When the upkeep folds the log: after `compactAfterRows` rows once the log also holds a quarter
 * of the snapshot's bytes, and after ten times as many rows whatever their bytes.
 */
describe('RoomUpkeep compaction', () => {
  const dirs: string[] = [];
  const stores: DocumentStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function upkeepOf(log: LogSize, snapshotBytes: number) {
    const dir = tempDir('collab-upkeep-');
    dirs.push(dir);
    const store = createSqliteStore({ file: path.join(dir, 'collab.sqlite'), synchronous: 'normal' });
    stores.push(store);
    const metrics = createMetrics();
    let seq = 0;
    const upkeep = new RoomUpkeep(log, {
      name: 'doc',
      store,
      metrics: metrics.sync,
      logger: createLogger('silent'),
      compactAfterRows: 10,
      title: () => '',
      text: () => '',
      snapshot: () => ({ update: new Uint8Array(snapshotBytes), seq }),
      settled: () => Promise.resolve(),
      mayCompact: () => true,
    });
    const compactions = async () => (await metrics.sync.compactions.get()).values[0]?.value ?? 0;
    const commit = async (bytes: number) => {
      seq = await store.append('doc', new Uint8Array(bytes));
      upkeep.committed(bytes);
    };
    // A compaction that is due starts at the next turn (setImmediate in committed()): one turn later it runs.
    const settle = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await upkeep.settled;
    };
    return { upkeep, compactions, commit, settle };
  }

  it('folds a small document every compactAfterRows rows', async () => {
    const { upkeep, compactions, commit, settle } = await upkeepOf({ rows: 0, bytes: 0, snapshotBytes: 0 }, 100);
    for (let i = 0; i < 9; i++) await commit(30);
    await settle();
    expect(await compactions()).toBe(0);
    await commit(30);
    await waitFor(async () => (await compactions()) === 1, 'the first compaction');
    // Now the snapshot is 100 bytes: 10 rows of 30 bytes are more than a quarter of it.
    for (let i = 0; i < 10; i++) await commit(30);
    await waitFor(async () => (await compactions()) === 2, 'the second compaction');
    upkeep.stop();
  });

  it('folds a large document once its log holds a quarter of the snapshot, or ten times the rows', async () => {
    // A document loaded with a 100 KB snapshot and no log, typed into 30 bytes at a time.
    const { upkeep, compactions, commit, settle } = await upkeepOf({ rows: 0, bytes: 0, snapshotBytes: 100_000 }, 100_000);
    for (let i = 0; i < 99; i++) await commit(30);
    await settle();
    expect(await compactions()).toBe(0);
    await commit(30);
    await waitFor(async () => (await compactions()) === 1, 'the compaction at ten times the rows');
    // Rows carrying a quarter of the snapshot's bytes fold as soon as there are enough of them.
    for (let i = 0; i < 9; i++) await commit(2_800);
    await settle();
    expect(await compactions()).toBe(1);
    await commit(2_800);
    await waitFor(async () => (await compactions()) === 2, 'the compaction at a quarter of the snapshot');
    upkeep.stop();
  });
});
