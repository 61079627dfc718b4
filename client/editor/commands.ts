import { baseKeymap, chainCommands, exitCode, setBlockType, toggleMark, wrapIn, lift } from 'prosemirror-commands';
import { undoInputRule } from 'prosemirror-inputrules';
import { keymap } from 'prosemirror-keymap';
import type { MarkType, NodeType } from 'prosemirror-model';
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list';
import type { Command, EditorState, Plugin } from 'prosemirror-state';
import { redoCommand, undoCommand } from 'y-prosemirror';
import type { TextAlignment } from '../../shared/rich-schema.js';
import { schema, safeHref } from '../../shared/schema.js';
import { markdownShortcuts } from './input-rules.js';
import { nextCellOrNewRow, previousCell } from './tables.js';
import { liftTask, sinkTask, splitTask, toggleTaskChecked, toggleTaskList } from './task-list.js';

const { nodes, marks } = schema;

export const isMac = typeof navigator !== 'undefined' && /Mac|iP(hone|[oa]d)/.test(navigator.platform);

/** True when the selection's parent blocks are all of `type` (with `attrs`, if given). */
export function blockActive(state: EditorState, type: NodeType, attrs?: Record<string, unknown>): boolean {
  const { $from, to } = state.selection;
  if (to > $from.end()) return false;
  const node = $from.parent;
  if (node.type !== type) return false;
  return !attrs || Object.entries(attrs).every(([key, value]) => node.attrs[key] === value);
}

/** True when the selection is inside a node of `type` (e.g. a list or a blockquote). */
export function insideNode(state: EditorState, type: NodeType): boolean {
  const { $from } = state.selection;
  for (let depth = $from.depth; depth > 0; depth--) if ($from.node(depth).type === type) return true;
  return false;
}

export function markActive(state: EditorState, type: MarkType): boolean {
  const { from, $from, to, empty } = state.selection;
  if (empty) return Boolean(type.isInSet(state.storedMarks ?? $from.marks()));
  return state.doc.rangeHasMark(from, to, type);
}

/** Sets the block type, or turns it back into a paragraph when it already is that type. */
export function toggleBlock(type: NodeType, attrs?: Record<string, unknown>): Command {
  return (state, dispatch) => {
    if (blockActive(state, type, attrs)) return setBlockType(nodes.paragraph)(state, dispatch);
    return setBlockType(type, attrs)(state, dispatch);
  };
}

/** Wraps in a list of `type`, or lifts out of it when already inside one. */
export function toggleList(type: NodeType): Command {
  return (state, dispatch) => {
    if (insideNode(state, type)) return liftListItem(nodes.list_item)(state, dispatch);
    return wrapInList(type)(state, dispatch);
  };
}

export function toggleBlockquote(): Command {
  return (state, dispatch) => {
    if (insideNode(state, nodes.blockquote)) return lift(state, dispatch);
    return wrapIn(nodes.blockquote)(state, dispatch);
  };
}

export const insertHorizontalRule: Command = (state, dispatch) => {
  const hr = nodes.horizontal_rule;
  const { $from } = state.selection;
  const index = $from.index($from.depth > 0 ? $from.depth - 1 : 0);
  const parent = $from.depth > 0 ? $from.node($from.depth - 1) : $from.parent;
  if (!parent.canReplaceWith(index, index, hr)) return false;
  if (dispatch) dispatch(state.tr.replaceSelectionWith(hr.create()).scrollIntoView());
  return true;
};

/** The link under the cursor or selection, if any. */
export function linkAt(state: EditorState): { href: string; from: number; to: number } | null {
  const { $from, from, to, empty } = state.selection;
  const type = marks.link;
  const mark = (empty ? $from.marks() : []).find((m) => m.type === type) ?? null;
  if (mark) {
    // expand to the whole link around the cursor
    const parent = $from.parent;
    const start = $from.start();
    let linkFrom = from;
    let linkTo = to;
    parent.forEach((child, offset) => {
      const childFrom = start + offset;
      const childTo = childFrom + child.nodeSize;
      if (mark.isInSet(child.marks) && childFrom <= from && childTo >= from) {
        linkFrom = childFrom;
        linkTo = childTo;
      }
    });
    return { href: String(mark.attrs.href), from: linkFrom, to: linkTo };
  }
  let found: { href: string; from: number; to: number } | null = null;
  state.doc.nodesBetween(from, to, (node) => {
    const m = type.isInSet(node.marks);
    if (m && !found) found = { href: String(m.attrs.href), from, to };
  });
  return found;
}

/** Applies a link to the selection (or replaces the link under the cursor); an empty href removes it. */
export function setLink(href: string): Command {
  return (state, dispatch) => {
    const type = marks.link;
    const existing = linkAt(state);
    const { from, to, empty } = state.selection;
    const range = existing ?? (empty ? null : { from, to });
    if (href.trim() === '') {
      if (!range) return false;
      if (dispatch) dispatch(state.tr.removeMark(range.from, range.to, type));
      return true;
    }
    const safe = safeHref(href);
    if (!safe) return false;
    if (dispatch) {
      const tr = state.tr;
      if (range) {
        tr.removeMark(range.from, range.to, type).addMark(range.from, range.to, type.create({ href: safe }));
      } else {
        // no selection: insert the URL itself as the link text
        tr.insert(from, schema.text(safe, [type.create({ href: safe })]));
      }
      dispatch(tr.scrollIntoView());
    }
    return true;
  };
}

export const undo: Command = undoCommand;
export const redo: Command = redoCommand;

