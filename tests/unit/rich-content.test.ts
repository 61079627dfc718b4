import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseContent, serializeContent } from '../../server/content/conversion.js';
import { diffUpdate } from '../../server/content/diff.js';
import { fragmentToDocument } from '../../server/content/fragment.js';
import { Connection } from '../../server/sync/connection.js';
import type { SyncTransport } from '../../server/sync/transport.js';
import { UpdateGuard } from '../../server/sync/update-guard.js';
import { changedContentProblem, fragmentProblem } from '../../shared/content-check.js';
import { attributeProblem, contentRules, formatProblem, TEXT } from '../../shared/content-rules.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { MAX_CELL_SPAN } from '../../shared/rich-schema.js';
import { schema } from '../../shared/schema.js';
import { cell, paragraph, RICH_BLOCKS, row, task, text } from '../helpers/rich-document.js';

const json = (doc: ReturnType<typeof parseContent>) => JSON.parse(serializeContent('json', doc)) as { content: Array<Record<string, unknown>> };
const fromMarkdown = (markdown: string) => json(parseContent('markdown', markdown)).content;
const fromHtml = (html: string) => json(parseContent('html', html)).content;
const doc = (...content: unknown[]) => schema.nodeFromJSON({ type: 'doc', content });

describe('rich content: the schema and its rules', () => {
  it('derives the local rules for the new nodes: what tables, rows, cells and task lists may hold', () => {
    const { children } = contentRules(schema);
    expect(children.get('table')).toEqual(new Set(['table_row']));
    expect(children.get('table_row')).toEqual(new Set(['table_cell', 'table_header']));
    expect(children.get('table_cell')!.has('paragraph')).toBe(true);
    expect(children.get('table_cell')!.has('table')).toBe(true);
    expect(children.get('table_cell')!.has(TEXT)).toBe(false);
    expect(children.get('task_list')).toEqual(new Set(['task_item']));
    expect(children.get('task_item')!.has('task_list')).toBe(true);
    expect(children.get('bullet_list')!.has('task_item')).toBe(false);
  });

  it('bounds the attributes a client may store: spans, widths, alignment, checked', () => {
    const rules = contentRules(schema);
    expect(attributeProblem(rules, 'table_cell', 'colspan', 2)).toBeNull();
    expect(attributeProblem(rules, 'table_cell', 'colspan', 1e9)).toMatch(/colspan" of table_cell must be a whole number from 1 to 1000/);
    expect(attributeProblem(rules, 'table_header', 'rowspan', 0)).toMatch(/whole number/);
    expect(attributeProblem(rules, 'table_cell', 'colspan', 1.5)).toMatch(/whole number/);
    expect(attributeProblem(rules, 'table_cell', 'colwidth', [120, 80])).toBeNull();
    expect(attributeProblem(rules, 'table_cell', 'colwidth', null)).toBeNull();
    expect(attributeProblem(rules, 'table_cell', 'colwidth', 'wide')).toMatch(/colwidth" of table_cell must be null or an array/);
    expect(attributeProblem(rules, 'table_cell', 'colwidth', [1e9])).toMatch(/widths from 0 to 10000/);
    expect(attributeProblem(rules, 'table_cell', 'colwidth', new Array(MAX_CELL_SPAN + 1).fill(1))).toMatch(/at most 1000/);
    expect(attributeProblem(rules, 'paragraph', 'align', 'center')).toBeNull();
    expect(attributeProblem(rules, 'heading', 'align', 'expression(alert(1))')).toMatch(/align" of heading must be null or one of center, right, justify/);
    expect(attributeProblem(rules, 'task_item', 'checked', true)).toBeNull();
    expect(attributeProblem(rules, 'task_item', 'checked', 'yes')).toMatch(/checked" of task_item must be boolean/);
    expect(formatProblem(rules, 'paragraph', 'strike', {})).toBeNull();
    expect(formatProblem(rules, 'paragraph', 'highlight', { color: 'red' })).toMatch(/unknown attribute "color" of mark "highlight"/);
    expect(formatProblem(rules, 'code_block', 'underline', {})).toMatch(/not allowed in code_block/);
  });

  it('accepts what y-prosemirror writes for rich content, and refuses a bad cell span in a remote update', () => {
    const ydoc = new Y.Doc();
    const fragment = ydoc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    Y.applyUpdate(ydoc, diffUpdate(Y.encodeStateAsUpdate(ydoc), doc(...RICH_BLOCKS))!);
    expect(fragmentProblem(fragment, schema)).toBeNull();
    expect(fragmentToDocument(fragment, schema).toJSON()).toEqual(doc(...RICH_BLOCKS).toJSON());

    let problem: string | null = null;
    ydoc.on('beforeObserverCalls', (transaction: Y.Transaction) => (problem = changedContentProblem(transaction, fragment, schema)));
    const table = fragment.toArray().find((node) => node instanceof Y.XmlElement && node.nodeName === 'table') as Y.XmlElement;
    const firstCell = (table.get(0) as Y.XmlElement).get(0) as Y.XmlElement;
    firstCell.setAttribute('colspan', 1e9 as unknown as string);
    expect(problem).toMatch(/colspan/);
  });

  it('the server accepts rich content from an editor and refuses bad spans, widths, alignments and misplaced nodes', () => {
    const server = new Y.Doc();
    const socket: SyncTransport = { kind: 'websocket', send() {}, close() {}, bufferedAmount: 0, pause() {}, resume() {} };
    const writer = new Connection(socket, { subject: 'alice', canWrite: true }, 1 << 20);
    const guard = new UpdateGuard(server, { content: { fragment: PROSEMIRROR_FRAGMENT, rules: contentRules(schema) } });
    // What y-prosemirror writes for the rich document, with a resized column and a checked task.
    const widths = structuredClone(RICH_BLOCKS) as Array<{ type: string; content: Array<{ content: Array<{ attrs: Record<string, unknown> }> }> }>;
    widths.find((block) => block.type === 'table')!.content[0]!.content[0]!.attrs.colwidth = [180];
    const honest = diffUpdate(Y.encodeStateAsUpdate(server), doc(...widths))!;
    guard.check(writer, honest);
    Y.applyUpdate(server, honest);
    expect(fragmentToDocument(server.getXmlFragment(PROSEMIRROR_FRAGMENT), schema).toJSON()).toEqual(doc(...widths).toJSON());

    const attack = (build: (fragment: Y.XmlFragment) => void) => {
      const client = new Y.Doc();
      Y.applyUpdate(client, Y.encodeStateAsUpdate(server));
      const start = Y.encodeStateVector(client);
      build(client.getXmlFragment(PROSEMIRROR_FRAGMENT));
      return Y.encodeStateAsUpdate(client, start);
    };
    const firstCell = (f: Y.XmlFragment) => ((f.toArray().find((n) => (n as Y.XmlElement).nodeName === 'table') as Y.XmlElement).get(0) as Y.XmlElement).get(0) as Y.XmlElement;
    const cases: Array<[(f: Y.XmlFragment) => void, RegExp]> = [
      [(f) => firstCell(f).setAttribute('colspan', 1e9 as unknown as string), /colspan" of table_header must be a whole number/],
      [(f) => firstCell(f).setAttribute('colwidth', 'wide'), /colwidth" of table_header must be null or an array/],
      [(f) => (f.get(0) as Y.XmlElement).setAttribute('align', 'expression(x)'), /align" of heading must be null/],
      [(f) => ((f.toArray().find((n) => (n as Y.XmlElement).nodeName === 'table') as Y.XmlElement).get(0) as Y.XmlElement).insert(0, [new Y.XmlText('loose')]), /table_row may not hold text/],
      [(f) => { const list = new Y.XmlElement('bullet_list'); list.insert(0, [new Y.XmlElement('task_item')]); f.push([list]); }, /bullet_list may not hold task_item/],
      [(f) => ((f.get(1) as Y.XmlElement).get(0) as Y.XmlText).format(0, 3, { highlight: { color: 'red' } }), /unknown attribute "color" of mark "highlight"/],
    ];
    for (const [build, reason] of cases) expect(() => guard.check(writer, attack(build)), String(reason)).toThrow(reason);
  });

  it('opens documents written before rich content unchanged: no alignment stored, none exported', () => {
    const ydoc = new Y.Doc();
    const fragment = ydoc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    const old = new Y.XmlElement('paragraph');
    old.insert(0, [new Y.XmlText('written last year')]);
    const heading = new Y.XmlElement('heading');
    heading.setAttribute('level', 2 as unknown as string);
    heading.insert(0, [new Y.XmlText('Old heading')]);
    fragment.insert(0, [heading, old]);
    const read = fragmentToDocument(fragment, schema);
    expect(json(read).content).toEqual([{ type: 'heading', attrs: { level: 2 }, content: [text('Old heading')] }, paragraph(text('written last year'))]);
    expect(serializeContent('html', read)).toBe('<h2>Old heading</h2><p>written last year</p>');
    expect(serializeContent('markdown', read)).toBe('## Old heading\n\nwritten last year');
    // Nothing to write back: the editor's binding of this document changes nothing.
    expect(diffUpdate(Y.encodeStateAsUpdate(ydoc), read)).toBeNull();
  });
});

describe('rich content: Markdown', () => {
  it('writes GFM tables, task lists and ~~strike~~, and underline, highlight and alignment as HTML', () => {
    const markdown = serializeContent('markdown', doc(...RICH_BLOCKS));
    expect(markdown).toBe(
      [
        '<div align="center">',
        '',
        '## Centered heading',
        '',
        '</div>',
        '',
        '<div align="right">',
        '',
        'Right-aligned with <u>underline</u> and <mark>highlight</mark>',
        '',
        '</div>',
        '',
        '<div align="justify">',
        '',
        'Justified, ~~struck~~, ~~<u><mark>all three</mark></u>~~',
        '',
        '</div>',
        '',
        '| Task | Owner | Days |',
        '| --- | :---: | ---: |',
        '| Pipes \\| and `code\\|x` | **Ada** | 3 |',
        '| Two<br>lines |  | 12 |',
        '',
        '- [ ] Write the plan',
        '- [x] Book the room *now*',
        '  - [x] Nested, done',
        '  - [ ] Nested, open',
      ].join('\n'),
    );
  });

  it('reads GitHub-flavoured input: a table, a task list, nested tasks, strikethrough', () => {
    const content = fromMarkdown('| a | b |\n|---|:-:|\n| 1 | 2 |\n\n- [ ] open\n- [X] done\n    - [ ] deeper\n\n~~old~~ new');
    expect(content).toEqual([
      {
        type: 'table',
        content: [
          row(cell('table_header', paragraph(text('a'))), cell('table_header', { type: 'paragraph', attrs: { align: 'center' }, content: [text('b')] })),
          row(cell('table_cell', paragraph(text('1'))), cell('table_cell', { type: 'paragraph', attrs: { align: 'center' }, content: [text('2')] })),
        ],
      },
      {
        type: 'task_list',
        content: [task(false, paragraph(text('open'))), task(true, paragraph(text('done')), { type: 'task_list', content: [task(false, paragraph(text('deeper')))] })],
      },
      paragraph(text('old', { type: 'strike' }), text(' new')),
    ]);
  });

  it('keeps lists with some unboxed items, unpaired tags and escaped tags as the text they are', () => {
    expect(fromMarkdown('- [ ] boxed\n- plain')).toEqual([
      { type: 'bullet_list', content: [{ type: 'list_item', content: [paragraph(text('[ ] boxed'))] }, { type: 'list_item', content: [paragraph(text('plain'))] }] },
    ]);
    expect(fromMarkdown('a <u>b and </mark> c')).toEqual([paragraph(text('a <u>b and </mark> c'))]);
    expect(fromMarkdown('<script>x</script> <b>not bold</b>')).toEqual([paragraph(text('<script>x</script> <b>not bold</b>'))]);
    const literal = doc(paragraph(text('Type <u>, <mark>, <br> or <mailto:ada> literally')), paragraph(text('<div align="center">')));
    const markdown = serializeContent('markdown', literal);
    expect(markdown).toContain('\\<u>');
    expect(json(parseContent('markdown', markdown))).toEqual(json(literal));
  });

  it('flattens what GFM cannot hold: merged cells, several blocks in a cell, a table without a header row', () => {
    const merged = doc({
      type: 'table',
      content: [
        row({ type: 'table_cell', attrs: { colspan: 2, rowspan: 1, colwidth: null }, content: [paragraph(text('wide'))] }, cell('table_cell', paragraph(text('c')))),
        row({ type: 'table_cell', attrs: { colspan: 1, rowspan: 2, colwidth: null }, content: [paragraph(text('tall')), paragraph(text('second block'))] }, cell('table_cell', paragraph(text('e'))), cell('table_cell', paragraph(text('f')))),
        row(cell('table_cell', paragraph(text('h'))), cell('table_cell', paragraph(text('i')))),
      ],
    });
    const markdown = serializeContent('markdown', merged);
    expect(markdown).toBe(['| wide |  | c |', '| --- | --- | --- |', '| tall<br>second block | e | f |', '|  | h | i |'].join('\n'));
    // Read back: the first row is the header, the blocks one paragraph with a line break.
    const table = fromMarkdown(markdown)[0] as { content: Array<{ content: Array<{ type: string; content: unknown[] }> }> };
    expect(table.content[0]!.content.map((c) => c.type)).toEqual(['table_header', 'table_header', 'table_header']);
    expect(table.content[1]!.content[0]!.content).toEqual([paragraph(text('tall'), { type: 'hard_break' }, text('second block'))]);
  });
});

describe('rich content: HTML and JSON', () => {
  it('reads task lists and alignment as other tools write them', () => {
    expect(
      fromHtml(
        '<ul class="contains-task-list"><li class="task-list-item"><input type="checkbox" disabled checked> shipped</li><li class="task-list-item"><input type="checkbox" disabled> pending</li></ul>' +
          '<p style="text-align: center">centered</p><p style="text-align: left">left is the default</p><h3 align="right">right</h3>' +
          '<p><del>gone</del> <strike>old</strike> <u>under</u> <mark>marked</mark></p>',
      ),
    ).toEqual([
      { type: 'task_list', content: [task(true, paragraph(text('shipped'))), task(false, paragraph(text('pending')))] },
      { type: 'paragraph', attrs: { align: 'center' }, content: [text('centered')] },
      paragraph(text('left is the default')),
      { type: 'heading', attrs: { level: 3, align: 'right' }, content: [text('right')] },
      paragraph(text('gone', { type: 'strike' }), text(' '), text('old', { type: 'strike' }), text(' '), text('under', { type: 'underline' }), text(' '), text('marked', { type: 'highlight' })),
    ]);
  });

  it('keeps merged cells and column widths through HTML and JSON', () => {
    const table = {
      type: 'table',
      content: [
        row({ type: 'table_header', attrs: { colspan: 2, rowspan: 1, colwidth: [120, 80] }, content: [paragraph(text('wide'))] }),
        // prosemirror-tables keeps a column's width on every cell of it
        row(
          { type: 'table_cell', attrs: { colspan: 1, rowspan: 1, colwidth: [120] }, content: [paragraph(text('a'))] },
          { type: 'table_cell', attrs: { colspan: 1, rowspan: 1, colwidth: [80] }, content: [paragraph(text('b'))] },
        ),
      ],
    };
    for (const format of ['html', 'json'] as const) {
      expect(json(parseContent(format, serializeContent(format, doc(table)))).content).toEqual([table]);
    }
    expect(serializeContent('html', doc(table))).toMatch(/<th (colspan="2" data-colwidth="120,80"|data-colwidth="120,80" colspan="2")>/);
  });

  it('fits hostile or sloppy tables: spans clamped, ragged rows made rectangular, widths that do not fit dropped', () => {
    const tableOf = (...rows: unknown[]) => JSON.stringify({ type: 'doc', content: [{ type: 'table', content: rows }] });
    // A span past the bound is not a span the schema has: the cell keeps its text, with the default span.
    const huge = json(parseContent('json', tableOf(row({ type: 'table_cell', attrs: { colspan: 1e9, rowspan: 1, colwidth: 'x' }, content: [paragraph(text('huge'))] }))));
    expect(huge.content).toEqual([{ type: 'table', content: [row(cell('table_cell', paragraph(text('huge'))))] }]);
    // Ragged rows are filled to the table's width (prosemirror-tables' fixTables, as the editor does).
    const ragged = json(parseContent('json', tableOf(row(cell('table_cell', paragraph(text('a'))), cell('table_cell', paragraph(text('b')))), row(cell('table_cell', paragraph(text('c')))))));
    expect((ragged.content[0] as { content: Array<{ content: unknown[] }> }).content.map((r) => r.content.length)).toEqual([2, 2]);
    expect(serializeContent('text', parseContent('html', '<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>'))).toBe('a\nb\nc\n');
    expect(serializeContent('html', parseContent('html', '<table><tr><td colspan="1000000000" rowspan="-3" data-colwidth="99999">x</td></tr></table>'))).toBe(
      `<table><tbody><tr><td colspan="${MAX_CELL_SPAN}"><p>x</p></td></tr></tbody></table>`,
    );
  });
});
