/**
 * A unit test of the ordering logic of rooms (Room.applyCommitted, the held-ahead map, catch-up):
 * several rooms in ONE process, sharing one SQLite store, joined by an in-process relay that loses,
 * delays and reorders messages, which is what Redis may do. Rooms must still converge, from storage.
 *
 * No Redis, no PostgreSQL, no server process here, and the relay's periodic catch-up is called by
 * hand. The same logic over the real relay (two server processes, real Redis and PostgreSQL, a
 * relay message lost in transit and the gap timer filling it) is tests/integration/cluster-gap.test.ts.
 * Drops and delays are random; the seed is printed (TEST_SEED=<seed> replays it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createLogger } from '../../server/logger.js';
import { createMetrics } from '../../server/metrics.js';
import { createSqliteStore } from '../../server/storage/sqlite.js';
import type { DocumentStore } from '../../server/storage/types.js';
import { Room, type RoomOptions } from '../../server/sync/room.js';
import { tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { random } from './cluster-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openStore(): DocumentStore {
  const dir = tempDir('collab-rooms-');
  const store = createSqliteStore({ file: path.join(dir, 'collab.sqlite'), synchronous: 'normal' });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  return store;
}

interface Relay {
  /** Each message is dropped with this probability... */
  dropRate: number;
  /** ...and otherwise delivered after a random delay up to this (so out of order). */
  maxDelayMs: number;
}

async function loadRooms(store: DocumentStore, count: number, relay: Relay, compactAfterRows = 1_000): Promise<Room[]> {
  const metrics = createMetrics();
  const rooms: Room[] = [];
  const options = (): RoomOptions => ({
    store,
    metrics: metrics.sync,
    logger: createLogger('silent'),
    awarenessIntervalMs: 10,
    maxAwarenessStateBytes: 10_000,
    compactAfterRows,
    onCommitted: (from, update, seq) => {
      for (const room of rooms) {
        if (room === from || random() < relay.dropRate) continue;
        // The unreliable relay itself: a random (seeded) delay reorders the messages.
        setTimeout(() => room.applyCommitted(update, seq), random() * relay.maxDelayMs);
      }
    },
  });
  for (let i = 0; i < count; i++) rooms.push(Room.fromStored('doc', await store.load('doc'), options(), { startedAt: performance.now() }));
  cleanups.push(() => {
    for (const room of rooms) room.destroy();
  });
  return rooms;
}

const text = (room: Room) => room.doc.getText('t').toString();

async function editConcurrently(rooms: Room[], rounds: number): Promise<string[]> {
  const inserted: string[] = [];
  for (let round = 0; round < rounds; round++) {
    rooms.forEach((room, i) => {
      const piece = `<${i}.${round}>`;
      inserted.push(piece);
      room.change((doc) => doc.getText('t').insert(0, piece));
    });
    // A sleep on purpose (load, not a wait): a random (seeded) spacing lets relayed commits
    // interleave with the next local edits.
    await new Promise((resolve) => setTimeout(resolve, random() * 4));
  }
  await Promise.all(rooms.map((room) => room.drain()));
  return inserted;
}

function rebuilt(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): string {
  const doc = new Y.Doc();
  if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot);
  for (const update of stored.updates) Y.applyUpdate(doc, update);
  return doc.getText('t').toString();
}

