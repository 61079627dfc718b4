/**
 * ProseMirror JSON of the schema's rich content (tables, task lists, strikethrough, underline,
 * highlight, alignment) as people write it, in the form every format holds without loss: the
 * content tests round-trip it through Markdown, HTML and JSON.
 */
export const text = (value: string, ...marks: Array<Record<string, unknown>>) => ({ type: 'text', text: value, ...(marks.length > 0 && { marks }) });
export const paragraph = (...content: unknown[]) => ({ type: 'paragraph', content });
const aligned = (align: string, ...content: unknown[]) => ({ type: 'paragraph', attrs: { align }, ...(content.length > 0 && { content }) });
const cellAttrs = { colspan: 1, rowspan: 1, colwidth: null };
export const cell = (type: 'table_cell' | 'table_header', ...content: unknown[]) => ({ type, attrs: cellAttrs, content });
export const row = (...cells: unknown[]) => ({ type: 'table_row', content: cells });
export const task = (checked: boolean, ...content: unknown[]) => ({ type: 'task_item', attrs: { checked }, content });

export const RICH_BLOCKS = [
  { type: 'heading', attrs: { level: 2, align: 'center' }, content: [text('Centered heading')] },
  aligned('right', text('Right-aligned with '), text('underline', { type: 'underline' }), text(' and '), text('highlight', { type: 'highlight' })),
  aligned('justify', text('Justified, '), text('struck', { type: 'strike' }), text(', '), text('all three', { type: 'strike' }, { type: 'underline' }, { type: 'highlight' })),
  {
    type: 'table',
    content: [
      row(cell('table_header', paragraph(text('Task'))), cell('table_header', aligned('center', text('Owner'))), cell('table_header', aligned('right', text('Days')))),
      row(
        cell('table_cell', paragraph(text('Pipes | and '), text('code|x', { type: 'code' }))),
        cell('table_cell', aligned('center', text('Ada', { type: 'strong' }))),
        cell('table_cell', aligned('right', text('3'))),
      ),
      row(cell('table_cell', paragraph(text('Two'), { type: 'hard_break' }, text('lines'))), cell('table_cell', aligned('center')), cell('table_cell', aligned('right', text('12')))),
    ],
  },
  {
    type: 'task_list',
    content: [
      task(false, paragraph(text('Write the plan'))),
      task(true, paragraph(text('Book the room '), text('now', { type: 'em' })), {
        type: 'task_list',
        content: [task(true, paragraph(text('Nested, done'))), task(false, paragraph(text('Nested, open')))],
      }),
    ],
  },
];
