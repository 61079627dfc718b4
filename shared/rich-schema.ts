import type { MarkSpec, NodeSpec } from 'prosemirror-model';
import { tableNodes } from 'prosemirror-tables';

/**
 * The schema's rich-content additions: tables (prosemirror-tables' node specs), task lists,
 * strikethrough, underline, highlight and text alignment of paragraphs and headings. Spread into
 * shared/schema.ts after the original nodes and marks. Every addition is optional in stored
 * documents: the new attributes default to what documents written before them mean (no
 * alignment), so existing documents open unchanged.
 */

/** The parts of a DOM element the parse rules read (the server compiles without the DOM types). */
interface ParsedElement {
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  querySelector(selectors: string): ParsedElement | null;
  style: { textAlign: string };
}
const el = (dom: unknown) => dom as ParsedElement;

/**
 * Alignments a paragraph or heading may have; null (the default) is the text direction's start.
 * "left" and "start" are read as null: Word and Google Docs write them on every paragraph.
 */
export const TEXT_ALIGNMENTS = ['center', 'right', 'justify'] as const;
export type TextAlignment = (typeof TEXT_ALIGNMENTS)[number];

export function isTextAlignment(value: unknown): value is TextAlignment {
  return typeof value === 'string' && (TEXT_ALIGNMENTS as readonly string[]).includes(value);
}

function validateAlign(value: unknown): void {
  if (value !== null && !isTextAlignment(value)) throw new TypeError(`must be null or one of ${TEXT_ALIGNMENTS.join(', ')}`);
}

/** The alignment an element asks for (style, then the legacy attribute), or null. */
function alignOf(dom: unknown): TextAlignment | null {
  const element = el(dom);
  const value = (element.style?.textAlign || element.getAttribute('align') || '').trim().toLowerCase();
  return isTextAlignment(value) ? value : null;
}

const alignAttr = { align: { default: null, validate: validateAlign } };
const alignStyle = (align: unknown): Record<string, string> => (isTextAlignment(align) ? { style: `text-align: ${align}` } : {});

/** Paragraph and heading: their original parse rules and rendering, plus the `align` attribute. */
export const textAlignAttrs: { paragraph: NodeSpec; heading: NodeSpec } = {
  paragraph: {
    attrs: alignAttr,
    parseDOM: [{ tag: 'p', getAttrs: (dom) => ({ align: alignOf(dom) }) }],
    toDOM: (node) => (node.attrs.align ? ['p', alignStyle(node.attrs.align), 0] : ['p', 0]),
  },
  heading: {
    attrs: { level: { default: 1, validate: 'number' }, ...alignAttr },
    parseDOM: [1, 2, 3, 4, 5, 6].map((level) => ({ tag: `h${level}`, getAttrs: (dom) => ({ level, align: alignOf(dom) }) })),
    toDOM: (node) => {
      const tag = `h${Math.min(6, Math.max(1, Number(node.attrs.level) || 1))}`;
      return node.attrs.align ? [tag, alignStyle(node.attrs.align), 0] : [tag, 0];
    },
  },
};

/**
 * Largest colspan and rowspan of a table cell. prosemirror-tables builds a map of width × height
 * entries per table, so an unbounded span in one cell (colspan 1e9: an 8 GB array) would take
 * down every editor that shows it; merges people make stay far below this.
 */
export const MAX_CELL_SPAN = 1000;
/** Widest column (in CSS pixels) a resize may store. */
export const MAX_COLUMN_WIDTH = 10_000;

function validateSpan(value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CELL_SPAN) {
    throw new TypeError(`must be a whole number from 1 to ${MAX_CELL_SPAN}`);
  }
}

function validateColwidth(value: unknown): void {
  if (value === null) return;
  if (!Array.isArray(value) || value.length > MAX_CELL_SPAN) throw new TypeError(`must be null or an array of at most ${MAX_CELL_SPAN} widths`);
  for (const width of value) {
    if (typeof width !== 'number' || !Number.isFinite(width) || width < 0 || width > MAX_COLUMN_WIDTH) throw new TypeError(`must hold widths from 0 to ${MAX_COLUMN_WIDTH}`);
  }
}

