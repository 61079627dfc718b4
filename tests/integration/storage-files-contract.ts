/**
 * The files part of the storage contract (server/storage/file-store.ts), run by
 * describeStoreContract on every backend: files belong to an existing document, are deleted with
 * it, are shared by instances, and the sweep's bookkeeping keeps or deletes them by the clock it is given.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NewFile } from '../../server/storage/file-store.js';
import type { DocumentStore } from '../../server/storage/types.js';

const HOUR = 3_600_000;

function file(document: string, content: string): NewFile {
  const bytes = new TextEncoder().encode(content);
  return { document, id: createHash('sha256').update(bytes).digest('base64url'), type: 'image/png', width: 2, height: 3, bytes };
}

export function describeFileStoreContract(ctx: { store(): DocumentStore; open(): Promise<DocumentStore> }): void {
  describe('files', () => {
    it('stores files of existing documents only, once per content, and serves them to every instance', async () => {
      const store = ctx.store();
      const files = store.files!;
      const a = file('team/notes', 'first image bytes');
      expect(await files.put(a, 1_000)).toBeNull(); // no such document
      await store.create('team/notes', '');
      const stored = await files.put(a, 1_000);
      expect(stored).toEqual({
        created: true,
        info: { document: 'team/notes', id: a.id, type: 'image/png', size: a.bytes.byteLength, width: 2, height: 3, createdAt: 1_000, unreferencedSince: 1_000 },
      });
      // The same bytes again: the same file, its grace period starting again.
      expect(await files.put(a, 5_000)).toMatchObject({ created: false, info: { createdAt: 1_000, unreferencedSince: 5_000 } });
      const other = await ctx.open();
      const fetched = await other.files!.get('team/notes', a.id);
      expect(Buffer.from(fetched!.bytes).equals(Buffer.from(a.bytes))).toBe(true);
      expect(fetched).toMatchObject({ type: 'image/png', width: 2, height: 3 });
      expect(await other.files!.get('team/other', a.id)).toBeNull();
      expect(await other.files!.get('team/notes', file('x', 'nope').id)).toBeNull();
      const b = file('team/notes', 'second image bytes');
      await other.files!.put(b, 2_000);
      expect((await files.list('team/notes')).map((info) => info.id)).toEqual([a.id, b.id]);
    });

    it('keeps binary content exactly (every byte value, 1 MiB)', async () => {
      const store = ctx.store();
      await store.create('binary', '');
      const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 7919) % 256);
      const id = createHash('sha256').update(bytes).digest('base64url');
      await store.files!.put({ document: 'binary', id, type: 'image/webp', width: 1, height: 1, bytes }, 1);
      expect(Buffer.from((await store.files!.get('binary', id))!.bytes).equals(Buffer.from(bytes))).toBe(true);
    });

    it('deletes the files of a deleted document with it, and refuses new ones until it is created again', async () => {
      const store = ctx.store();
      await store.create('doomed', '');
      await store.create('kept', '');
      const doomed = file('doomed', 'a picture');
      const kept = file('kept', 'a picture');
      await store.files!.put(doomed, 1);
      await store.files!.put(kept, 1);
      expect(await store.delete('doomed')).toBe(true);
      expect(await store.files!.get('doomed', doomed.id)).toBeNull();
      expect(await store.files!.list('doomed')).toEqual([]);
      expect(await store.files!.put(doomed, 2)).toBeNull();
      expect(await store.files!.get('kept', kept.id)).not.toBeNull();
      expect(await store.files!.documentsWithFiles('', 10)).toEqual(['kept']);
      expect(await store.create('doomed', '')).toBe(true);
      expect(await store.files!.list('doomed')).toEqual([]);
    });

    it('walks the documents with files in name order, a page at a time', async () => {
      const store = ctx.store();
      for (const name of ['c', 'a', 'b/1', 'B', 'none']) await store.create(name, '');
      for (const name of ['c', 'a', 'b/1', 'B']) await store.files!.put(file(name, `bytes of ${name}`), 1);
      expect(await store.files!.documentsWithFiles('', 2)).toEqual(['B', 'a']);
      expect(await store.files!.documentsWithFiles('a', 2)).toEqual(['b/1', 'c']);
      expect(await store.files!.documentsWithFiles('c', 2)).toEqual([]);
    });

    it('sweeps by the clock it is given: referenced files stay, unreferenced ones go once their grace period is over', async () => {
      const store = ctx.store();
      const files = store.files!;
      const grace = 24 * HOUR;
      await store.create('swept', '');
      const t0 = 1_000_000_000;
      const used = file('swept', 'used');
      const abandoned = file('swept', 'uploaded, never inserted');
      const removed = file('swept', 'inserted, then removed');
      for (const f of [used, abandoned, removed]) await files.put(f, t0);
      const sweep = (referenced: string[], now: number) => files.sweep('swept', new Set(referenced), now, now - grace);
      const ids = async () => (await files.list('swept')).map((info) => info.id).sort();

      // An hour later: nothing is old enough to go.
      expect(await sweep([used.id, removed.id], t0 + HOUR)).toEqual({ deleted: [], pending: 1 });
      expect((await files.list('swept')).find((info) => info.id === used.id)!.unreferencedSince).toBeNull();
      // The image is removed from the document two hours in: its grace period starts when a sweep sees it.
      expect(await sweep([used.id], t0 + 2 * HOUR)).toEqual({ deleted: [], pending: 2 });
      expect((await files.list('swept')).find((info) => info.id === removed.id)!.unreferencedSince).toBe(t0 + 2 * HOUR);
      // A day after the upload: the never inserted one goes, the removed one has an hour left.
      expect(await sweep([used.id], t0 + grace)).toEqual({ deleted: [abandoned.id], pending: 1 });
      // Undo brought the removed image back before its time was up: it stays, and its mark is cleared.
      expect(await sweep([used.id, removed.id], t0 + grace + HOUR / 2)).toEqual({ deleted: [], pending: 0 });
      expect(await ids()).toEqual([used.id, removed.id].sort());
      // Removed again for good: a day after that sweep saw it, it goes.
      expect(await sweep([used.id], t0 + 2 * grace)).toEqual({ deleted: [], pending: 1 });
      expect(await sweep([used.id], t0 + 3 * grace - 1)).toEqual({ deleted: [], pending: 1 });
      expect(await sweep([used.id], t0 + 3 * grace)).toEqual({ deleted: [removed.id], pending: 0 });
      expect(await ids()).toEqual([used.id]);
      // Ids that are not files of the document are ignored.
      expect(await sweep([used.id, 'not-a-file'], t0 + 4 * grace)).toEqual({ deleted: [], pending: 0 });
    });
  });
}
