import { describe, expect, it } from 'vitest';
import { findMatches, MAX_MATCHES } from '../../client/editor/find.js';
import { schema } from '../../shared/schema.js';

const doc = (json: unknown[]) => schema.nodeFromJSON({ type: 'doc', content: json });
const text = (value: string, ...marks: string[]) => ({ type: 'text', text: value, ...(marks.length > 0 && { marks: marks.map((type) => ({ type })) }) });

describe('find: the matches of a query', () => {
  it('matches case-insensitively across marks, inside table cells and tasks, never across blocks', () => {
    const document = doc([
      { type: 'paragraph', content: [text('Plan the '), text('Pla', 'strong'), text('n'), { type: 'hard_break' }, text('plan')] },
      { type: 'table', content: [{ type: 'table_row', content: [{ type: 'table_cell', content: [{ type: 'paragraph', content: [text('PLAN B')] }] }] }] },
      { type: 'task_list', content: [{ type: 'task_item', attrs: { checked: false }, content: [{ type: 'paragraph', content: [text('pla')] }] }] },
      { type: 'paragraph', content: [text('n')] },
    ]);
    const matches = findMatches(document, 'plan');
    expect(matches.map(({ from, to }) => document.textBetween(from, to))).toEqual(['Plan', 'Plan', 'plan', 'PLAN']);
    // Positions are the document's: the hard break counts as one.
    expect(matches[2]).toEqual({ from: 15, to: 19 });
    expect(findMatches(document, '')).toEqual([]);
    expect(findMatches(document, 'a.n')).toEqual([]); // the query is text, not a pattern
  });

  it('stops counting at MAX_MATCHES', () => {
    const document = doc([{ type: 'paragraph', content: [text('a'.repeat(MAX_MATCHES + 100))] }]);
    expect(findMatches(document, 'a')).toHaveLength(MAX_MATCHES);
  });
});
