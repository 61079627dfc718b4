import { setBlockType, wrapIn } from 'prosemirror-commands';
import { wrapInList } from 'prosemirror-schema-list';
import { Plugin, PluginKey, Selection, type Command, type EditorState, type Transaction } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { ySyncPluginKey } from 'y-prosemirror';
import { schema } from '../../shared/schema.js';
import { h } from '../dom.js';
import { insertHorizontalRule } from './commands.js';
import { insertTable } from './tables.js';

const { nodes } = schema;

/**
 * The "/" menu: typing "/" at the start of a line (or after a space) lists the blocks that can be
 * inserted; typing more filters them ("/tab" → Table). Up and Down choose, Enter or Tab inserts,
 * Escape closes (and the "/" stays text). A listbox of options whose active one the editor names
 * with aria-activedescendant, so screen readers follow the choice while focus stays in the text.
 * The "/query" and the inserted block are one transaction: one step to undo.
 */

interface SlashItem {
  id: string;
  label: string;
  hint: string;
  keywords: string;
  command: Command;
}

const ITEMS: SlashItem[] = [
  { id: 'paragraph', label: 'Text', hint: 'Plain paragraph', keywords: 'paragraph normal', command: setBlockType(nodes.paragraph) },
  { id: 'h1', label: 'Heading 1', hint: '#', keywords: 'title h1', command: setBlockType(nodes.heading, { level: 1 }) },
  { id: 'h2', label: 'Heading 2', hint: '##', keywords: 'subtitle h2', command: setBlockType(nodes.heading, { level: 2 }) },
  { id: 'h3', label: 'Heading 3', hint: '###', keywords: 'h3', command: setBlockType(nodes.heading, { level: 3 }) },
  { id: 'bullet-list', label: 'Bulleted list', hint: '-', keywords: 'unordered ul', command: wrapInList(nodes.bullet_list) },
  { id: 'ordered-list', label: 'Numbered list', hint: '1.', keywords: 'ordered ol', command: wrapInList(nodes.ordered_list) },
  { id: 'task-list', label: 'Task list', hint: '[ ]', keywords: 'todo checklist checkbox', command: wrapInList(nodes.task_list) },
  { id: 'table', label: 'Table', hint: '3 × 3', keywords: 'grid', command: insertTable() },
  { id: 'blockquote', label: 'Quote', hint: '>', keywords: 'blockquote citation', command: wrapIn(nodes.blockquote) },
  { id: 'code-block', label: 'Code block', hint: '```', keywords: 'pre snippet', command: setBlockType(nodes.code_block) },
  { id: 'divider', label: 'Divider', hint: '---', keywords: 'horizontal rule hr line', command: insertHorizontalRule },
];

interface SlashState {
  /** Position of the "/" while the menu is open, else null. */
  from: number | null;
  query: string;
  index: number;
  /** The "/" the person closed the menu for (Escape): it stays closed while they go on typing after it. */
  dismissed: number | null;
}

type SlashMeta = { type: 'move'; index: number } | { type: 'close' };

const key = new PluginKey<SlashState>('slashMenu');
const CLOSED: SlashState = { from: null, query: '', index: 0, dismissed: null };
/** "/" after the start or a space, then up to two words ("/head", "/heading 2"); "/ " closes it. */
const TRIGGER = /(?:^|\s)\/((?:[\p{L}\p{N}]+(?: [\p{L}\p{N}]*)?)?)$/u;

function matchingItems(query: string): SlashItem[] {
  const q = query.trim().toLowerCase();
  return ITEMS.filter((item) => q === '' || item.label.toLowerCase().includes(q) || item.keywords.includes(q));
}

/** The "/query" right before the caret, if there is one. */
function triggerAt(state: EditorState): { from: number; query: string } | null {
  const { selection } = state;
  if (!selection.empty) return null;
  const { $from } = selection;
  if (!$from.parent.isTextblock || $from.parent.type.spec.code) return null;
  const before = $from.parent.textBetween(0, $from.parentOffset, undefined, '\ufffc');
  const match = TRIGGER.exec(before);
  if (!match) return null;
  return { from: $from.pos - match[1]!.length - 1, query: match[1]! };
}

