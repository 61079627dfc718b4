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
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite commit thread', () => {
  it('keeps the order of one batch that mixes thread writes with custom writes of the event loop', async () => {
    const dir = tempDir('collab-sqlite-thread-');
    const file = path.join(dir, 'collab.sqlite');
    try {
      const store = createSqliteStore({ file, synchronous: 'full' });
      await store.append('doc', new Uint8Array([0, 0, 1]));
      const version = (seq: number) => ({
        id: `v${seq}`,
        document: 'doc',
        createdAt: Date.now(),
        label: null,
        kind: 'manual' as const,
        authors: ['ann'],
        seq,
        state: new Uint8Array([seq % 256]),
      });
      // All requested in one turn, so they share one batch: ten appends (enough for the thread),
      // a version (event loop), append and delete, a version, an append (refused: deleted before it).
      const appended2 = Promise.all(Array.from({ length: 10 }, (_, i) => store.append('doc', new Uint8Array([0, 0, 2, i]))));
      const added1 = store.versions!.add(version(1));
      const appended3 = store.append('doc', new Uint8Array([0, 0, 3]));
      const deleted = store.delete('doc');
      const added2 = store.versions!.add(version(12));
      const appendedAfter = store.append('doc', new Uint8Array([0, 0, 4])).then(
        () => 'appended',
        (error: Error) => error.name,
      );
      expect(await appended2).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect((await added1).status).toBe('added');
      expect(await appended3).toBe(12);
      expect(await deleted).toBe(true);
      // The version came after the deletion, so there is no document to add it to.
      expect((await added2).status).toBe('no-document');
      expect(await appendedAfter).toBe('DocumentDeletedError');
      // The event loop's connection reads what the thread committed.
      await expect(store.load('doc')).rejects.toThrow('document deleted');
      expect(await store.versions!.list('doc', 10)).toEqual([]);
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers every write after the store closes with an error, and the process can exit', async () => {
    const dir = tempDir('collab-sqlite-thread-close-');
    const file = path.join(dir, 'collab.sqlite');
    try {
      const store = createSqliteStore({ file, synchronous: 'normal' });
      const first = store.append('doc', new Uint8Array([0, 0, 1]));
      await store.close();
      expect(await first).toBe(1);
      await expect(store.append('doc', new Uint8Array([0, 0, 2]))).rejects.toThrow('storage is closed');
      const reopened = createSqliteStore({ file, synchronous: 'normal' });
      expect((await reopened.load('doc')).seq).toBe(1);
      await reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
