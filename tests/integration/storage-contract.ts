/**
 * The one contract every DocumentStore backend passes (server/storage/types.ts). A backend's test
 * file calls `describeStoreContract` with a factory of fresh, empty storage locations.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DocumentDeletedError, type DocumentStore } from '../../server/storage/types.js';
import { describeFileStoreContract } from './storage-files-contract.js';
import { describeVersionStoreContract } from './storage-versions-contract.js';
import { describeWebhookOutboxContract } from './storage-webhooks-contract.js';

export interface StoreBackend {
  /** Opens a store on this location; every call opens the same data (as another instance would). */
  open(): Promise<DocumentStore>;
  /** Removes the location (stores opened on it are closed by the suite first). */
  dispose(): Promise<void>;
}

/** An update that appends `text` to the document's "t" text, as a client's edit would. */
function edit(doc: Y.Doc, text: string): Uint8Array {
  let update: Uint8Array | null = null;
  const capture = (u: Uint8Array) => {
    update = u;
  };
  doc.once('update', capture);
  doc.getText('t').insert(doc.getText('t').length, text);
  return update!;
}

/** The text of a document rebuilt from what storage returns. */
function rebuild(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): string {
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const update of stored.updates) Y.applyUpdate(doc, update);
  const text = doc.getText('t').toString();
  doc.destroy();
  return text;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function describeStoreContract(label: string, createBackend: () => Promise<StoreBackend>): void {
  describe(`DocumentStore contract: ${label}`, () => {
    let backend: StoreBackend;
    let store: DocumentStore;
    const opened: DocumentStore[] = [];
    const open = async () => {
      const s = await backend.open();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      backend = await createBackend();
      store = await open();
    });

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await backend.dispose();
    });

    it('names its kind and answers check()', async () => {
      expect(typeof store.kind).toBe('string');
      await store.check();
    });

    it('loads a document that does not exist as empty', async () => {
      expect(await store.load('nothing')).toEqual({ snapshot: null, updates: [], seq: 0 });
      expect(await store.readSince('nothing', 0)).toEqual({ snapshot: null, updates: [], seq: 0 });
      expect(await store.logLength('nothing')).toBe(0);
      expect(await store.info('nothing')).toBeNull();
    });

    it('numbers appends 1, 2, 3... per document and loads them in order', async () => {
      expect(await store.append('a', bytes('a1'))).toBe(1);
      expect(await store.append('a', bytes('a2'))).toBe(2);
      expect(await store.append('b', bytes('b1'))).toBe(1);
      expect(await store.append('a', bytes('a3'))).toBe(3);
      const a = await store.load('a');
      expect(a.snapshot).toBeNull();
      expect(a.updates.map(text)).toEqual(['a1', 'a2', 'a3']);
      expect(a.seq).toBe(3);
      expect((await store.load('b')).updates.map(text)).toEqual(['b1']);
      expect(await store.logLength('a')).toBe(3);
    });

    it('keeps sequence numbers gap-free and in commit order under concurrent appends from two stores', async () => {
      const other = await open();
      const appends = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? store : other).append('doc', bytes(`u${i}`)));
      const seqs = await Promise.all(appends);
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      const loaded = await store.load('doc');
      expect(loaded.seq).toBe(60);
      // Row n holds the update whose append resolved with n.
      const bySeq = new Map(seqs.map((seq, i) => [seq, `u${i}`]));
      expect(loaded.updates.map(text)).toEqual(Array.from({ length: 60 }, (_, i) => bySeq.get(i + 1)));
      const since = await other.readSince('doc', 0);
      expect(since.updates.map((row) => row.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    });

    it('reads the rows after a sequence number', async () => {
      for (let i = 1; i <= 5; i++) await store.append('doc', bytes(`u${i}`));
      const since = await store.readSince('doc', 3);
      expect(since.snapshot).toBeNull();
      expect(since.updates.map((row) => [row.seq, text(row.update)])).toEqual([
        [4, 'u4'],
        [5, 'u5'],
      ]);
      expect(since.seq).toBe(5);
      expect(await store.readSince('doc', 5)).toEqual({ snapshot: null, updates: [], seq: 5 });
    });

    it('compacts: the snapshot replaces the rows it covers, later rows stay', async () => {
      const doc = new Y.Doc();
      for (let i = 1; i <= 6; i++) await store.append('doc', edit(doc, `${i}`));
      const atFour = new Y.Doc();
      const loaded = await store.load('doc');
      for (const update of loaded.updates.slice(0, 4)) Y.applyUpdate(atFour, update);
      await store.compact('doc', Y.encodeStateAsUpdate(atFour), 4);

      expect(await store.logLength('doc')).toBe(2);
      const after = await store.load('doc');
      expect(after.snapshot).not.toBeNull();
      expect(after.updates).toHaveLength(2);
      expect(after.seq).toBe(6);
      expect(rebuild(after)).toBe('123456');

      // Reading from before the snapshot gives the snapshot and the rows after it...
      const early = await store.readSince('doc', 2);
      expect(early.snapshot).not.toBeNull();
      expect(early.updates.map((row) => row.seq)).toEqual([5, 6]);
      expect(rebuild({ snapshot: early.snapshot, updates: early.updates.map((row) => row.update) })).toBe('123456');
      // ...from at or after it, only rows.
      const late = await store.readSince('doc', 4);
      expect(late.snapshot).toBeNull();
      expect(late.updates.map((row) => row.seq)).toEqual([5, 6]);
      expect((await store.readSince('doc', 5)).updates.map((row) => row.seq)).toEqual([6]);

      // Appends go on after the last number, not after the snapshot.
      expect(await store.append('doc', edit(doc, '7'))).toBe(7);
      expect(rebuild(await store.load('doc'))).toBe('1234567');
    });

    it('ignores a compaction older than the snapshot it already has', async () => {
      const doc = new Y.Doc();
      for (let i = 1; i <= 5; i++) await store.append('doc', edit(doc, `${i}`));
      await store.compact('doc', Y.encodeStateAsUpdate(doc), 5);
      const empty = Y.encodeStateAsUpdate(new Y.Doc());
      await store.compact('doc', empty, 3);
      await store.compact('doc', empty, 5);
      expect(rebuild(await store.load('doc'))).toBe('12345');
      // Compacting a document that never had a row does nothing.
      await store.compact('never', empty, 1);
      expect(await store.load('never')).toEqual({ snapshot: null, updates: [], seq: 0 });
    });

    it('loses nothing when two stores compact the same document concurrently while appends go on', async () => {
      const other = await open();
      const writer = new Y.Doc();
      const expected: string[] = [];
      let n = 0;
      const appendSome = async (s: DocumentStore, count: number) => {
        for (let i = 0; i < count; i++) {
          const piece = `<${n++}>`;
          expected.push(piece);
          await s.append('doc', edit(writer, piece));
        }
      };
      /** What an instance does: load its view, then compact up to what it has. */
      const compactFrom = async (s: DocumentStore) => {
        const stored = await s.load('doc');
        const doc = new Y.Doc();
        if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
        for (const update of stored.updates) Y.applyUpdate(doc, update);
        await s.compact('doc', Y.encodeStateAsUpdate(doc), stored.seq);
        doc.destroy();
      };
      await appendSome(store, 10);
      for (let round = 0; round < 8; round++) {
        await Promise.all([compactFrom(store), compactFrom(other), appendSome(store, 3), compactFrom(other), appendSome(other, 2)]);
      }
      const final = await other.load('doc');
      expect(final.seq).toBe(n);
      expect(rebuild(final)).toBe(expected.join(''));
      // Whatever was compacted, the rows after the snapshot are exactly the log's tail.
      const since = await store.readSince('doc', 0);
      const tail = since.updates.map((row) => row.seq);
      expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => n - tail.length + i + 1));
      expect(await store.logLength('doc')).toBe(tail.length);
    });

    it('creates documents once, with title and times', async () => {
      const before = Date.now();
      expect(await store.create('doc', 'First')).toBe(true);
      expect(await store.create('doc', 'Again')).toBe(false);
      const info = await store.info('doc');
      expect(info).toMatchObject({ name: 'doc', title: 'First' });
      expect(info!.createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(info!.updatedAt).toBeGreaterThanOrEqual(info!.createdAt);
      // A document that was written to exists without create().
      await store.append('written', bytes('x'));
      expect(await store.info('written')).toMatchObject({ name: 'written', title: '' });
      expect(await store.create('written', 'late')).toBe(false);
    });

    it('sets titles of existing documents only', async () => {
      await store.create('doc', '');
      expect(await store.setTitle('doc', 'Named')).toBe(true);
      expect((await store.info('doc'))!.title).toBe('Named');
      expect(await store.setTitle('missing', 'x')).toBe(false);
      expect(await store.info('missing')).toBeNull();
    });

    it('lists the most recently edited first, up to the limit', async () => {
      await store.create('one', 'One');
      // Sleeps on purpose: the list orders by edit time (milliseconds); the clock must move between edits.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.create('two', 'Two');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.create('three', 'Three');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.append('one', bytes('edit'));
      expect((await store.list(10)).map((d) => d.name)).toEqual(['one', 'three', 'two']);
      expect((await store.list(2)).map((d) => d.name)).toEqual(['one', 'three']);
      expect((await store.list(10))[0]).toMatchObject({ name: 'one', title: 'One' });
    });

    it('lists by access pattern: exactly the granted documents, most recently edited first', async () => {
      const names = [
        'team/a', 'team/b', 'team/x/notes', 'team/y/draft', 'teamwork', 'Team/caps', 'tea',
        'notes', 'notes2', 'p%_\\[?]/1', 'p%_\\[?]/2', 'pX_\\[?]/3', 'p%a\\[?]/4', 'ünï/1', 'ünï/2', 'ünj/1', 'zz',
      ];
      for (const name of names) await store.create(name, '');
      // A sleep on purpose: the list orders by edit time (milliseconds); the clock must move before the edit.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.append('team/b', bytes('edit'));
      const listed = async (patterns: string[], limit = 100) => (await store.list(limit, patterns)).map((d) => d.name);
      const team = await listed(['team/*']);
      expect(team[0]).toBe('team/b');
      expect(team.slice(1).sort()).toEqual(['team/a', 'team/x/notes', 'team/y/draft']);
      expect(await listed(['team/*'], 2)).toEqual(team.slice(0, 2));
      expect(await listed(['team/*/notes'])).toEqual(['team/x/notes']);
      expect(await listed(['notes'])).toEqual(['notes']);
      // Characters that mean something to GLOB or LIKE are literal in patterns.
      // (Created in the same millisecond: their order is not defined.)
      expect((await listed(['p%_\\[?]/*'])).sort()).toEqual(['p%_\\[?]/1', 'p%_\\[?]/2']);
      expect((await listed(['ünï/*'])).sort()).toEqual(['ünï/1', 'ünï/2']);
      expect((await listed(['*/1'])).sort()).toEqual(['p%_\\[?]/1', 'ünï/1', 'ünj/1'].sort());
      expect((await listed(['notes', 'team/a', 'team/*', 'zz'])).sort()).toEqual(['notes', 'team/a', 'team/b', 'team/x/notes', 'team/y/draft', 'zz'].sort());
      expect(await listed(['nothing/*', 'missing'])).toEqual([]);
      expect((await listed(['*'])).length).toBe(names.length);
    });

    it('lists by access pattern however many more recent documents others have', async () => {
      await store.create('victim/old', 'Old');
      // A sleep on purpose: the crowd below must be more recent (millisecond timestamps) than the victim.
      await new Promise((resolve) => setTimeout(resolve, 5));
      // More than the 5,000 documents the list used to scan, all edited after the victim's.
      const crowd = Array.from({ length: 5_100 }, (_, i) => `attacker/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < crowd.length; i += 300) await Promise.all(crowd.slice(i, i + 300).map((name) => store.create(name, '')));
      expect((await store.list(10, ['victim/*'])).map((d) => d.name)).toEqual(['victim/old']);
      expect((await store.list(10, ['victim/old', 'attacker/00042'])).map((d) => d.name).sort()).toEqual(['attacker/00042', 'victim/old']);
      expect(await store.list(3, ['attacker/*'])).toHaveLength(3);
    });

    it('keeps everything across close and reopen', async () => {
      const doc = new Y.Doc();
      await store.create('doc', 'Kept');
      for (let i = 1; i <= 4; i++) await store.append('doc', edit(doc, `${i}`));
      await store.compact('doc', Y.encodeStateAsUpdate(doc), 3);
      await store.close();
      const reopened = await open();
      const loaded = await reopened.load('doc');
      expect(loaded.seq).toBe(4);
      expect(rebuild(loaded)).toBe('1234');
      expect(await reopened.logLength('doc')).toBe(1);
      expect((await reopened.info('doc'))!.title).toBe('Kept');
      expect(await reopened.append('doc', edit(doc, '5'))).toBe(5);
      await expect(store.check()).rejects.toThrow();
    });

    it('deletes a document and its history for good; only an explicit create brings the name back', async () => {
      const doc = new Y.Doc();
      await store.create('gone', 'Gone');
      await store.setText('gone', 'searchable words');
      for (let i = 1; i <= 4; i++) await store.append('gone', edit(doc, `${i}`));
      await store.compact('gone', Y.encodeStateAsUpdate(doc), 3);
      await store.create('kept', 'Kept');
      expect(await store.delete('gone')).toBe(true);
      expect(await store.delete('gone')).toBe(false);
      expect(await store.delete('never-existed')).toBe(false);
      expect(await store.info('gone')).toBeNull();
      expect(await store.logLength('gone')).toBe(0);
      await expect(store.load('gone')).rejects.toBeInstanceOf(DocumentDeletedError);
      await expect(store.readSince('gone', 0)).rejects.toBeInstanceOf(DocumentDeletedError);
      // A client still holding it cannot bring it back, nor can upkeep.
      await expect(store.append('gone', edit(doc, '5'))).rejects.toBeInstanceOf(DocumentDeletedError);
      expect(await store.setTitle('gone', 'Back')).toBe(false);
      expect(await store.setText('gone', 'back')).toBe(false);
      await store.compact('gone', Y.encodeStateAsUpdate(doc), 9);
      await expect(store.load('gone')).rejects.toBeInstanceOf(DocumentDeletedError);
      expect((await store.list(10)).map((d) => d.name)).toEqual(['kept']);
      expect(await store.list(10, ['gone'])).toEqual([]);
      expect(await store.search('searchable', 10)).toEqual([]);
      // Other documents' writes are unaffected, also when they share a commit with a refused append.
      const [refused, accepted] = await Promise.allSettled([store.append('gone', bytes('x')), store.append('kept', bytes('y'))]);
      expect(refused.status).toBe('rejected');
      expect(accepted).toEqual({ status: 'fulfilled', value: 1 });
      // Still deleted for another instance, and after a restart.
      const other = await open();
      await expect(other.load('gone')).rejects.toBeInstanceOf(DocumentDeletedError);
      // Created again explicitly: empty, and its sequence goes on (never back).
      expect(await store.create('gone', 'Again')).toBe(true);
      expect(await store.create('gone', 'Twice')).toBe(false);
      const again = await other.load('gone');
      expect(again.snapshot).toBeNull();
      expect(again.updates).toEqual([]);
      expect(again.seq).toBeGreaterThanOrEqual(4);
      expect(await store.append('gone', bytes('new'))).toBe(again.seq + 1);
      expect((await store.info('gone'))!.title).toBe('Again');
      expect(await store.search('searchable', 10)).toEqual([]);
    });

    it('searches titles and text: every word, the last as a prefix, best matches first, within patterns', async () => {
      await store.create('team/plan', 'Quarterly planning');
      await store.create('team/notes', 'Meeting notes');
      await store.create('other/plan', 'Planning elsewhere');
      await store.append('written', bytes('x'));
      expect(await store.setText('team/notes', 'We discussed the quarterly budget and hiring.\nNext: planning offsite.')).toBe(true);
      expect(await store.setText('written', 'a document created by writing, about budgets')).toBe(true);
      expect(await store.setText('missing', 'nothing')).toBe(false);
      const names = async (query: string, patterns?: string[]) => (await store.search(query, 10, patterns)).map((d) => d.name);
      expect((await names('quarterly')).sort()).toEqual(['team/notes', 'team/plan']);
      // A title match ranks above a text match.
      expect((await names('quarterly'))[0]).toBe('team/plan');
      expect(await names('QUARTERLY budget')).toEqual(['team/notes']);
      expect((await names('budg')).sort()).toEqual(['team/notes', 'written']);
      expect((await names('plan')).sort()).toEqual(['other/plan', 'team/notes', 'team/plan']);
      expect((await names('plan', ['team/*'])).sort()).toEqual(['team/notes', 'team/plan']);
      expect(await names('plan', ['nothing/*'])).toEqual([]);
      expect(await names('')).toEqual([]);
      expect(await names('"*:() & | !')).toEqual([]);
      expect(await names('absent')).toEqual([]);
      // Text and titles follow changes.
      await store.setText('team/notes', 'Only lunch now.');
      expect(await names('budget')).toEqual(['written']);
      await store.setTitle('team/notes', 'Lunch menu');
      expect(await names('meeting')).toEqual([]);
      expect(await names('lunch menu')).toEqual(['team/notes']);
      expect(await store.search('plan', 1)).toHaveLength(1);
    });

    it('stores binary updates byte for byte, documents with any name', async () => {
      const update = new Uint8Array(70_000).map((_, i) => (i * 7919) % 256);
      const name = 'päper / ✓ "quoted" \\ 🙂';
      await store.append(name, update);
      const loaded = await store.load(name);
      expect(Buffer.from(loaded.updates[0]!).equals(Buffer.from(update))).toBe(true);
      expect((await store.info(name))!.name).toBe(name);
    });

    describeWebhookOutboxContract({ store: () => store, open });
    describeFileStoreContract({ store: () => store, open });
    describeVersionStoreContract({ store: () => store, open });
  });
}
