import * as decoding from 'lib0/decoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { LoadingStage, classifyEarlyFrame, storedParts, type StoredStateAnswer } from '../../server/sync/loading-stage.js';
import { encodeFrame, writeAwareness, writeSyncStep1, writeSyncStep2, writeUpdate } from '../../server/sync/protocol.js';
import { writeSubscribeSaved } from '../../shared/saved-state.js';

function payloadOf(frame: Uint8Array): Uint8Array {
  const decoder = decoding.createDecoder(frame);
  expect([decoding.readVarUint(decoder), decoding.readVarUint(decoder)]).toEqual([0, 1]);
  return decoding.readVarUint8Array(decoder);
}

/** A snapshot and log rows after it, as storage returns them, and the text they hold. */
function storedDocument(rows: number) {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'snapshot');
  const snapshot = Y.encodeStateAsUpdate(doc);
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  for (let i = 0; i < rows; i++) doc.getText('t').insert(0, `row ${i} `);
  return { stored: { snapshot, updates, seq: rows }, text: doc.getText('t').toString() };
}

function answering(stage: LoadingStage): StoredStateAnswer[] {
  const answers: StoredStateAnswer[] = [];
  void stage.answering().then((answer) => answer && answers.push(answer));
  return answers;
}

describe('classifyEarlyFrame', () => {
  it('answers an empty state vector, passes over frames that cannot change the document, stops at anything else', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'x');
    expect(classifyEarlyFrame(encodeFrame(writeSyncStep1, Uint8Array.of(0)))).toBe('full-state-request');
    expect(classifyEarlyFrame(encodeFrame(writeSyncStep1, Y.encodeStateVector(doc)))).toBe('barrier');
    expect(classifyEarlyFrame(encodeFrame(writeUpdate, Y.encodeStateAsUpdate(doc)))).toBe('barrier');
    expect(classifyEarlyFrame(encodeFrame(writeSyncStep2, Y.encodeStateAsUpdate(doc)))).toBe('barrier');
    expect(classifyEarlyFrame(encodeFrame(writeAwareness, Uint8Array.of(0)))).toBe('inert');
    expect(classifyEarlyFrame(encodeFrame(writeSubscribeSaved))).toBe('inert');
    expect(classifyEarlyFrame(Uint8Array.of(0, 0, 5))).toBe('barrier');
  });
});

describe('LoadingStage', () => {
  it('answers with the snapshot as it is, or with the snapshot and its log rows merged', async () => {
    for (const rows of [0, 3]) {
      const { stored, text } = storedDocument(rows);
      const stage = new LoadingStage();
      const answers = answering(stage);
      await stage.answerUntilReleased(storedParts(stored)!);
      expect(answers).toHaveLength(1);
      const doc = new Y.Doc();
      Y.applyUpdate(doc, payloadOf(answers[0]!.fullStateFrame()!));
      expect(doc.getText('t').toString()).toBe(text);
      expect(stage.builtFrame).toBe(answers[0]!.fullStateFrame());
      stage.finish();
      expect(answers[0]!.fullStateFrame()).toBeNull();
    }
  });

  it('has nothing to answer for a document never stored', () => {
    expect(storedParts({ snapshot: null, updates: [], seq: 0 })).toBeNull();
  });

  it('releases the decode at once when nobody waits, once every hold settled, or when the window closes', async () => {
    const { stored } = storedDocument(0);
    const alone = new LoadingStage();
    let releasedAlone = false;
    void alone.answerUntilReleased(storedParts(stored)!).then(() => (releasedAlone = true));
    // "At once": within a few microtask hops, before any timer (even a 1 ms poll) could run.
    for (let hop = 0; hop < 5; hop++) await Promise.resolve();
    expect(releasedAlone).toBe(true);

    const held = new LoadingStage();
    let settled = false;
    void held.answering().then((answer) => {
      answer!.holdDecodeUntil(() => settled);
      setTimeout(() => (settled = true), 20);
    });
    await held.answerUntilReleased(storedParts(stored)!);
    expect(settled).toBe(true);

    const stuck = new LoadingStage();
    void stuck.answering().then((answer) => answer!.holdDecodeUntil(() => false));
    const started = performance.now();
    await stuck.answerUntilReleased(storedParts(stored)!);
    // It waited for the whole 100 ms window (a lower bound: load only makes it later), and then
    // gave up on the hold (it resolved at all). How soon after the window is for benchmarks.
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
  });

  it('tells connections arriving while it answers right away, and none once the room is built', async () => {
    const { stored } = storedDocument(0);
    const stage = new LoadingStage();
    let settled = false;
    void stage.answering().then((answer) => answer!.holdDecodeUntil(() => settled));
    const released = stage.answerUntilReleased(storedParts(stored)!);
    const late = answering(stage);
    // "Right away": one microtask hop, before any timer could run.
    await Promise.resolve();
    expect(late).toHaveLength(1);
    settled = true;
    await released;
    stage.finish();
    expect(answering(stage)).toHaveLength(0);
  });
});