const clampSpan = (raw: string | null) => Math.min(MAX_CELL_SPAN, Math.max(1, Math.trunc(Number(raw)) || 1));

/**
 * A cell element's attributes, as prosemirror-tables reads them (colspan, rowspan, data-colwidth)
 * but clamped to the bounds: the validators above throw during parsing otherwise.
 */
function cellAttrsOf(dom: unknown): Record<string, unknown> {
  const element = el(dom);
  const colspan = clampSpan(element.getAttribute('colspan'));
  const widths = /^\d+(,\d+)*$/.test(element.getAttribute('data-colwidth') ?? '') ? element.getAttribute('data-colwidth')!.split(',').map(Number) : null;
  const colwidth = widths && widths.length === colspan && widths.every((width) => width <= MAX_COLUMN_WIDTH) ? widths : null;
  return { colspan, rowspan: clampSpan(element.getAttribute('rowspan')), colwidth };
}

/** prosemirror-tables' table, table_row, table_cell and table_header, with bounded cell attributes. */
function tables(): Record<string, NodeSpec> {
  const specs = tableNodes({ tableGroup: 'block', cellContent: 'block+', cellAttributes: {} });
  for (const [name, tag] of [['table_cell', 'td'], ['table_header', 'th']] as const) {
    const attrs = specs[name].attrs!;
    specs[name] = {
      ...specs[name],
      parseDOM: [{ tag, getAttrs: cellAttrsOf }],
      attrs: {
        colspan: { ...attrs.colspan, validate: validateSpan },
        rowspan: { ...attrs.rowspan, validate: validateSpan },
        colwidth: { ...attrs.colwidth, validate: validateColwidth },
      },
    };
  }
  return specs;
}

/** Whether a task item's element is checked: our data attribute, or a checkbox inside (GitHub, exported HTML). */
function checkedOf(dom: unknown): boolean {
  const element = el(dom);
  const data = element.getAttribute('data-checked');
  if (data !== null) return data === 'true';
  return element.querySelector('input[type="checkbox"]')?.hasAttribute('checked') ?? false;
}

export const richNodes: Record<string, NodeSpec> = {
  ...tables(),

  task_list: {
    content: 'task_item+',
    group: 'block',
    parseDOM: [
      { tag: 'ul[data-type="taskList"]', priority: 60 },
      { tag: 'ul.contains-task-list', priority: 60 },
    ],
    toDOM: () => ['ul', { 'data-type': 'taskList' }, 0],
  },

  task_item: {
    attrs: { checked: { default: false, validate: 'boolean' } },
    content: 'paragraph block*',
    defining: true,
    parseDOM: [
      { tag: 'li[data-type="taskItem"]', priority: 60, getAttrs: (dom) => ({ checked: checkedOf(dom) }) },
      { tag: 'li.task-list-item', priority: 60, getAttrs: (dom) => ({ checked: checkedOf(dom) }) },
    ],
    // The checkbox makes exported HTML readable as a checklist; the editor draws its own (task-list.ts).
    toDOM: (node) => [
      'li',
      { 'data-type': 'taskItem', 'data-checked': String(node.attrs.checked === true) },
      ['input', node.attrs.checked === true ? { type: 'checkbox', checked: 'checked', disabled: 'disabled' } : { type: 'checkbox', disabled: 'disabled' }],
      ['div', 0],
    ],
  },
};

export const richMarks: Record<string, MarkSpec> = {
  strike: {
    parseDOM: [{ tag: 's' }, { tag: 'del' }, { tag: 'strike' }, { style: 'text-decoration=line-through' }, { style: 'text-decoration-line=line-through' }],
    toDOM: () => ['s', 0],
  },

  underline: {
    // The tag only: Google Docs underlines every link with a style, which must not become a mark.
    parseDOM: [{ tag: 'u' }],
    toDOM: () => ['u', 0],
  },

  highlight: {
    parseDOM: [{ tag: 'mark' }],
    toDOM: () => ['mark', 0],
  },
};
