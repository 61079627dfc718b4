import Token from 'markdown-it/lib/token.mjs';
import type { Node as PMNode } from 'prosemirror-model';
import type { MarkdownSerializerState, ParseSpec } from 'prosemirror-markdown';
import { isTextAlignment, type TextAlignment } from './rich-schema.js';

/**
 * Markdown for the schema's rich content, both ways:
 *
 * - tables: GFM tables. What GFM cannot hold is flattened on export: merged cells are written as
 *   the cell followed by empty ones, several blocks in a cell are joined with `<br>`, a table whose
 *   first row is not a header row gets its first row as the header (that is how GFM reads it back),
 *   and a column's alignment (`:---:`) is the alignment its cells' paragraphs share.
 * - task lists: `- [ ] todo`, `- [x] done`, nested like any list; a list becomes a task list only
 *   when every item has a box (as GitHub shows it otherwise: text).
 * - strikethrough: `~~text~~` (GFM).
 * - underline, highlight: `<u>text</u>`, `<mark>text</mark>` (Markdown has no syntax; GitHub and
 *   most renderers show these tags), read back by markdown-inline-html.ts.
 * - alignment of paragraphs and headings: the block between `<div align="center">` and `</div>`
 *   lines, as GitHub READMEs do it; read back without enabling raw HTML (markdown-it sees those
 *   lines as paragraphs of text, which fitBlockTokens recognises and removes).
 */

/** A paragraph of only this text opens an aligned region; `</div>` closes it. */
const ALIGN_OPEN = /^<div align="(center|right|justify)">$/;
const ALIGN_CLOSE = /^<\/div>$/;
const TASK_MARKER = /^\[([ xX])\](?:[ \t]+|$)/;

/** Token specs for prosemirror-markdown's parser (keys are markdown-it token names without _open/_close). */
export const richParseSpecs: Record<string, ParseSpec> = {
  table: { block: 'table' },
  thead: { ignore: true },
  tbody: { ignore: true },
  tr: { block: 'table_row' },
  th: { block: 'table_header' },
  td: { block: 'table_cell' },
  task_list: { block: 'task_list' },
  task_item: { block: 'task_item', getAttrs: (token) => ({ checked: token.attrGet('data-checked') === 'true' }) },
  s: { mark: 'strike' },
  underline: { mark: 'underline' },
  highlight: { mark: 'highlight' },
};

/** The align attribute a paragraph_open or heading_open token carries (set by fitBlockTokens). */
export function alignOfToken(token: Token): TextAlignment | null {
  const align = token.attrGet('data-align');
  return isTextAlignment(align) ? align : null;
}

/** The paragraph `<div …>` / `</div>` at `index` (paragraph_open, inline, paragraph_close), if it is one. */
function alignLine(tokens: Token[], index: number): { open: TextAlignment | null } | null {
  if (tokens[index]?.type !== 'paragraph_open' || tokens[index + 1]?.type !== 'inline' || tokens[index + 2]?.type !== 'paragraph_close') return null;
  const text = tokens[index + 1]!.content.trim();
  const open = ALIGN_OPEN.exec(text);
  if (open) return { open: open[1] as TextAlignment };
  return ALIGN_CLOSE.test(text) ? { open: null } : null;
}

interface OpenList {
  open: Token;
  items: Array<{ open: Token; close: Token | null; inline: Token; checked: boolean }>;
  allTasks: boolean;
}

/**
 * Block-level rewrites of markdown-it's tokens, in one pass: alignment regions, paragraphs inside
 * table cells (cells hold blocks in the schema, inline content in GFM), column alignment onto
 * those paragraphs, and bullet lists whose every item starts with a box into task lists.
 */
export function fitBlockTokens(tokens: Token[]): Token[] {
  const out: Token[] = [];
  const alignments: TextAlignment[] = [];
  const lists: OpenList[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const line = alignLine(tokens, i);
    if (line && (line.open !== null || alignments.length > 0)) {
      if (line.open !== null) alignments.push(line.open);
      else alignments.pop();
      i += 2;
      continue;
    }
    if ((token.type === 'paragraph_open' || token.type === 'heading_open') && alignments.length > 0 && token.attrGet('data-align') === null) {
      token.attrSet('data-align', alignments[alignments.length - 1]!);
    }
    if ((token.type === 'th_open' || token.type === 'td_open') && tokens[i + 1]?.type === 'inline') {
      out.push(token);
      const paragraph = new Token('paragraph_open', 'p', 1);
      const align = /text-align:\s*(\w+)/.exec(token.attrGet('style') ?? '')?.[1];
      if (isTextAlignment(align)) paragraph.attrSet('data-align', align);
      out.push(paragraph, tokens[i + 1]!, new Token('paragraph_close', 'p', -1));
      i += 1;
      continue;
    }
    if (token.type === 'bullet_list_open') lists.push({ open: token, items: [], allTasks: true });
    const list = lists[lists.length - 1];
    if (list && token.level === list.open.level + 1) {
      if (token.type === 'list_item_open') {
        const inline = tokens[i + 1]?.type === 'paragraph_open' ? tokens[i + 2] : undefined;
        const marker = inline?.type === 'inline' ? TASK_MARKER.exec(inline.content) : null;
        if (marker) list.items.push({ open: token, close: null, inline: inline!, checked: marker[1] !== ' ' });
        else list.allTasks = false;
      } else if (token.type === 'list_item_close' && list.items.length > 0 && list.items[list.items.length - 1]!.close === null) {
        list.items[list.items.length - 1]!.close = token;
      }
    }
    if (token.type === 'bullet_list_close' && list) {
      lists.pop();
      if (list.allTasks && list.items.length > 0) toTaskList(list, token);
    }
    out.push(token);
  }
  return out;
}