describe('room ordering: rooms sharing a store, joined by an unreliable in-process relay', () => {
  it('converge through a relay that reorders messages, applying them in sequence', async () => {
    const store = openStore();
    const rooms = await loadRooms(store, 3, { dropRate: 0, maxDelayMs: 20 });
    const inserted = await editConcurrently(rooms, 40);
    await waitFor(() => rooms.every((room) => room.committedSeq === rooms[0]!.committedSeq && text(room) === text(rooms[0]!)), 'rooms to converge');
    const final = await store.load('doc');
    expect(rooms[0]!.committedSeq).toBe(final.seq);
    expect(rebuilt(final)).toBe(text(rooms[0]!));
    for (const piece of inserted) expect(text(rooms[0]!)).toContain(piece);
  });

  it('converge through a relay that loses a third of the messages, filling gaps from storage', async () => {
    const store = openStore();
    const rooms = await loadRooms(store, 3, { dropRate: 0.33, maxDelayMs: 10 }, 7);
    const inserted = await editConcurrently(rooms, 40);
    // Gaps followed by later messages are filled on their own; the last messages may all have been
    // lost, which the relay's periodic catch-up covers (here: by hand, until every room has all).
    const final = await store.load('doc');
    await waitFor(
      async () => {
        await Promise.all(rooms.map((room) => room.catchUp()));
        return rooms.every((room) => room.committedSeq === final.seq);
      },
      'every room to have caught up with storage',
    );
    for (const room of rooms) {
      expect(room.committedSeq).toBe(final.seq);
      expect(text(room)).toBe(rebuilt(final));
    }
    for (const piece of inserted) expect(rebuilt(final)).toContain(piece);
    // Several rooms compacted the same document meanwhile; storage still has everything.
    expect(await store.logLength('doc')).toBeLessThan(final.seq);
  });

  it('applies a message that arrives ahead of its predecessor only after it', async () => {
    const store = openStore();
    const [writer] = await loadRooms(store, 1, { dropRate: 1, maxDelayMs: 0 });
    const updates: Array<{ update: Uint8Array; seq: number }> = [];
    const doc = new Y.Doc();
    doc.on('update', (update: Uint8Array) => updates.push({ update, seq: 0 }));
    doc.getText('t').insert(0, 'a');
    doc.getText('t').insert(1, 'b');
    updates[0]!.seq = await store.append('doc', updates[0]!.update);
    updates[1]!.seq = await store.append('doc', updates[1]!.update);
    // Seq 2 first: held (it needs seq 1), then seq 1 arrives and both apply in order.
    writer!.applyCommitted(updates[1]!.update, updates[1]!.seq);
    expect(writer!.committedSeq).toBe(0);
    writer!.applyCommitted(updates[0]!.update, updates[0]!.seq);
    expect(writer!.committedSeq).toBe(2);
    expect(text(writer!)).toBe('ab');
    // A duplicate is ignored.
    writer!.applyCommitted(updates[0]!.update, updates[0]!.seq);
    expect(writer!.committedSeq).toBe(2);
  });

  it('fills a gap that stays open from storage, without waiting for another message', async () => {
    const store = openStore();
    const [reader] = await loadRooms(store, 1, { dropRate: 1, maxDelayMs: 0 });
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    for (const c of 'xyz') doc.getText('t').insert(doc.getText('t').length, c);
    for (const update of updates) await store.append('doc', update);
    // Only seq 3 arrives; 1 and 2 were lost.
    reader!.applyCommitted(updates[2]!, 3);
    await waitFor(() => reader!.committedSeq === 3, 'the gap to be filled from storage', 2_000);
    expect(text(reader!)).toBe('xyz');
  });

  it('commits content held back for what another instance committed, once that arrives and completes it', async () => {
    const store = openStore();
    const [first, second] = await loadRooms(store, 2, { dropRate: 1, maxDelayMs: 0 });
    const client = new Y.Doc();
    const updates: Uint8Array[] = [];
    client.on('update', (update: Uint8Array) => updates.push(update));
    client.getText('t').insert(0, 'a');
    client.getText('t').insert(1, 'b');
    const access = { subject: 'ada', canWrite: true };
    // 'a' is committed through the first instance; 'b' reaches the second before the relay brings
    // 'a' there, so Yjs holds it back (pending): nothing of it is committed yet.
    await first!.applyExternal(updates[0]!, access);
    await second!.applyExternal(updates[1]!, access);
    expect(text(second!)).toBe('');
    expect(rebuilt(await store.load('doc'))).toBe('a');
    // The relay delivers 'a': it completes 'b' in the second room, which must now be durable
    // (the room's state says the client has nothing left to send).
    second!.applyCommitted(updates[0]!, 1);
    expect(text(second!)).toBe('ab');
    await second!.drain();
    expect(rebuilt(await store.load('doc'))).toBe('ab');
  });
});
