/**
 * `npm run bench:history`: what version history costs, on the automerge-paper trace (259,778
 * edits ending in 104,852 characters, one paragraph per line).
 *
 *   - Storage: the trace is replayed into the editor's Yjs fragment, 1,000 edits at a time, each
 *     step applied as a minimal edit (server/content/diff.ts, the diff the editor and the content
 *     API make) and committed to a real SQLite store; after each step a version is recorded
 *     (server/history/version-state.ts) through the store's version part. Reported: the bytes of
 *     the versions and the growth of the database file, against the baseline of the same run:
 *     storing the room's whole Yjs state (Y.encodeStateAsUpdateV2, with its deleted items) instead.
 *   - A year of a busy document: the default retention applied to a year of automatic versions
 *     (one every VERSION_INTERVAL_MS while people edit 8 hours each weekday), times the measured
 *     size of a version of the final document.
 *   - Time to render and diff the version halfway through the trace against the final document:
 *     read from storage and decode to a ProseMirror document, as JSON (what GET .../content?format=json
 *     sends), then the panel's diff (shared/version-diff.ts); medians of several runs, and their
 *     ratio to reading the current document (the content API's GET) in the same run.
 *
 * Prints a table and writes bench/results/history-<date>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as Y from 'yjs';
import { parseContent } from '../server/content/conversion.js';
import { diffUpdate } from '../server/content/diff.js';
import { editorFragment, fragmentToDocument } from '../server/content/fragment.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_RETENTION } from '../server/history/config.js';
import { parseRetention, versionsToThin } from '../server/history/retention.js';
import { decodeVersionState, encodeVersionState } from '../server/history/version-state.js';
import { createSqliteStore } from '../server/storage/sqlite.js';
import { schema } from '../shared/schema.js';
import { versionChanges } from '../shared/version-diff.js';
import { TRACE_FILE, WORK_DIR } from './lib/fixtures.js';
import { ROOT } from './lib/servers.js';

const EDITS_PER_VERSION = 1_000;
const RUNS = 9;
const DAY = 86_400_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const kb = (bytes: number) => round(bytes / 1024, 1);
const mb = (bytes: number) => round(bytes / 1024 / 1024, 2);

async function time(fn: () => unknown | Promise<unknown>, runs = RUNS): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

const fileSize = (file: string) => ['', '-wal'].reduce((sum, suffix) => sum + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);

interface Trace {
  startContent?: string;
  endContent: string;
  txns: Array<{ patches: Array<[number, number, string]> }>;
}

/** Versions a year of busy editing leaves under `retention`: one per interval, 9:00–17:00 on weekdays. */
function yearOfVersions(intervalMs: number, retention: string): { recorded: number; kept: number } {
  const tiers = parseRetention(retention);
  if (typeof tiers === 'string') throw new Error(tiers);
  const start = Date.UTC(2026, 0, 5); // a Monday
  const versions: Array<{ id: string; createdAt: number; label: null }> = [];
  let recorded = 0;
  for (let day = 0; day < 365; day++) {
    if (day % 7 >= 5) continue;
    for (let at = start + day * DAY + 9 * 3_600_000; at < start + day * DAY + 17 * 3_600_000; at += intervalMs) {
      versions.push({ id: String(recorded++), createdAt: at, label: null });
      // Thinning runs after each version, as the server does; here once a day is enough (it is idempotent).
    }
    const drop = new Set(versionsToThin(versions, start + day * DAY + 17 * 3_600_000, tiers));
    for (let i = versions.length - 1; i >= 0; i--) if (drop.has(versions[i]!.id)) versions.splice(i, 1);
  }
  return { recorded, kept: versions.length };
}

