import type { Node as PMNode } from 'prosemirror-model';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { diffUpdate } from '../../server/content/diff.js';
import { ContentError, parseContent, serializeContent, type ContentFormat } from '../../server/content/conversion.js';
import { editorFragment, fragmentText, fragmentToDocument } from '../../server/content/fragment.js';
import { missingDependency } from '../../server/content/update-dependencies.js';
import { MAX_NESTING_DEPTH } from '../../shared/content-rules.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';
import { paragraph, RICH_BLOCKS, text } from '../helpers/rich-document.js';

const item = (...content: unknown[]) => ({ type: 'list_item', content });

/** Every node and mark of the schema, in the places people put them, with characters Markdown escapes. */
const EVERYTHING = {
  type: 'doc',
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [text('Title with '), text('emphasis', { type: 'em' })] },
    { type: 'heading', attrs: { level: 3 }, content: [text('Level three')] },
    paragraph(
      text('Plain, '),
      text('strong', { type: 'strong' }),
      text(', '),
      text('both', { type: 'em' }, { type: 'strong' }),
      text(', '),
      text('code()', { type: 'code' }),
      text(', a '),
      text('link', { type: 'link', attrs: { href: 'https://example.com/a?b=1', title: 'Example' } }),
      text(' and '),
      text('mail', { type: 'link', attrs: { href: 'mailto:ada@example.com', title: null } }),
      text('. Special: * _ # [x] <tag> & `tick`'),
      { type: 'hard_break' },
      text('after a break'),
    ),
    { type: 'blockquote', content: [paragraph(text('Quoted')), { type: 'blockquote', content: [paragraph(text('nested quote'))] }] },
    { type: 'code_block', content: [text('const a = 1;\nif (a < 2) { return "*x*"; }')] },
    { type: 'horizontal_rule' },
    {
      type: 'bullet_list',
      content: [item(paragraph(text('one'))), item(paragraph(text('two')), { type: 'ordered_list', attrs: { order: 1 }, content: [item(paragraph(text('two.a')))] })],
    },
    { type: 'ordered_list', attrs: { order: 3 }, content: [item(paragraph(text('three'))), item(paragraph(text('four')))] },
    paragraph({ type: 'image', attrs: { src: '/api/documents/team%2Fnotes/files/n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg', alt: 'A chart', width: null } }),
    ...RICH_BLOCKS,
    paragraph(text('The end.')),
  ],
};

const roundTrip = (format: ContentFormat, doc: PMNode) => parseContent(format, serializeContent(format, doc));
/** The document as the content API exports it (ProseMirror JSON without the default alignment). */
const asJson = (doc: PMNode) => JSON.parse(serializeContent('json', doc)) as { type: string; content: unknown[] };

