import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { loadConversion, loadDiff } from '../../server/content/lazy.js';
import { lazyModule } from '../../server/lazy-module.js';

describe('lazyModule', () => {
  it('loads once for every caller, concurrent first callers included', async () => {
    let loads = 0;
    let finish: (value: { answer: number }) => void = () => {};
    const load = lazyModule(() => {
      loads++;
      return new Promise<{ answer: number }>((resolve) => (finish = resolve));
    });
    const first = load();
    const second = load();
    expect(loads).toBe(1);
    finish({ answer: 42 });
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(await load()).toBe(a);
    expect(loads).toBe(1);
  });

  it('gives a failed load to every caller waiting for it, and loads again for the next', async () => {
    let loads = 0;
    const load = lazyModule(async () => {
      loads++;
      if (loads === 1) throw new Error('cannot load');
      return { loaded: loads };
    });
    const waiting = [load(), load()];
    for (const result of await Promise.allSettled(waiting)) expect(result).toMatchObject({ status: 'rejected', reason: { message: 'cannot load' } });
    expect(await load()).toEqual({ loaded: 2 });
    expect(await load()).toEqual({ loaded: 2 });
    expect(loads).toBe(2);
  });
});

describe('the content modules loaded on first use', () => {
  it('are the conversion and diff modules, the same module for every caller', async () => {
    const [conversion, again] = await Promise.all([loadConversion(), loadConversion()]);
    expect(conversion).toBe(again);
    const doc = conversion.parseContent('markdown', '# Title\n\nText');
    expect(conversion.serializeContent('markdown', doc)).toBe('# Title\n\nText');
    const [{ diffUpdate }, diffAgain] = await Promise.all([loadDiff(), loadDiff()]);
    expect(diffAgain.diffUpdate).toBe(diffUpdate);
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, diffUpdate(Y.encodeStateAsUpdate(ydoc), doc)!);
    expect(ydoc.getXmlFragment('prosemirror').toArray().map((block) => (block as Y.XmlElement).nodeName)).toEqual(['heading', 'paragraph']);
  });
});