async function main(): Promise<void> {
  const trace = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString('utf8')) as Trace;
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const dir = fs.mkdtempSync(path.join(WORK_DIR, 'history-'));
  const file = path.join(dir, 'collab.sqlite');
  const store = createSqliteStore({ file, synchronous: 'normal' });
  const versions = store.versions!;
  const name = 'automerge-paper';

  // --- storage: a version every 1,000 edits
  const doc = new Y.Doc({ gc: true });
  let text = trace.startContent ?? '';
  let versionBytes = 0;
  let wholeStateBytes = 0;
  let count = 0;
  let middle: { id: string } | null = null;
  let previous: { id: string } | null = null;
  let logBytes = 0;
  const replayStarted = performance.now();
  for (let i = 0; i < trace.txns.length; i++) {
    for (const [position, deleted, inserted] of trace.txns[i]!.patches) text = text.slice(0, position) + inserted + text.slice(position + deleted);
    if ((i + 1) % EDITS_PER_VERSION !== 0 && i !== trace.txns.length - 1) continue;
    const update = diffUpdate(Y.encodeStateAsUpdate(doc), parseContent('text', text));
    if (update) {
      Y.applyUpdate(doc, update);
      await store.append(name, update);
      logBytes += update.byteLength;
    }
    const state = encodeVersionState(doc);
    const seq = (await store.readSince(name, Number.MAX_SAFE_INTEGER)).seq;
    const outcome = await versions.add({ id: `v_${String(count).padStart(16, '0')}`, document: name, createdAt: count * 60_000, label: null, kind: 'automatic', authors: ['trace'], seq, state });
    if (outcome.status !== 'added') throw new Error(`version ${count} not added: ${outcome.status}`);
    versionBytes += state.byteLength;
    wholeStateBytes += Y.encodeStateAsUpdateV2(doc).byteLength;
    if (count === Math.floor(trace.txns.length / EDITS_PER_VERSION / 2)) middle = outcome.version;
    if (i < trace.txns.length - 1) previous = outcome.version;
    count++;
  }
  const replayMs = performance.now() - replayStarted;
  const finalText = fragmentToDocument(editorFragment(doc), schema).textContent;
  const finalVersion = encodeVersionState(doc).byteLength;
  const finalWholeState = Y.encodeStateAsUpdateV2(doc).byteLength;
  // The database file with the log and the versions, against the same log without versions.
  const withVersions = fileSize(file);
  await store.close();
  const bareFile = path.join(dir, 'bare.sqlite');
  const bare = createSqliteStore({ file: bareFile, synchronous: 'normal' });
  const source = createSqliteStore({ file, synchronous: 'normal' });
  for (const { update } of (await source.readSince(name, 0)).updates) await bare.append(name, update);
  await source.close();
  const withoutVersions = fileSize(bareFile);
  await bare.close();

  // --- a year of a busy document
  const year = yearOfVersions(DEFAULT_INTERVAL_MS, DEFAULT_RETENTION);

  // --- time to render and diff the middle version
  const reopened = createSqliteStore({ file, synchronous: 'normal' });
  const current = fragmentToDocument(editorFragment(doc), schema);
  const readCurrent = await time(() => JSON.stringify(fragmentToDocument(editorFragment(doc), schema).toJSON()));
  let versionJson = '';
  const render = await time(async () => {
    const read = await reopened.versions!.read(name, middle!.id);
    versionJson = JSON.stringify(decodeVersionState(read!.state).toJSON());
  });
  const versionDoc = schema.nodeFromJSON(JSON.parse(versionJson));
  let changes = 0;
  const diff = await time(() => {
    changes = versionChanges(schema.nodeFromJSON(JSON.parse(versionJson)), current).length;
  });
  // The everyday case: the last version before now (1,000 edits ago) against the document.
  const previousJson = JSON.stringify(decodeVersionState((await reopened.versions!.read(name, previous!.id))!.state).toJSON());
  let recentChanges = 0;
  const recentDiff = await time(() => {
    recentChanges = versionChanges(schema.nodeFromJSON(JSON.parse(previousJson)), current).length;
  });
  await reopened.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version },
    trace: { edits: trace.txns.length, characters: finalText.length, paragraphs: current.childCount },
    storage: {
      versions: count,
      editsPerVersion: EDITS_PER_VERSION,
      versionBytes,
      meanVersionBytes: Math.round(versionBytes / count),
      finalVersionBytes: finalVersion,
      baselineWholeStateBytes: wholeStateBytes,
      finalWholeStateBytes: finalWholeState,
      ratioToWholeState: round(versionBytes / wholeStateBytes, 3),
      logBytes,
      databaseBytesWithVersions: withVersions,
      databaseBytesWithoutVersions: withoutVersions,
      replaySeconds: round(replayMs / 1000, 1),
    },
    year: {
      intervalMs: DEFAULT_INTERVAL_MS,
      retention: DEFAULT_RETENTION,
      editingHours: 'weekdays 9:00-17:00',
      recorded: year.recorded,
      kept: year.kept,
      bytesAtFinalSize: year.kept * finalVersion,
    },
    renderAndDiff: {
      version: `${Math.floor(count / 2) * EDITS_PER_VERSION} edits in, against the final document`,
      versionParagraphs: versionDoc.childCount,
      changes,
      readCurrentMs: round(readCurrent),
      renderMs: round(render),
      diffMs: round(diff),
      renderRatio: round(render / readCurrent),
      diffRatio: round(diff / readCurrent),
      recentVersion: 'the last version before the end (1,000 edits earlier) against the final document',
      recentChanges,
      recentDiffMs: round(recentDiff),
      recentDiffRatio: round(recentDiff / readCurrent),
    },
  };

  const rows: Array<[string, string]> = [
    ['Versions recorded (one per 1,000 edits)', String(count)],
    ['Stored bytes of all versions', `${mb(versionBytes)} MB (mean ${kb(versionBytes / count)} KB, final ${kb(finalVersion)} KB)`],
    ['Same versions as whole Yjs states (baseline)', `${mb(wholeStateBytes)} MB (${round(wholeStateBytes / versionBytes, 1)}× more)`],
    ['Database: log + versions / log alone', `${mb(withVersions)} MB / ${mb(withoutVersions)} MB`],
    ['A year of a busy document (default retention)', `${year.kept} of ${year.recorded} versions kept: ${mb(year.kept * finalVersion)} MB at the final size`],
    ['Render the middle version (read, decode, JSON)', `${round(render)} ms (${round(render / readCurrent)}× reading the current document, ${round(readCurrent)} ms)`],
    ['Diff it against the final document', `${round(diff)} ms (${round(diff / readCurrent)}×), ${changes} changes`],
    ['Diff the version 1,000 edits back against it', `${round(recentDiff)} ms (${round(recentDiff / readCurrent)}×), ${recentChanges} changes`],
  ];
  console.log('\nVersion history on the automerge-paper trace\n');
  for (const [label, value] of rows) console.log(`  ${label.padEnd(50)} ${value}`);
  const out = path.join(ROOT, 'bench/results', `history-${new Date().toISOString().slice(0, 16).replace(/[T:]/g, '-')}.json`);
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n  written to ${path.relative(ROOT, out)}`);
}

await main();
