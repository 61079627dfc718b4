import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { changedContentProblem, fragmentProblem } from '../../shared/content-check.js';
import { contentRules, markNameOf, MAX_NESTING_DEPTH, TEXT } from '../../shared/content-rules.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';

/** A document as y-prosemirror writes it: a paragraph with bold text, a heading, a list. */
function honestDoc(): { doc: Y.Doc; fragment: Y.XmlFragment } {
  const doc = new Y.Doc();
  const fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
  const paragraph = new Y.XmlElement('paragraph');
  const text = new Y.XmlText();
  text.insert(0, 'Hello ');
  text.insert(6, 'world', { strong: {} });
  text.insert(11, ' link', { link: { href: 'https://example.com', title: null } });
  paragraph.insert(0, [text, new Y.XmlElement('hard_break')]);
  const heading = new Y.XmlElement('heading');
  heading.setAttribute('level', 2 as unknown as string);
  heading.insert(0, [new Y.XmlText('Title')]);
  const list = new Y.XmlElement('bullet_list');
  const item = new Y.XmlElement('list_item');
  const itemParagraph = new Y.XmlElement('paragraph');
  itemParagraph.insert(0, [new Y.XmlText('point')]);
  item.insert(0, [itemParagraph]);
  list.insert(0, [item]);
  fragment.insert(0, [heading, paragraph, list]);
  return { doc, fragment };
}

/**
 * Appends `depth` nested `name` elements to `parent` (which must be in a document) and returns the
 * deepest. Built top-down, one integrated element at a time: Yjs integrates a prepared (not yet
 * inserted) tree recursively, which would overflow the stack here before the check runs.
 */
function appendNested(parent: Y.XmlFragment, depth: number, name = 'blockquote'): Y.XmlElement {
  let deepest!: Y.XmlElement;
  parent.doc!.transact(() => {
    let current = parent;
    for (let i = 0; i < depth; i++) {
      const next = new Y.XmlElement(name);
      current.insert(current === parent ? 0 : current.length, [next]);
      current = deepest = next;
    }
  });
  return deepest;
}

describe('content check: the rules derived from the schema', () => {
  it('lists, for each parent, every child allowed anywhere in its content, and each node’s attributes', () => {
    const { children, nodes } = contentRules(schema);
    expect([...children.get('doc')!].sort()).toEqual(['blockquote', 'bullet_list', 'code_block', 'heading', 'horizontal_rule', 'ordered_list', 'paragraph', 'table', 'task_list']);
    expect(children.get('paragraph')).toEqual(new Set([TEXT, 'hard_break', 'image']));
    expect(children.get('code_block')).toEqual(new Set([TEXT]));
    expect(children.get('list_item')!.has('paragraph')).toBe(true);
    expect(children.get('list_item')!.has('bullet_list')).toBe(true);
    expect(children.get('horizontal_rule')!.size).toBe(0);
    expect(Object.keys(nodes.get('heading')!.spec.attrs!)).toEqual(['level', 'align']);
    expect(Object.keys(nodes.get('paragraph')!.spec.attrs!)).toEqual(['align']);
  });

  it('strips y-prosemirror’s hash suffix of overlapping marks', () => {
    expect(markNameOf('link--AbC1+/=9')).toBe('link');
    expect(markNameOf('strong')).toBe('strong');
    expect(markNameOf('a--b')).toBe('a--b');
  });
});