describe('content conversion', () => {
  const doc = schema.nodeFromJSON(EVERYTHING);

  it('holds every node and mark of the schema in the test document', () => {
    doc.check();
    const nodes = new Set<string>([doc.type.name]);
    const marks = new Set<string>();
    doc.descendants((node) => {
      nodes.add(node.type.name);
      for (const mark of node.marks) marks.add(mark.type.name);
    });
    expect([...nodes].sort()).toEqual(Object.keys(schema.nodes).sort());
    expect([...marks].sort()).toEqual(Object.keys(schema.marks).sort());
  });

  it.each(['markdown', 'html', 'json'] as const)('round-trips every node and mark through %s to the same ProseMirror JSON', (format) => {
    expect(asJson(roundTrip(format, doc))).toEqual(EVERYTHING);
  });

  it('round-trips plain text line for line', () => {
    const plain = 'first line\n\n  indented  twice\nlast';
    expect(serializeContent('text', parseContent('text', plain))).toBe(plain);
    expect(serializeContent('text', doc)).toContain('Plain, strong, both, code(), a link and mail.');
  });

  it('imports HTML: unknown tags unwrapped, scripts, handlers and unsafe links gone', () => {
    const hostile = parseContent(
      'html',
      '<section><h2 onclick="steal()">Heading</h2><custom-card><p>In a <span class="x">card</span></p></custom-card></section>' +
        '<script>alert(1)</script><style>p { color: red }</style><img src="x" onerror="alert(2)">' +
        '<p><a href="javascript:alert(3)">js link</a> <a href="data:text/html,<script>alert(4)</script>">data link</a> ' +
        '<a href="//evil.example/">protocol-relative</a> <a href="example.com/page">bare</a> <a href="/local">local</a></p>' +
        '<iframe src="https://evil.example/"></iframe><p><b style="font-weight: normal">not bold</b> <span style="font-weight: bold">bold</span></p>',
    );
    const json = JSON.stringify(asJson(hostile));
    for (const gone of ['script', 'alert', 'onclick', 'steal', 'style', 'javascript', 'data:', 'evil.example', 'iframe', 'onerror']) expect(json).not.toContain(gone);
    const html = serializeContent('html', hostile);
    expect(html).not.toMatch(/<script|onclick|onerror|javascript:|<iframe|<img/i);
    expect(asJson(hostile).content).toEqual([
      { type: 'heading', attrs: { level: 2 }, content: [text('Heading')] },
      paragraph(text('In a card')),
      paragraph(
        text('js link data link protocol-relative '),
        text('bare', { type: 'link', attrs: { href: 'https://example.com/page', title: null } }),
        text(' '),
        text('local', { type: 'link', attrs: { href: '/local', title: null } }),
      ),
      paragraph(text('not bold '), text('bold', { type: 'strong' })),
    ]);
  });

  it('imports Markdown: unsafe links dropped, images of other sources as links, raw HTML as text, bare URLs as links', () => {
    const parsed = parseContent('markdown', '[x](javascript:alert(1)) ![alt](./i.png) <script>alert(2)</script> see https://example.org');
    expect(asJson(parsed).content).toEqual([
      paragraph(
        text('[x](javascript:alert(1)) '),
        text('alt', { type: 'link', attrs: { href: './i.png', title: null } }),
        text(' <script>alert(2)</script> see '),
        text('https://example.org', { type: 'link', attrs: { href: 'https://example.org', title: null } }),
      ),
    ]);
    expect(serializeContent('html', parsed)).toContain('&lt;script&gt;');
  });

  it('imports JSON that does not fit as the nearest thing: unknown nodes unwrapped, unknown marks and bad links dropped', () => {
    const parsed = parseContent(
      'json',
      JSON.stringify({
        type: 'doc',
        content: [
          { type: 'callout', content: [paragraph(text('inside  callout', { type: 'blink' }, { type: 'em' }))] },
          text('text at the root'),
          { type: 'heading', attrs: { level: 99, onclick: 'x()' }, content: [text('deep heading')] },
          paragraph(text('bad', { type: 'link', attrs: { href: 'javascript:alert(1)' } })),
        ],
      }),
    );
    expect(asJson(parsed).content).toEqual([
      paragraph(text('inside  callout', { type: 'em' })),
      paragraph(text('text at the root')),
      { type: 'heading', attrs: { level: 6 }, content: [text('deep heading')] },
      paragraph(text('bad')),
    ]);
    expect(() => parseContent('json', '{"type":')).toThrow(ContentError);
    expect(() => parseContent('json', '[1, 2]')).toThrow(ContentError);
  });

  it('refuses nesting beyond the server bound in every format, without overflowing the stack', () => {
    const depth = 150;
    expect(() => parseContent('markdown', '>'.repeat(depth) + ' deep')).toThrow(/nested deeper/);
    expect(() => parseContent('markdown', '>'.repeat(100_000) + ' deep')).toThrow(/nested deeper/);
    expect(() => parseContent('html', '<blockquote>'.repeat(depth) + '<p>deep</p>')).toThrow(/nested deeper/);
    expect(() => parseContent('html', '<div>'.repeat(100_000) + 'deep')).toThrow(/HTML nested deeper than 256/);
    let json: unknown = paragraph(text('deep'));
    for (let i = 0; i < depth; i++) json = { type: 'blockquote', content: [json] };
    expect(() => parseContent('json', JSON.stringify({ type: 'doc', content: [json] }))).toThrow(/nested deeper/);
    const huge = '{"type":"doc","content":[' + '{"type":"blockquote","content":['.repeat(50_000) + ']}'.repeat(50_000) + ']}';
    expect(() => parseContent('json', huge)).toThrow(/JSON nested deeper/);
    // Just within the bound is fine: 98 quotes, a paragraph at 99, its text at 100.
    expect(parseContent('markdown', '>'.repeat(MAX_NESTING_DEPTH - 2) + ' ok').textContent).toBe('ok');
  });

  it('reads a Yjs fragment without changing it, and without recursion limits even past the bound', () => {
    const ydoc = new Y.Doc();
    const fragment = ydoc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    Y.applyUpdate(ydoc, diffUpdate(Y.encodeStateAsUpdate(ydoc), doc)!);
    expect(asJson(fragmentToDocument(fragment, schema))).toEqual(EVERYTHING);
    // Content that does not fit (stored before the checks existed): left out, never deleted.
    // Built one integrated level at a time (Yjs integrates prepared trees recursively).
    let deep = new Y.XmlElement('blockquote');
    fragment.insert(fragment.length, [deep]);
    for (let i = 0; i < 1_000; i++) {
      const next = new Y.XmlElement('blockquote');
      deep.insert(0, [next]);
      deep = next;
    }
    const unknown = new Y.XmlElement('marquee');
    unknown.insert(0, [new Y.XmlText('kept text')]);
    const wrapper = new Y.XmlElement('paragraph');
    wrapper.insert(0, [unknown]);
    fragment.insert(fragment.length, [wrapper]);
    const before = Y.encodeStateAsUpdate(ydoc);
    const read = fragmentToDocument(editorFragment(ydoc), schema);
    expect(Buffer.from(Y.encodeStateAsUpdate(ydoc)).equals(Buffer.from(before))).toBe(true);
    expect(read.lastChild!.textContent).toBe('kept text');
    for (const format of ['markdown', 'html', 'json', 'text'] as const) expect(typeof serializeContent(format, read)).toBe('string');
    expect(fragmentText(ydoc)).toContain('kept text');
  });

  it('diffs minimally: unchanged blocks keep their Yjs identity, an append only adds', () => {
    const ydoc = new Y.Doc();
    const fragment = ydoc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    Y.applyUpdate(ydoc, diffUpdate(Y.encodeStateAsUpdate(ydoc), parseContent('markdown', 'first\n\nsecond\n\nthird'))!);
    const [first, second, third] = fragment.toArray();
    const replaced = parseContent('markdown', 'first\n\nsecond, edited\n\nthird');
    const update = diffUpdate(Y.encodeStateAsUpdate(ydoc), replaced)!;
    // No deletion of the blocks that stayed: only the changed text is touched.
    const decoded = Y.decodeUpdate(update);
    expect(decoded.structs.every((struct) => !(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentType))).toBe(true);
    Y.applyUpdate(ydoc, update);
    expect(fragment.toArray()).toEqual([first, second, third]);
    expect(asJson(fragmentToDocument(fragment, schema))).toEqual(asJson(replaced));
    expect(diffUpdate(Y.encodeStateAsUpdate(ydoc), replaced)).toBeNull();
  });

  it('finds what an update needs that the document does not have', () => {
    const server = new Y.Doc();
    const client = new Y.Doc();
    const first: Uint8Array[] = [];
    client.on('update', (update: Uint8Array) => first.push(update));
    client.getText('t').insert(0, 'hello');
    client.getText('t').insert(5, ' world');
    expect(missingDependency(server, first[0]!)).toBeNull();
    expect(missingDependency(server, first[1]!)).toMatch(/from clock 0/);
    Y.applyUpdate(server, first[0]!);
    expect(missingDependency(server, first[1]!)).toBeNull();
    expect(missingDependency(server, new Uint8Array([1, 2, 3]))).toBeNull(); // malformed: the guard's to refuse
  });
});