/** The paragraphs and headings the selection touches, with their positions. */
function alignableBlocks(state: EditorState): Array<{ pos: number; align: unknown }> {
  const found: Array<{ pos: number; align: unknown }> = [];
  const { from, to } = state.selection;
  state.doc.nodesBetween(from, to, (node, pos) => {
    if (node.type === nodes.paragraph || node.type === nodes.heading) found.push({ pos, align: node.attrs.align });
    return !node.isTextblock;
  });
  return found;
}

/** True when every paragraph and heading in the selection has this alignment (null: the default). */
export function alignActive(state: EditorState, align: TextAlignment | null): boolean {
  const blocks = alignableBlocks(state);
  return blocks.length > 0 && blocks.every((block) => block.align === align);
}

/** Aligns the paragraphs and headings in the selection; aligning them as they are already turns it off. */
export function setAlignment(align: TextAlignment | null): Command {
  return (state, dispatch) => {
    const blocks = alignableBlocks(state);
    if (blocks.length === 0) return false;
    if (dispatch) {
      const next = align !== null && alignActive(state, align) ? null : align;
      const tr = state.tr;
      for (const { pos } of blocks) tr.setNodeAttribute(pos, 'align', next);
      dispatch(tr);
    }
    return true;
  };
}

/**
 * The keyboard shortcuts, listed in the toolbar's tooltips. Block types use Shift-Ctrl (also on a
 * Mac, as in ProseMirror's example setup): Cmd-Shift-3 is a screenshot there, and Ctrl-Alt is AltGr
 * on many keyboards.
 */
export const shortcuts = {
  bold: 'Mod-b',
  italic: 'Mod-i',
  code: 'Mod-e',
  strike: 'Shift-Mod-x',
  underline: 'Mod-u',
  highlight: 'Shift-Mod-h',
  link: 'Mod-k',
  paragraph: 'Shift-Ctrl-0',
  h1: 'Shift-Ctrl-1',
  h2: 'Shift-Ctrl-2',
  h3: 'Shift-Ctrl-3',
  bulletList: 'Shift-Mod-8',
  orderedList: 'Shift-Mod-7',
  blockquote: 'Shift-Mod-9',
  codeBlock: 'Shift-Ctrl-\\',
  taskList: 'Shift-Mod-6',
  toggleTask: 'Mod-Enter',
  find: 'Mod-f',
  undo: 'Mod-z',
  redo: 'Shift-Mod-z',
} as const;

export function shortcutLabel(key: string): string {
  return key
    .split('-')
    .map((part) => {
      if (part === 'Mod') return isMac ? '⌘' : 'Ctrl';
      if (part === 'Ctrl') return isMac ? '⌃' : 'Ctrl';
      if (part === 'Shift') return isMac ? '⇧' : 'Shift';
      if (part === 'Alt') return isMac ? '⌥' : 'Alt';
      return part.length === 1 ? part.toUpperCase() : part;
    })
    .join(isMac ? '' : '+');
}

/**
 * Keymaps and Markdown shortcuts (input-rules.ts). `onLink` opens the toolbar's link field (Mod-k). Undo and redo are
 * y-prosemirror's: they only undo this person's own changes.
 */
export function editingPlugins(onLink: () => boolean): Plugin[] {
  const hardBreak: Command = chainCommands(exitCode, (state, dispatch) => {
    if (dispatch) dispatch(state.tr.replaceSelectionWith(nodes.hard_break.create()).scrollIntoView());
    return true;
  });
  const keys: Record<string, Command> = {
    'Mod-z': undo,
    'Shift-Mod-z': redo,
    'Mod-y': redo,
    Backspace: undoInputRule,
    [shortcuts.bold]: toggleMark(marks.strong),
    'Mod-B': toggleMark(marks.strong),
    [shortcuts.italic]: toggleMark(marks.em),
    'Mod-I': toggleMark(marks.em),
    [shortcuts.code]: toggleMark(marks.code),
    'Mod-`': toggleMark(marks.code),
    [shortcuts.link]: () => onLink(),
    [shortcuts.paragraph]: setBlockType(nodes.paragraph),
    [shortcuts.h1]: toggleBlock(nodes.heading, { level: 1 }),
    [shortcuts.h2]: toggleBlock(nodes.heading, { level: 2 }),
    [shortcuts.h3]: toggleBlock(nodes.heading, { level: 3 }),
    [shortcuts.bulletList]: toggleList(nodes.bullet_list),
    [shortcuts.orderedList]: toggleList(nodes.ordered_list),
    [shortcuts.blockquote]: toggleBlockquote(),
    [shortcuts.codeBlock]: toggleBlock(nodes.code_block),
    [shortcuts.strike]: toggleMark(marks.strike),
    'Shift-Mod-X': toggleMark(marks.strike),
    [shortcuts.underline]: toggleMark(marks.underline),
    'Mod-U': toggleMark(marks.underline),
    [shortcuts.highlight]: toggleMark(marks.highlight),
    'Shift-Mod-H': toggleMark(marks.highlight),
    [shortcuts.taskList]: toggleTaskList,
    // In a task: check it; elsewhere a line break, as before.
    [shortcuts.toggleTask]: chainCommands(toggleTaskChecked, hardBreak),
    'Shift-Enter': hardBreak,
    Enter: chainCommands(splitListItem(nodes.list_item), splitTask),
    // In a list: nest; in a table: the next cell. Elsewhere Tab leaves the editor (no keyboard trap).
    Tab: chainCommands(sinkListItem(nodes.list_item), sinkTask, nextCellOrNewRow),
    'Shift-Tab': chainCommands(liftListItem(nodes.list_item), liftTask, previousCell),
  };
  return [markdownShortcuts(), keymap(keys), keymap(baseKeymap)];
}
