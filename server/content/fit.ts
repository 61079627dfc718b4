import { Mark, type Node as PMNode, type Schema } from 'prosemirror-model';
import { MAX_NESTING_DEPTH } from '../../shared/content-rules.js';
import { isTextAlignment, MAX_CELL_SPAN, MAX_COLUMN_WIDTH } from '../../shared/rich-schema.js';
import { safeHref } from '../../shared/schema.js';

/** Thrown for input that cannot become a document; the message says why (the API answers 400). */
export class ContentError extends Error {
  override name = 'ContentError';
}

/** CommonMark allows ordered lists to start at 0 to 999,999,999. */
const MAX_LIST_START = 999_999_999;

/**
 * How deep a document's Yjs encoding nests: the doc is the fragment (0), its children 1, and each
 * run of text sits one level below its node (a Y.XmlText in the element). The server refuses
 * updates whose shared types nest deeper than MAX_NESTING_DEPTH, so a conversion result must stay
 * within it. Iterative: one visit per node.
 */
export function yjsDepth(doc: PMNode): number {
  let deepest = 0;
  const stack: Array<{ node: PMNode; depth: number }> = [{ node: doc, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > deepest) deepest = depth;
    let hasText = false;
    node.forEach((child) => {
      if (child.isText) hasText = true;
      else stack.push({ node: child, depth: depth + 1 });
    });
    if (hasText && depth + 1 > deepest) deepest = depth + 1;
  }
  return deepest;
}

export function depthProblem(doc: PMNode): string | null {
  return yjsDepth(doc) > MAX_NESTING_DEPTH ? `content nested deeper than ${MAX_NESTING_DEPTH} levels` : null;
}

/**
 * Makes a parsed document safe and canonical, whatever produced it: links only with hrefs the
 * editor would render (shared/schema.ts safeHref; others lose the mark, keep the text), heading
 * levels 1–6, list starts CommonMark can write, link titles strings, alignments and table cell
 * spans and widths within the schema's bounds. Rebuilt bottom-up with an
 * explicit stack (no recursion over input); the depth must have been checked first.
 */
export function fitDocument(doc: PMNode): PMNode {
  const schema = doc.type.schema;
  interface Frame {
    node: PMNode;
    children: PMNode[];
    index: number;
  }
  const stack: Frame[] = [{ node: doc, children: [], index: 0 }];
  for (;;) {
    const frame = stack[stack.length - 1]!;
    if (frame.index < frame.node.childCount) {
      const child = frame.node.child(frame.index++);
      if (child.isText) frame.children.push(fitText(schema, child));
      else stack.push({ node: child, children: [], index: 0 });
      continue;
    }
    stack.pop();
    const node = frame.node;
    const rebuilt = node.type.create(fitAttrs(node), frame.children, node.marks);
    if (stack.length === 0) return rebuilt;
    stack[stack.length - 1]!.children.push(rebuilt);
  }
}

function fitAttrs(node: PMNode): Record<string, unknown> {
  const attrs: Record<string, unknown> = { ...node.attrs };
  const name = node.type.name;
  if (name === 'heading') attrs.level = clampInt(attrs.level, 1, 6, 1);
  if (name === 'ordered_list') attrs.order = clampInt(attrs.order, 0, MAX_LIST_START, 1);
  if ('align' in attrs && !isTextAlignment(attrs.align)) attrs.align = null;
  if (name === 'task_item') attrs.checked = attrs.checked === true;
  if (name === 'table_cell' || name === 'table_header') {
    attrs.colspan = clampInt(attrs.colspan, 1, MAX_CELL_SPAN, 1);
    attrs.rowspan = clampInt(attrs.rowspan, 1, MAX_CELL_SPAN, 1);
    attrs.colwidth = fitColwidth(attrs.colwidth, attrs.colspan as number);
  }
  return attrs;
}

/** One width per spanned column, each within bounds, or null (prosemirror-tables' own rule for data-colwidth). */
function fitColwidth(value: unknown, colspan: number): number[] | null {
  if (!Array.isArray(value) || value.length !== colspan) return null;
  return value.every((width) => typeof width === 'number' && Number.isFinite(width) && width >= 0 && width <= MAX_COLUMN_WIDTH) ? (value as number[]) : null;
}

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  const number = typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
  return Math.min(max, Math.max(min, number));
}

function fitText(schema: Schema, text: PMNode): PMNode {
  let marks = Mark.none;
  let changed = false;
  for (const mark of text.marks) {
    if (mark.type.name !== 'link') {
      marks = mark.addToSet(marks);
      continue;
    }
    const href = typeof mark.attrs.href === 'string' ? safeHref(mark.attrs.href) : null;
    const title = typeof mark.attrs.title === 'string' && mark.attrs.title !== '' ? mark.attrs.title : null;
    if (href === mark.attrs.href && title === mark.attrs.title) {
      marks = mark.addToSet(marks);
      continue;
    }
    changed = true;
    if (href !== null) marks = schema.marks.link!.create({ href, title }).addToSet(marks);
  }
  return changed ? text.mark(marks) : text;
}

/** The text of the first heading, for a title (null if there is none). */
export function firstHeadingText(doc: PMNode): string | null {
  let found: string | null = null;
  doc.forEach((block) => {
    if (found === null && block.type.name === 'heading' && block.textContent.trim() !== '') found = block.textContent;
  });
  return found;
}