describe('content check: fragmentProblem', () => {
  it('accepts what y-prosemirror writes for this schema', () => {
    expect(fragmentProblem(honestDoc().fragment, schema)).toBeNull();
    expect(fragmentProblem(new Y.Doc().getXmlFragment(PROSEMIRROR_FRAGMENT), schema)).toBeNull();
  });

  it('accepts an overlapping-mark key with its hash suffix', () => {
    const { fragment } = honestDoc();
    const text = new Y.XmlText();
    text.insert(0, 'x', { 'em--ABCDEFGH': {} });
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [text]);
    fragment.insert(0, [paragraph]);
    expect(fragmentProblem(fragment, schema)).toBeNull();
  });

  it.each([
    ['text at the root', (f: Y.XmlFragment) => f.insert(0, [new Y.XmlText('loose')]), /doc may not hold text/],
    ['an unknown element', (f: Y.XmlFragment) => f.insert(1, [new Y.XmlElement('script')]), /unknown node "script"/],
    ['an element named after the text node', (f: Y.XmlFragment) => f.insert(1, [new Y.XmlElement('text')]), /unknown node "text"/],
    ['the doc node inside the doc', (f: Y.XmlFragment) => f.insert(1, [new Y.XmlElement('doc')]), /doc may not hold doc/],
    [
      'a paragraph inside a paragraph',
      (f: Y.XmlFragment) => (f.get(1) as Y.XmlElement).insert(0, [new Y.XmlElement('paragraph')]),
      /paragraph may not hold paragraph/,
    ],
    ['text inside a blockquote', (f: Y.XmlFragment) => {
      const quote = new Y.XmlElement('blockquote');
      quote.insert(0, [new Y.XmlText('x')]);
      f.insert(0, [quote]);
    }, /blockquote may not hold text/],
    ['an unknown attribute', (f: Y.XmlFragment) => (f.get(1) as Y.XmlElement).setAttribute('onclick', 'x'), /unknown attribute "onclick"/],
    ['an attribute of the wrong kind', (f: Y.XmlFragment) => (f.get(0) as Y.XmlElement).setAttribute('level', 'big'), /attribute "level" of heading must be number/],
    ['an unknown mark', (f: Y.XmlFragment) => ((f.get(0) as Y.XmlElement).get(0) as Y.XmlText).format(0, 2, { blink: {} }), /unknown mark "blink"/],
    ['a link without its href', (f: Y.XmlFragment) => ((f.get(0) as Y.XmlElement).get(0) as Y.XmlText).format(0, 2, { link: { title: 't' } }), /lacks its "href"/],
    ['a mark that is not an object', (f: Y.XmlFragment) => ((f.get(0) as Y.XmlElement).get(0) as Y.XmlText).format(0, 2, { strong: 'yes' as unknown as object }), /must have an object of attributes/],
    ['an embed in text', (f: Y.XmlFragment) => ((f.get(0) as Y.XmlElement).get(0) as Y.XmlText).insertEmbed(0, { image: 'x' }), /embedded object/],
    ['an XmlHook', (f: Y.XmlFragment) => f.insert(0, [new Y.XmlHook('widget') as unknown as Y.XmlElement]), /unsupported content \(YXmlHook\)/],
    ['nesting deeper than the bound', (f: Y.XmlFragment) => appendNested(f, MAX_NESTING_DEPTH + 1).insert(0, [new Y.XmlElement('paragraph')]), /nested deeper than 100/],
  ])('refuses %s', (_what, spoil, expected) => {
    const { fragment } = honestDoc();
    spoil(fragment);
    expect(fragmentProblem(fragment, schema)).toMatch(expected);
  });

  it('refuses a value that is not an element or text at the root (a raw update can put one there)', () => {
    const { doc, fragment } = honestDoc();
    // The same root name read as an array by another client: its values land in the fragment's list.
    const other = new Y.Doc();
    other.getArray(PROSEMIRROR_FRAGMENT).insert(0, ['not xml']);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
    expect(fragmentProblem(fragment, schema)).toMatch(/unsupported content \(a value that is not an element or text\) in doc/);
  });

  it('accepts nesting at exactly the bound', () => {
    const { fragment } = honestDoc();
    appendNested(fragment, MAX_NESTING_DEPTH - 1).insert(0, [new Y.XmlElement('paragraph')]);
    expect(fragmentProblem(fragment, schema)).toBeNull();
  });

  it('walks a 10,000-deep tree without overflowing the stack', () => {
    const doc = new Y.Doc();
    const fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    appendNested(fragment, 10_000);
    expect(fragmentProblem(fragment, schema)).toMatch(/nested deeper than 100/);
    // With the bound lifted, the whole tree is visited (iteratively) and found valid in kind.
    expect(fragmentProblem(fragment, schema, 20_000)).toBeNull();
  });
});

describe('content check: changedContentProblem (what one transaction added)', () => {
  /** Runs `change` in a transaction of `doc` and returns what the check said before observers ran. */
  function checkChange(doc: Y.Doc, fragment: Y.XmlFragment, change: () => void): string | null {
    let result: string | null | undefined;
    const listener = (transaction: Y.Transaction) => (result = changedContentProblem(transaction, fragment, schema));
    doc.on('beforeObserverCalls', listener);
    doc.transact(change);
    doc.off('beforeObserverCalls', listener);
    expect(result).not.toBeUndefined();
    return result!;
  }

  it('accepts honest edits: typing, a new paragraph, formatting, a heading level', () => {
    const { doc, fragment } = honestDoc();
    const heading = fragment.get(0) as Y.XmlElement;
    const text = (fragment.get(1) as Y.XmlElement).get(0) as Y.XmlText;
    expect(checkChange(doc, fragment, () => text.insert(0, 'typed '))).toBeNull();
    expect(checkChange(doc, fragment, () => text.format(0, 3, { em: {} }))).toBeNull();
    expect(checkChange(doc, fragment, () => heading.setAttribute('level', 3 as unknown as string))).toBeNull();
    expect(
      checkChange(doc, fragment, () => {
        const paragraph = new Y.XmlElement('paragraph');
        paragraph.insert(0, [new Y.XmlText('new')]);
        fragment.insert(2, [paragraph]);
      }),
    ).toBeNull();
    expect(checkChange(doc, fragment, () => fragment.delete(0, 1))).toBeNull();
  });

  it('finds bad content added by a transaction, including deep inside a new subtree, and from a remote update', () => {
    const { doc, fragment } = honestDoc();
    expect(checkChange(doc, fragment, () => fragment.insert(0, [new Y.XmlText('loose')]))).toMatch(/doc may not hold text/);
    const fresh = honestDoc();
    expect(checkChange(fresh.doc, fresh.fragment, () => appendNested(fresh.fragment, 2_500))).toMatch(/nested deeper than 100/);
    expect(checkChange(fresh.doc, fresh.fragment, () => (fresh.fragment.get(2) as Y.XmlElement).setAttribute('style', 'x'))).toMatch(/unknown attribute "style"/);

    // A remote peer appends an unknown element inside an existing list item.
    const victim = honestDoc();
    const attacker = new Y.Doc();
    Y.applyUpdate(attacker, Y.encodeStateAsUpdate(victim.doc));
    const item = (attacker.getXmlFragment(PROSEMIRROR_FRAGMENT).get(2) as Y.XmlElement).get(0) as Y.XmlElement;
    item.insert(1, [new Y.XmlElement('iframe')]);
    expect(checkChange(victim.doc, victim.fragment, () => Y.applyUpdate(victim.doc, Y.encodeStateAsUpdate(attacker, Y.encodeStateVector(victim.doc))))).toMatch(
      /unknown node "iframe"/,
    );
  });

  it('ignores changes outside the fragment', () => {
    const { doc, fragment } = honestDoc();
    expect(checkChange(doc, fragment, () => doc.getMap('meta').set('title', 'x'))).toBeNull();
  });
});
