import { toggleMark } from 'prosemirror-commands';
import { Plugin, type Command, type EditorState } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { schema } from '../../shared/schema.js';
import { h } from '../dom.js';
import {
  alignActive,
  blockActive,
  insertHorizontalRule,
  insideNode,
  linkAt,
  markActive,
  redo,
  setAlignment,
  setLink,
  shortcutLabel,
  shortcuts,
  toggleBlock,
  toggleBlockquote,
  toggleList,
  undo,
} from './commands.js';
import { icon, type IconName } from './icons.js';
import type { Images } from './images.js';
import { rovingTabindex } from './roving-tabindex.js';
import { insertTable, isInTable } from './tables.js';
import { toggleTaskList } from './task-list.js';

const { nodes, marks } = schema;

interface Item {
  action: string;
  label: string;
  shortcut?: string;
  icon?: IconName;
  text?: string;
  command: Command;
  active?: (state: EditorState) => boolean;
}

/** Toolbar groups, separated by a divider. `action` names are stable: tests and embedders select buttons by them. */
function groups(openLink: () => void, openFind: () => void, images: Pick<Images, 'pickImage' | 'canInsert'> | null): Item[][] {
  return [
    [
      { action: 'paragraph', label: 'Normal text', text: '¶', shortcut: shortcuts.paragraph, command: toggleBlock(nodes.paragraph), active: (s) => blockActive(s, nodes.paragraph) },
      { action: 'h1', label: 'Heading 1', text: 'H1', shortcut: shortcuts.h1, command: toggleBlock(nodes.heading, { level: 1 }), active: (s) => blockActive(s, nodes.heading, { level: 1 }) },
      { action: 'h2', label: 'Heading 2', text: 'H2', shortcut: shortcuts.h2, command: toggleBlock(nodes.heading, { level: 2 }), active: (s) => blockActive(s, nodes.heading, { level: 2 }) },
      { action: 'h3', label: 'Heading 3', text: 'H3', shortcut: shortcuts.h3, command: toggleBlock(nodes.heading, { level: 3 }), active: (s) => blockActive(s, nodes.heading, { level: 3 }) },
    ],
    [
      { action: 'bold', label: 'Bold', icon: 'bold', shortcut: shortcuts.bold, command: toggleMark(marks.strong), active: (s) => markActive(s, marks.strong) },
      { action: 'italic', label: 'Italic', icon: 'italic', shortcut: shortcuts.italic, command: toggleMark(marks.em), active: (s) => markActive(s, marks.em) },
      { action: 'strike', label: 'Strikethrough', icon: 'strike', shortcut: shortcuts.strike, command: toggleMark(marks.strike), active: (s) => markActive(s, marks.strike) },
      { action: 'underline', label: 'Underline', icon: 'underline', shortcut: shortcuts.underline, command: toggleMark(marks.underline), active: (s) => markActive(s, marks.underline) },
      { action: 'highlight', label: 'Highlight', icon: 'highlight', shortcut: shortcuts.highlight, command: toggleMark(marks.highlight), active: (s) => markActive(s, marks.highlight) },
      { action: 'code', label: 'Inline code', icon: 'code', shortcut: shortcuts.code, command: toggleMark(marks.code), active: (s) => markActive(s, marks.code) },
      {
        action: 'link',
        label: 'Link',
        icon: 'link',
        shortcut: shortcuts.link,
        command: (_state, dispatch) => {
          if (dispatch) openLink();
          return true;
        },
        active: (s) => markActive(s, marks.link),
      },
    ],
    [
      { action: 'bullet-list', label: 'Bulleted list', icon: 'bulletList', shortcut: shortcuts.bulletList, command: toggleList(nodes.bullet_list), active: (s) => insideNode(s, nodes.bullet_list) },
      { action: 'ordered-list', label: 'Numbered list', icon: 'orderedList', shortcut: shortcuts.orderedList, command: toggleList(nodes.ordered_list), active: (s) => insideNode(s, nodes.ordered_list) },
      { action: 'task-list', label: 'Task list', icon: 'taskList', shortcut: shortcuts.taskList, command: toggleTaskList, active: (s) => insideNode(s, nodes.task_list) },
      { action: 'blockquote', label: 'Quote', icon: 'blockquote', shortcut: shortcuts.blockquote, command: toggleBlockquote(), active: (s) => insideNode(s, nodes.blockquote) },
      { action: 'code-block', label: 'Code block', icon: 'codeBlock', shortcut: shortcuts.codeBlock, command: toggleBlock(nodes.code_block), active: (s) => blockActive(s, nodes.code_block) },
      { action: 'horizontal-rule', label: 'Divider', icon: 'horizontalRule', command: insertHorizontalRule },
      { action: 'table', label: 'Insert a table', icon: 'table', command: insertTable(), active: isInTable },
      ...(images ? [imageItem(images)] : []),
    ],
    [
      { action: 'align-left', label: 'Align left', icon: 'alignLeft', command: setAlignment(null), active: (s) => alignActive(s, null) },
      { action: 'align-center', label: 'Center', icon: 'alignCenter', command: setAlignment('center'), active: (s) => alignActive(s, 'center') },
      { action: 'align-right', label: 'Align right', icon: 'alignRight', command: setAlignment('right'), active: (s) => alignActive(s, 'right') },
    ],
    [
      {
        action: 'find',
        label: 'Find and replace',
        icon: 'find',
        shortcut: shortcuts.find,
        command: (_state, dispatch) => {
          if (dispatch) openFind();
          return true;
        },
      },
      { action: 'undo', label: 'Undo your last change', icon: 'undo', shortcut: shortcuts.undo, command: undo },
      { action: 'redo', label: 'Redo', icon: 'redo', shortcut: shortcuts.redo, command: redo },
    ],
  ];
}

