/**
 * The version part of the storage contract (server/storage/version-store.ts), run by
 * describeStoreContract on every backend.
 */
import { describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../server/storage/types.js';
import type { NewVersion } from '../../server/storage/version-store.js';

const bytes = (s: string) => new TextEncoder().encode(s);
let counter = 0;
const version = (fields: Partial<NewVersion> & { document: string }): NewVersion => ({
  id: `v_${String(++counter).padStart(16, '0')}`,
  createdAt: 1_000_000,
  label: null,
  kind: 'automatic',
  authors: ['alice'],
  seq: 1,
  state: bytes(`state ${counter}`),
  ...fields,
});

export function describeVersionStoreContract(ctx: { store(): DocumentStore; open(): Promise<DocumentStore> }): void {
  describe('versions', () => {
    it('stores versions of existing documents, lists them newest first, reads their state byte for byte', async () => {
      const store = ctx.store();
      const versions = store.versions!;
      expect(await versions.add(version({ document: 'missing' }))).toEqual({ status: 'no-document' });
      await store.append('doc', bytes('1'));
      const state = new Uint8Array(50_000).map((_, i) => (i * 31) % 256);
      const first = await versions.add(version({ document: 'doc', seq: 1, createdAt: 1_000, state }));
      expect(first).toMatchObject({ status: 'added', version: { document: 'doc', seq: 1, createdAt: 1_000, bytes: 50_000, kind: 'automatic', label: null, authors: ['alice'] } });
      const named = await versions.add(version({ document: 'doc', seq: 1, createdAt: 2_000, kind: 'manual', label: 'Sent to legal', authors: ['bob'] }));
      expect(named.status).toBe('added');
      const listed = await versions.list('doc', 10);
      expect(listed.map((v) => v.label)).toEqual(['Sent to legal', null]);
      expect(await versions.list('doc', 1)).toHaveLength(1);
      const read = await versions.read('doc', listed[1]!.id);
      expect(Buffer.from(read!.state).equals(Buffer.from(state))).toBe(true);
      expect(await versions.read('other', listed[1]!.id)).toBeNull();
      expect(await versions.read('doc', 'v_nothing')).toBeNull();
    });

    it('refuses automatic versions that repeat a state, merging their authors, and keeps them apart by the spacing', async () => {
      const store = ctx.store();
      const versions = store.versions!;
      await store.append('doc', bytes('1'));
      await store.append('doc', bytes('2'));
      expect((await versions.add(version({ document: 'doc', seq: 2, createdAt: 10_000, authors: ['alice'] }))).status).toBe('added');
      // Another instance at the same seq: covered, its author merged in.
      expect(await versions.add(version({ document: 'doc', seq: 2, createdAt: 10_001, authors: ['bob'] }))).toMatchObject({ status: 'covered', version: { authors: ['alice', 'bob'] } });
      await store.append('doc', bytes('3'));
      // Newer seq but within the spacing of the last automatic version.
      expect(await versions.add(version({ document: 'doc', seq: 3, createdAt: 10_500, authors: ['carol'] }), { minSpacingMs: 1_000 })).toMatchObject({
        status: 'too-soon',
        version: { authors: ['alice', 'bob', 'carol'] },
      });
      // The same content as the newest version (edits that undid each other).
      const newest = (await versions.list('doc', 1))[0]!;
      const same = (await versions.read('doc', newest.id))!.state;
      expect((await versions.add(version({ document: 'doc', seq: 3, createdAt: 20_000, state: same }))).status).toBe('unchanged');
      expect((await versions.add(version({ document: 'doc', seq: 3, createdAt: 20_000 }), { minSpacingMs: 1_000 })).status).toBe('added');
      // Manual and restore versions are always stored.
      expect((await versions.add(version({ document: 'doc', seq: 3, createdAt: 20_001, kind: 'restore', state: same }))).status).toBe('added');
      expect((await versions.list('doc', 10)).map((v) => v.seq)).toEqual([3, 3, 2]);
    });

    it('records one automatic version when two instances race for the same state', async () => {
      const other = await ctx.open();
      const store = ctx.store();
      await store.append('race', bytes('1'));
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? store : other).versions!.add(version({ document: 'race', seq: 1, createdAt: 5_000 + i, authors: [`user${i}`] }), { minSpacingMs: 1_000 })),
      );
      expect(outcomes.filter((o) => o.status === 'added')).toHaveLength(1);
      const [only] = await store.versions!.list('race', 10);
      expect(only!.authors.sort()).toEqual(['user0', 'user1', 'user2', 'user3', 'user4', 'user5']);
    });

    it('names versions, thins only unnamed ones, and deletes them with their document', async () => {
      const store = ctx.store();
      const versions = store.versions!;
      await store.append('doc', bytes('1'));
      const a = await versions.add(version({ document: 'doc', seq: 1, kind: 'manual' }));
      const b = await versions.add(version({ document: 'doc', seq: 1, kind: 'manual' }));
      if (a.status !== 'added' || b.status !== 'added') throw new Error('not added');
      expect(await versions.setLabel('doc', a.version.id, 'Keep')).toMatchObject({ id: a.version.id, label: 'Keep' });
      expect(await versions.setLabel('doc', 'v_nothing', 'Keep')).toBeNull();
      expect(await versions.setLabel('other', a.version.id, 'Keep')).toBeNull();
      expect(await versions.thin('doc', [a.version.id, b.version.id])).toBe(1);
      expect((await versions.list('doc', 10)).map((v) => v.id)).toEqual([a.version.id]);
      expect(await store.delete('doc')).toBe(true);
      expect(await versions.list('doc', 10)).toEqual([]);
      expect(await versions.add(version({ document: 'doc', kind: 'manual' }))).toEqual({ status: 'no-document' });
      await store.create('doc', '');
      expect(await versions.list('doc', 10)).toEqual([]);
    });
  });
}
