/**
 * Retention with a clock the test moves: the version policy, the history service and a real
 * SQLite store and room registry in this process, three simulated days of editing in a second.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEventBus } from '../../server/events.js';
import type { Clock } from '../../server/history/clock.js';
import { parseRetention, versionsToThin } from '../../server/history/retention.js';
import { createHistory } from '../../server/history/service.js';
import { createLogger } from '../../server/logger.js';
import { createMetrics } from '../../server/metrics.js';
import { createSqliteStore } from '../../server/storage/sqlite.js';
import { RoomRegistry } from '../../server/sync/room-registry.js';
import { startRefused, tempDir } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { FRAGMENT } from './history-harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Timers that fire when the test moves time past them, never by themselves. */
class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  constructor(private time: number) {}
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  };
  advance(ms: number): void {
    this.time += ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= this.time).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.clearTimeout(due.id);
      due.fn();
    }
  }
}

describe('retention tiers', () => {
  it('parses VERSION_RETENTION and says what is wrong with a bad one', () => {
    expect(parseRetention('1d:all,7d:1h,forever:1d')).toEqual([
      { maxAgeMs: DAY, spacingMs: 0 },
      { maxAgeMs: 7 * DAY, spacingMs: HOUR },
      { maxAgeMs: Infinity, spacingMs: DAY },
    ]);
    expect(parseRetention('7d:1h,1d:all')).toBe('tiers must be in order of increasing age');
    expect(parseRetention('forever:1d,2w:1d')).toMatch(/increasing age|forever/);
    expect(parseRetention('1d')).toMatch(/<age>:<keep>/);
    expect(parseRetention('1x:all')).toMatch(/age must be a duration/);
    expect(parseRetention('1d:sometimes')).toMatch(/keep must be/);
  });

  it('keeps the newest of each period and never a named version', () => {
    const tiers = parseRetention('1h:all,1d:1h');
    if (typeof tiers === 'string') throw new Error(tiers);
    const now = 10 * DAY;
    const versions = [
      { id: 'recent-1', createdAt: now - 10 * 60_000, label: null },
      { id: 'recent-2', createdAt: now - 20 * 60_000, label: null },
      { id: 'hour-new', createdAt: now - 3 * HOUR + 50 * 60_000, label: null },
      { id: 'hour-old', createdAt: now - 3 * HOUR + 10 * 60_000, label: null },
      { id: 'too-old', createdAt: now - 2 * DAY, label: null },
      { id: 'named-old', createdAt: now - 2 * DAY, label: 'Sent to legal' },
    ];
    expect(versionsToThin(versions, now, tiers).sort()).toEqual(['hour-old', 'too-old']);
  });
});

describe('version settings', () => {
  it.each([
    ['VERSION_INTERVAL_MS', 'soon', /VERSION_INTERVAL_MS must be a whole number/],
    ['VERSION_INTERVAL_MS', '5', /VERSION_INTERVAL_MS must be between 100/],
    ['VERSION_RETENTION', '7d:1h,1d:all', /VERSION_RETENTION: tiers must be in order of increasing age/],
    ['VERSION_RETENTION', 'forever', /VERSION_RETENTION: each tier is <age>:<keep>/],
  ])('refuses %s=%s at start with a message naming the variable', async (key, value, message) => {
    const output = await startRefused({ env: { [key]: value } });
    expect(output).toMatch(/exited with 78/);
    expect(output).toMatch(message);
  });
});

describe('retention over three simulated days (SQLite, injected clock)', () => {
  const dir = tempDir('collab-retention-');
  const store = createSqliteStore({ file: path.join(dir, 'collab.sqlite'), synchronous: 'normal' });
  const logger = createLogger('silent');
  const events = createEventBus((error) => {
    throw error;
  });
  const registry = new RoomRegistry({
    store,
    events,
    metrics: createMetrics().sync,
    logger,
    roomIdleMs: 60_000,
    awarenessIntervalMs: 50,
    maxAwarenessStateBytes: 65_536,
    compactAfterRows: 500,
  });
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const retention = parseRetention('1h:all,6h:1h,forever:1d');
  if (typeof retention === 'string') throw new Error(retention);
  const history = createHistory({ config: { intervalMs: 10 * 60_000, retention }, store: store.versions, documents: store, registry, events, logger, open: false, clock });
  history.start();
  afterAll(async () => {
    await history.stop();
    await registry.closeAll();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('thins unnamed versions by age and keeps named ones', async () => {
    const name = 'busy/doc';
    await store.create(name, '');
    const edit = (text: string) =>
      registry.withRoom(name, async (room) => {
        room.change((doc: Y.Doc) => {
          const paragraph = new Y.XmlElement('paragraph');
          paragraph.insert(0, [new Y.XmlText(text)]);
          doc.getXmlFragment(FRAGMENT).push([paragraph]);
        });
        await room.committed();
      });
    await edit('The first line');
    const named = await history.save(name, 'Sent to legal', { subject: 'alice', name: null });
    expect(named).not.toBeNull();

    // An edit every ten minutes for three days: each interval ends with an automatic version.
    const steps = (3 * DAY) / (10 * 60_000);
    let recorded = 0;
    for (let step = 1; step <= steps; step++) {
      await edit(`line ${step}`);
      clock.advance(10 * 60_000);
      recorded++;
      await waitFor(async () => (await store.versions!.list(name, 1))[0]?.createdAt === clock.now(), `version ${step} to be recorded`);
    }
    const now = clock.now();
    const kept = (await history.list(name, 1_000))!;
    const unnamed = kept.filter((v) => v.label === null);
    const age = (v: { createdAt: number }) => now - v.createdAt;
    // The last hour: everything (six versions, ten minutes apart).
    expect(unnamed.filter((v) => age(v) < HOUR)).toHaveLength(6);
    // Up to six hours: one per clock hour, the newest of it.
    const hourly = unnamed.filter((v) => age(v) >= HOUR && age(v) < 6 * HOUR);
    expect(new Set(hourly.map((v) => Math.floor(v.createdAt / HOUR))).size).toBe(hourly.length);
    expect(hourly.length).toBeGreaterThanOrEqual(4);
    // ...the newest of it (hours wholly in this tier end with a version at :50).
    expect(hourly.filter((v) => age(v) >= 2 * HOUR).every((v) => new Date(v.createdAt).getUTCMinutes() === 50)).toBe(true);
    // Older: one per day.
    const daily = unnamed.filter((v) => age(v) >= 6 * HOUR);
    expect(new Set(daily.map((v) => Math.floor(v.createdAt / DAY))).size).toBe(daily.length);
    expect(daily.length).toBeLessThanOrEqual(4);
    // The named version of day one is still there; everything else shrank from hundreds to a handful.
    expect(kept.find((v) => v.id === named!.id)).toMatchObject({ label: 'Sent to legal' });
    expect(recorded).toBe(432);
    expect(kept.length).toBeLessThan(20);
  });
});