/** "Insert image": opens the file picker; the images upload at the selection (image-upload.ts). */
function imageItem(images: Pick<Images, 'pickImage' | 'canInsert'>): Item {
  return {
    action: 'image',
    label: 'Insert image',
    icon: 'image',
    command: (state, dispatch) => {
      if (!images.canInsert(state)) return false;
      if (dispatch) images.pickImage();
      return true;
    },
  };
}

export interface Toolbar {
  plugin: Plugin;
  /** Opens the link field for the current selection (Mod-k). */
  openLink(): boolean;
}

/**
 * The toolbar: buttons rendered into `container`, kept in step with the editor state (active
 * and disabled), and a small inline field for editing links (no `prompt()`).
 */
export function createToolbar(
  container: HTMLElement,
  linkForm: HTMLElement,
  openFind: () => boolean,
  images: Pick<Images, 'pickImage' | 'canInsert'> | null = null,
): Toolbar {
  let view: EditorView | null = null;
  const buttons: Array<{ item: Item; button: HTMLButtonElement }> = [];

  const input = h('input', { type: 'text', class: 'ce-link-input', placeholder: 'Paste or type a link…', 'aria-label': 'Link address', spellcheck: 'false' });
  const removeButton = h('button', { type: 'button', class: 'ce-link-remove' }, 'Remove');
  const cancelButton = h('button', { type: 'button', class: 'ce-link-cancel' }, 'Cancel');
  const form = h('form', { class: 'ce-link-form-inner' }, input, h('button', { type: 'submit', class: 'ce-link-apply' }, 'Apply'), removeButton, cancelButton);
  linkForm.appendChild(form);
  linkForm.hidden = true;

  const closeLink = (refocus: boolean) => {
    linkForm.hidden = true;
    if (refocus && view) view.focus();
  };
  const openLink = (): boolean => {
    if (!view) return false;
    const existing = linkAt(view.state);
    input.value = existing?.href ?? '';
    removeButton.hidden = !existing;
    linkForm.hidden = false;
    input.focus();
    input.select();
    return true;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!view) return;
    setLink(input.value)(view.state, view.dispatch);
    closeLink(true);
  });
  removeButton.addEventListener('click', () => {
    if (!view) return;
    setLink('')(view.state, view.dispatch);
    closeLink(true);
  });
  cancelButton.addEventListener('click', () => closeLink(true));
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closeLink(true);
    }
  });

  container.setAttribute('role', 'toolbar');
  container.setAttribute('aria-label', 'Formatting');
  const roving = rovingTabindex(container);
  for (const [index, group] of groups(() => void openLink(), () => void openFind(), images).entries()) {
    if (index > 0) container.appendChild(h('span', { class: 'ce-divider', role: 'separator' }));
    for (const item of group) {
      const title = item.shortcut ? `${item.label} (${shortcutLabel(item.shortcut)})` : item.label;
      // A button showing text ("H1") has it in its name too (WCAG 2.5.3, label in name).
      const name = item.text && /\w/.test(item.text) ? `${item.label}, ${item.text}` : item.label;
      const button = h('button', { type: 'button', class: 'ce-button', 'data-action': item.action, title, 'aria-label': name });
      if (item.icon) button.appendChild(icon(item.icon));
      else button.appendChild(h('span', { class: 'ce-button-text' }, item.text ?? item.label));
      // mousedown, not click: keeps the editor's selection and focus
      button.addEventListener('mousedown', (event) => {
        event.preventDefault();
        if (!view || button.disabled) return;
        item.command(view.state, view.dispatch, view);
        if (item.action !== 'link' && item.action !== 'find') view.focus();
      });
      // keyboard activation of a focused button
      button.addEventListener('keydown', (event) => {
        if ((event.key === 'Enter' || event.key === ' ') && view && !button.disabled) {
          event.preventDefault();
          item.command(view.state, view.dispatch, view);
        }
      });
      container.appendChild(button);
      buttons.push({ item, button });
    }
  }

  const refresh = (state: EditorState) => {
    for (const { item, button } of buttons) {
      const enabled = item.command(state);
      button.disabled = !enabled;
      if (item.active) {
        const active = item.active(state);
        button.classList.toggle('ce-active', active);
        button.setAttribute('aria-pressed', String(active));
      }
    }
    roving.refresh();
  };

  const plugin = new Plugin({
    view(editorView) {
      view = editorView;
      refresh(editorView.state);
      return {
        update(updated) {
          refresh(updated.state);
        },
        destroy() {
          view = null;
        },
      };
    },
  });

  return { plugin, openLink };
}
