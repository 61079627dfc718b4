import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { UpdatePipeline } from '../../server/sync/update-pipeline.js';

function updateInserting(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

function textOf(update: Uint8Array): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText('t').toString();
}

describe('UpdatePipeline', () => {
  it('when paced, gathers the updates of several ticks into the next commit once the burst is used up', async () => {
    const commits: string[] = [];
    let seq = 0;
    const pipeline = new UpdatePipeline({
      async commit(update) {
        commits.push(textOf(update));
        return ++seq;
      },
      committed() {},
      failed() {},
      // Long enough that the burst below cannot earn a token back on a loaded machine (it takes
      // microseconds), short enough that the test waits for the paced commit.
      minSpacingMs: () => 1_000,
    });
    // A short burst passes unpaced...
    for (let i = 0; i < 5; i++) {
      pipeline.push(updateInserting('a'), 'alice');
      await pipeline.whenCommitted();
    }
    expect(commits).toEqual(['a', 'a', 'a', 'a', 'a']);
    // ...then the next commit must wait: what arrives in separate ticks meanwhile waits with it...
    pipeline.push(updateInserting('b'), 'bob');
    await new Promise((resolve) => setImmediate(resolve));
    pipeline.push(updateInserting('c'), 'carol');
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toHaveLength(5);
    expect(pipeline.idle).toBe(false);
    // ...and both land in ONE commit once the pacing allows it.
    await pipeline.whenCommitted();
    expect(commits).toHaveLength(6);
    expect([...commits[5]!].sort().join('')).toBe('bc');
    expect(pipeline.idle).toBe(true);
    pipeline.stop();
  });

  it('merges the updates of one tick into one commit and releases them only after it', async () => {
    const events: string[] = [];
    let seq = 0;
    const pipeline = new UpdatePipeline({
      async commit(update) {
        events.push(`commit:${textOf(update).length}`);
        return ++seq;
      },
      committed(_update, committedSeq, origins) {
        events.push(`committed:${committedSeq}:${origins.size}`);
      },
      failed() {
        events.push('failed');
      },
    });
    pipeline.push(updateInserting('a'), 'alice');
    pipeline.push(updateInserting('b'), 'bob');
    expect(pipeline.idle).toBe(false);
    await pipeline.whenIdle();
    expect(events).toEqual(['commit:2', 'committed:1:2']);
    expect(pipeline.idle).toBe(true);
  });

  it('keeps a failed batch, retries it with what arrived meanwhile, and loses nothing', async () => {
    let failures = 1;
    const committed: string[] = [];
    const errors: unknown[] = [];
    const pipeline = new UpdatePipeline({
      async commit(update) {
        if (failures-- > 0) throw new Error('disk on fire');
        committed.push(textOf(update));
        return committed.length;
      },
      committed() {},
      failed(error) {
        errors.push(error);
        pipeline.push(updateInserting('late'), 'carol');
      },
    });
    pipeline.push(updateInserting('first'), 'alice');
    await pipeline.whenIdle();
    expect(errors).toHaveLength(1);
    expect(committed).toHaveLength(1);
    expect([...committed[0]!].sort().join('')).toBe([...'firstlate'].sort().join(''));
  });
});

describe('UpdatePipeline.whenCommitted', () => {
  it('resolves once what was pushed before it is committed, although more keeps arriving', async () => {
    const releases: Array<() => void> = [];
    let seq = 0;
    const pipeline = new UpdatePipeline({
      commit: () => new Promise<number>((resolve) => releases.push(() => resolve(++seq))),
      committed() {},
      failed() {},
    });
    pipeline.push(updateInserting('a'), 'alice');
    const watermark = pipeline.whenCommitted();
    let reached = false;
    void watermark.then(() => {
      reached = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(releases).toHaveLength(1); // the first commit is in flight...
    expect(reached).toBe(false); // ...and not released yet, so the watermark has not resolved
    // While the first commit is in flight, more arrives: the pipeline never goes idle.
    pipeline.push(updateInserting('b'), 'bob');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reached).toBe(false);
    releases.shift()!();
    await watermark;
    expect(reached).toBe(true);
    // It resolved although the commit of 'b' is still to come.
    expect(pipeline.idle).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await pipeline.whenIdle();
  });
});

describe('mergeUpdatesBalanced', () => {
  it('merges many updates into one equal to applying them all', async () => {
    const { mergeUpdatesBalanced } = await import('../../server/sync/update-pipeline.js');
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on('update', (update: Uint8Array) => updates.push(update));
    const text = source.getText('t');
    for (let i = 0; i < 777; i++) {
      text.insert(Math.floor(text.length / 2), String(i % 10));
      if (i % 7 === 0) text.delete(0, 1);
    }
    const merged = mergeUpdatesBalanced(updates);
    const target = new Y.Doc();
    Y.applyUpdate(target, merged);
    expect(target.getText('t').toString()).toBe(text.toString());
    expect(mergeUpdatesBalanced([updates[0]!])).toBe(updates[0]);
  });
});
