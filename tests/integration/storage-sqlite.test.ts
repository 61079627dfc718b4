import { describe, expect, it } from 'vitest';
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

describe('SQLite write pacing', () => {
  it('commits every write, in order, when many small commits are paced and the store closes meanwhile', async () => {
    const dir = tempDir('collab-sqlite-pacing-');
    const file = path.join(dir, 'collab.sqlite');
    try {
      const store = createSqliteStore({ file, synchronous: 'full' });
      // One append per event-loop turn: each would be its own commit, far more than the burst.
      const appended: Array<Promise<number>> = [];
      for (let i = 0; i < 120; i++) {
        appended.push(store.append(`doc-${i % 3}`, new Uint8Array([0, 0, i])));
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Closing while a paced commit is still waiting must commit it, not drop it.
      await store.close();
      const seqs = await Promise.all(appended);
      for (let d = 0; d < 3; d++) expect(seqs.filter((_, i) => i % 3 === d)).toEqual(Array.from({ length: 40 }, (_, k) => k + 1));

      const reopened = createSqliteStore({ file, synchronous: 'full' });
      try {
        for (let d = 0; d < 3; d++) {
          const stored = await reopened.load(`doc-${d}`);
          expect(stored.seq).toBe(40);
          expect(stored.updates.map((update) => update[2])).toEqual(Array.from({ length: 40 }, (_, k) => k * 3 + d));
        }
        // Closing must have cleared its paced commit with the right function: clearing a timeout
        // with clearImmediate upsets Node's immediates, and this commit (an immediate) never ran.
        expect(await reopened.append('doc-0', new Uint8Array([0, 0, 200]))).toBe(41);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