/** Rewrites one bullet list's tokens (already checked: every item starts with a box) into a task list. */
function toTaskList(list: OpenList, close: Token): void {
  list.open.type = 'task_list_open';
  close.type = 'task_list_close';
  for (const item of list.items) {
    item.open.type = 'task_item_open';
    item.open.attrSet('data-checked', String(item.checked));
    if (item.close) item.close.type = 'task_item_close';
    stripTaskMarker(item.inline);
  }
}

function stripTaskMarker(inline: Token): void {
  const marker = TASK_MARKER.exec(inline.content);
  if (!marker) return;
  inline.content = inline.content.slice(marker[0].length);
  // The marker is in the first text child(ren): markdown-it may split "[", " ", "]" into several.
  let remaining = marker[0].length;
  const children = inline.children ?? [];
  while (remaining > 0 && children.length > 0 && children[0]!.type === 'text') {
    const first = children[0]!;
    if (first.content.length <= remaining) {
      remaining -= first.content.length;
      children.shift();
    } else {
      first.content = first.content.slice(remaining);
      remaining = 0;
    }
  }
}

/** Cell contents in a grid whose total size a table's Markdown may reach before spans are no longer expanded. */
const MAX_EXPANDED_CELLS = 100_000;

/**
 * A table as rows of cell nodes (null: covered by a merged cell), spans expanded, rows padded to
 * one width. Spans are bounded by MAX_CELL_SPAN in the schema; a table that would still expand
 * past MAX_EXPANDED_CELLS is written without expanding them.
 */
function tableGrid(table: PMNode): Array<Array<PMNode | null>> {
  let expanded = 0;
  table.forEach((row) => row.forEach((cell) => (expanded += Number(cell.attrs.colspan) * Math.min(Number(cell.attrs.rowspan), table.childCount))));
  const expand = expanded <= MAX_EXPANDED_CELLS;
  const grid: Array<Array<PMNode | null | undefined>> = [];
  table.forEach((row, _, r) => {
    const cells = (grid[r] ??= []);
    let c = 0;
    row.forEach((cell) => {
      while (cells[c] !== undefined) c++;
      const colspan = expand ? Number(cell.attrs.colspan) : 1;
      const rowspan = expand ? Math.min(Number(cell.attrs.rowspan), table.childCount - r) : 1;
      for (let dr = 0; dr < rowspan; dr++) {
        const target = (grid[r + dr] ??= []);
        for (let dc = 0; dc < colspan; dc++) target[c + dc] = dr === 0 && dc === 0 ? cell : null;
      }
      c += colspan;
    });
  });
  const width = Math.max(0, ...grid.map((row) => row.length));
  return grid.map((row) => Array.from({ length: width }, (_, c) => row[c] ?? null));
}

/** The alignment every cell of a column shares (through its first paragraph), or null. */
function columnAlignment(grid: Array<Array<PMNode | null>>, column: number): TextAlignment | null {
  let shared: TextAlignment | null | undefined;
  for (const row of grid) {
    const cell = row[column];
    if (!cell) continue;
    const align = (cell.firstChild?.attrs.align as TextAlignment | null | undefined) ?? null;
    if (shared === undefined) shared = align;
    else if (shared !== align) return null;
  }
  return shared ?? null;
}

const DELIMITER: Record<TextAlignment | 'none', string> = { none: '---', center: ':---:', right: '---:', justify: '---' };

type NodeSerializer = (state: MarkdownSerializerState, node: PMNode, parent: PMNode, index: number) => void;

/** Writes `render`'s block inside `<div align>` lines when the node is aligned. */
function aligned(render: NodeSerializer): NodeSerializer {
  return (state, node, parent, index) => {
    const align = node.attrs.align;
    if (!isTextAlignment(align)) return render(state, node, parent, index);
    state.write(`<div align="${align}">`);
    state.closeBlock(node);
    render(state, node, parent, index);
    state.write('</div>');
    state.closeBlock(node);
  };
}

/**
 * Serializers of the rich nodes. `cellMarkdown` renders a cell's blocks as one line of Markdown
 * (a serializer whose line breaks are `<br>`).
 */
export function richNodeSerializers(base: Record<string, NodeSerializer>, cellMarkdown: (cell: PMNode) => string): Record<string, NodeSerializer> {
  return {
    paragraph: aligned(base.paragraph!),
    heading: aligned(base.heading!),
    table(state, node) {
      const grid = tableGrid(node);
      const width = grid[0]?.length ?? 0;
      if (width === 0) return;
      const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
      const rows = grid.map((row) => line(row.map((cell) => (cell ? cellMarkdown(cell) : ''))));
      rows.splice(1, 0, line(grid[0]!.map((_, c) => DELIMITER[columnAlignment(grid, c) ?? 'none'])));
      rows.forEach((text, r) => {
        if (r > 0) state.ensureNewLine();
        state.write(text);
      });
      state.closeBlock(node);
    },
    task_list(state, node) {
      state.renderList(node, '  ', () => '- ');
    },
    task_item(state, node) {
      state.write(node.attrs.checked ? '[x] ' : '[ ] ');
      state.renderContent(node);
    },
  };
}

/** A cell's blocks (rendered by a serializer whose hard breaks are `<br>`) on one line, pipes escaped. */
export function cellLine(markdown: string): string {
  return markdown
    .trim()
    .replace(/\n+/g, '<br>')
    .replace(/\|/g, '\\|');
}

export const richMarkSerializers = {
  strike: { open: '~~', close: '~~', mixable: true, expelEnclosingWhitespace: true },
  underline: { open: '<u>', close: '</u>', mixable: true, expelEnclosingWhitespace: true },
  highlight: { open: '<mark>', close: '</mark>', mixable: true, expelEnclosingWhitespace: true },
};