function typedHere(tr: Transaction): boolean {
  return tr.docChanged && (tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin !== true;
}

/** Deletes the "/query" and runs the item's command, in one transaction. */
function choose(view: EditorView, item: SlashItem): void {
  const slash = key.getState(view.state);
  if (!slash || slash.from === null) return;
  const tr = view.state.tr.delete(slash.from, view.state.selection.from);
  const next = view.state.apply(tr);
  item.command(next, (commandTr) => {
    if (!next.doc.eq(tr.doc)) return;
    for (const step of commandTr.steps) tr.step(step);
    tr.setSelection(Selection.fromJSON(tr.doc, commandTr.selection.toJSON()));
  });
  view.dispatch(tr.setMeta(key, { type: 'close' } satisfies SlashMeta).scrollIntoView());
  view.focus();
}

let nextMenuId = 0;

export function slashMenu(): Plugin<SlashState> {
  const listId = `ce-slash-${++nextMenuId}`;
  const optionId = (index: number) => `${listId}-option-${index}`;

  return new Plugin<SlashState>({
    key,
    state: {
      init: () => CLOSED,
      apply(tr, previous, _old, state) {
        const meta = tr.getMeta(key) as SlashMeta | undefined;
        if (meta?.type === 'close') return { ...CLOSED, dismissed: previous.from };
        if (meta?.type === 'move') return { ...previous, index: meta.index };
        const trigger = triggerAt(state);
        if (!trigger || matchingItems(trigger.query).length === 0) return { ...CLOSED, dismissed: trigger && previous.dismissed === trigger.from ? previous.dismissed : null };
        if (previous.dismissed === trigger.from) return { ...CLOSED, dismissed: previous.dismissed };
        // Opens when the "/" is typed here, not when the caret moves onto an old one or others type it.
        if (previous.from !== trigger.from && !typedHere(tr)) return CLOSED;
        return { from: trigger.from, query: trigger.query, index: previous.from === trigger.from && previous.query === trigger.query ? previous.index : 0, dismissed: null };
      },
    },
    props: {
      attributes(state): Record<string, string> {
        const slash = key.getState(state);
        if (!slash || slash.from === null) return {};
        return { 'aria-controls': listId, 'aria-activedescendant': optionId(slash.index), 'aria-autocomplete': 'list' };
      },
      handleDOMEvents: {
        blur(view) {
          const slash = key.getState(view.state);
          if (slash?.from != null) view.dispatch(view.state.tr.setMeta(key, { type: 'close' } satisfies SlashMeta));
          return false;
        },
      },
      handleKeyDown(view, event) {
        const slash = key.getState(view.state);
        if (!slash || slash.from === null) return false;
        const items = matchingItems(slash.query);
        const move = (index: number) => view.dispatch(view.state.tr.setMeta(key, { type: 'move', index: (index + items.length) % items.length } satisfies SlashMeta));
        switch (event.key) {
          case 'ArrowDown':
            move(slash.index + 1);
            return true;
          case 'ArrowUp':
            move(slash.index - 1);
            return true;
          case 'Enter':
          case 'Tab':
            choose(view, items[slash.index] ?? items[0]!);
            return true;
          case 'Escape':
            view.dispatch(view.state.tr.setMeta(key, { type: 'close' } satisfies SlashMeta));
            return true;
          default:
            return false;
        }
      },
    },
    view(view) {
      const list = h('ul', { id: listId, class: 'ce-slash-menu', role: 'listbox', 'aria-label': 'Insert a block' });
      list.hidden = true;
      view.dom.parentElement?.appendChild(list);
      let shown: string | null = null;

      const render = () => {
        const slash = key.getState(view.state);
        if (!slash || slash.from === null) {
          list.hidden = true;
          shown = null;
          return;
        }
        const items = matchingItems(slash.query);
        const signature = `${slash.query}\u0000${slash.index}`;
        if (signature !== shown) {
          shown = signature;
          list.replaceChildren(
            ...items.map((item, index) => {
              const option = h(
                'li',
                { id: optionId(index), role: 'option', class: 'ce-slash-option', 'data-item': item.id, 'aria-selected': String(index === slash.index) },
                h('span', { class: 'ce-slash-label' }, item.label),
                h('span', { class: 'ce-slash-hint', 'aria-hidden': 'true' }, item.hint),
              );
              option.addEventListener('mousedown', (event) => {
                event.preventDefault();
                choose(view, item);
              });
              return option;
            }),
          );
        }
        list.hidden = false;
        // Under the "/", inside the editor's box.
        const container = list.offsetParent ?? view.dom.parentElement;
        if (!container) return;
        const box = container.getBoundingClientRect();
        const at = view.coordsAtPos(slash.from);
        list.style.top = `${at.bottom - box.top + container.scrollTop + 4}px`;
        list.style.left = `${Math.max(0, Math.min(at.left - box.left, box.width - list.offsetWidth - 8))}px`;
        list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
      };
      render();
      return {
        update: render,
        destroy: () => list.remove(),
      };
    },
  });
}
