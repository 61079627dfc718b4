/**
 * The cleanup of unreferenced uploads, in process with the real parts (SQLite store, rooms, the
 * content API's reads and writes) and a clock the test moves: no waiting for a day to pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseContent } from '../../server/content/conversion.js';
import { createDocumentContent } from '../../server/content/document-content.js';
import { createEventBus } from '../../server/events.js';
import { createFileSweeper } from '../../server/files/sweeper.js';
import { createLogger } from '../../server/logger.js';
import { createMetrics } from '../../server/metrics.js';
import { createSqliteStore } from '../../server/storage/sqlite.js';
import type { DocumentStore } from '../../server/storage/types.js';
import { RoomRegistry } from '../../server/sync/room-registry.js';
import { fileUrl } from '../../shared/images.js';
import { tempDir } from '../helpers/server.js';

const HOUR = 3_600_000;
const GRACE = 24 * HOUR;
const WRITER = { subject: 'writer', canWrite: true, documents: ['*'] } as never;

describe('cleanup of unreferenced uploads', () => {
  let store: DocumentStore;
  let registry: RoomRegistry;
  const dir = tempDir('collab-sweep-');
  afterEach(async () => {
    await registry.closeAll();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('deletes uploads nobody inserted and images removed for longer than the grace period; keeps the rest', async () => {
    store = createSqliteStore({ file: path.join(dir, 'collab.sqlite'), synchronous: 'normal' });
    registry = new RoomRegistry({
      store,
      events: createEventBus(() => {}),
      metrics: createMetrics().sync,
      logger: createLogger('silent'),
      roomIdleMs: 60_000,
      awarenessIntervalMs: 50,
      maxAwarenessStateBytes: 65_536,
      maxRooms: 100,
      compactAfterRows: 500,
    });
    const content = createDocumentContent(store, registry);
    let clock = 1_700_000_000_000;
    const sweeper = createFileSweeper({ files: store.files!, read: async (name) => (await content.read(name))?.doc ?? null, graceMs: GRACE, now: () => clock });
    const upload = async (document: string, text: string) => {
      const bytes = new TextEncoder().encode(text);
      const id = createHash('sha256').update(bytes).digest('base64url');
      await store.files!.put({ document, id, type: 'image/png', width: 1, height: 1, bytes }, clock);
      return id;
    };
    const write = (document: string, markdown: string) => content.write(document, parseContent('markdown', markdown), { mode: 'replace', access: WRITER });
    const ids = async (document: string) => (await store.files!.list(document)).map((file) => file.id).sort();

    await store.create('team/plan', '');
    await store.create('other', '');
    const inserted = await upload('team/plan', 'chart');
    const abandoned = await upload('team/plan', 'pasted, then the tab was closed');
    const otherFile = await upload('other', 'a file of another document');
    // The plan shows its chart, and (wrongly, by a hand-written URL) the other document's file:
    // that does not keep the other document's file.
    await write('team/plan', `# Plan\n\n![Chart](${fileUrl('team/plan', inserted)})\n\n![Foreign](${fileUrl('other', otherFile)})`);

    clock += HOUR;
    expect(await sweeper.sweep()).toEqual({ documents: 2, deleted: 0 });
    expect(await ids('team/plan')).toEqual([inserted, abandoned].sort());

    // A day after the upload: the abandoned upload and the other document's unused file go.
    clock += GRACE;
    expect(await sweeper.sweep()).toEqual({ documents: 2, deleted: 2 });
    expect(await ids('team/plan')).toEqual([inserted]);
    expect(await ids('other')).toEqual([]);

    // The chart is removed: it stays a day from the sweep that noticed, and undo (here: writing it back) within that day keeps it.
    await write('team/plan', '# Plan\n\nNo chart any more.');
    clock += HOUR;
    await sweeper.sweep();
    clock += GRACE - HOUR;
    await write('team/plan', `# Plan\n\n![Chart](${fileUrl('team/plan', inserted)})`);
    expect(await sweeper.sweep()).toEqual({ documents: 1, deleted: 0 });
    expect(await ids('team/plan')).toEqual([inserted]);

    // Removed for good: gone once a full grace period has passed since a sweep saw it unused.
    await write('team/plan', '# Plan');
    await sweeper.sweep();
    clock += GRACE - 1;
    expect(await sweeper.sweep()).toEqual({ documents: 1, deleted: 0 });
    clock += 1;
    expect(await sweeper.sweep()).toEqual({ documents: 1, deleted: 1 });
    expect(await ids('team/plan')).toEqual([]);
    expect(await store.files!.documentsWithFiles('', 10)).toEqual([]);
  });
});
