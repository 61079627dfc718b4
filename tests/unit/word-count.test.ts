/** The document page's word and character count (client/workspace/word-count.ts). */
import { describe, expect, it } from 'vitest';
import { schema } from '../../shared/schema.js';
import { countLabel, countText, documentText } from '../../client/workspace/word-count.js';

describe('word and character count', () => {
  it('counts words by the Unicode rules and characters as people see them', () => {
    expect(countText('')).toEqual({ words: 0, characters: 0 });
    expect(countText("Don't panic — it's fine.")).toEqual({ words: 4, characters: 24 });
    expect(countText('one\ntwo')).toEqual({ words: 2, characters: 6 }); // the line between blocks is not a character
    expect(countText('👍🏽 ok').characters).toBe(4); // an emoji with a skin tone is one
    expect(countText('3.14 and 42').words).toBe(3);
  });

  it('reads the text of a document, a line per block', () => {
    const doc = schema.node('doc', null, [
      schema.node('heading', { level: 1 }, [schema.text('Plan')]),
      schema.node('paragraph', null, [schema.text('First'), schema.node('hard_break'), schema.text('second line.')]),
      schema.node('bullet_list', null, [schema.node('list_item', null, [schema.node('paragraph', null, [schema.text('item')])])]),
    ]);
    expect(documentText(doc)).toBe('Plan\nFirst second line.\nitem');
    expect(countText(documentText(doc))).toEqual({ words: 5, characters: 'PlanFirst second line.item'.length });
  });

  it('says it in words', () => {
    expect(countLabel({ words: 1, characters: 1 })).toBe('1 word · 1 character');
    expect(countLabel({ words: 0, characters: 0 })).toBe('0 words · 0 characters');
  });
});
