import { Plugin, type EditorState } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { h } from '../dom.js';
import { rovingTabindex } from './roving-tabindex.js';
import { isInTable, tableActions } from './tables.js';

export interface TableBar {
  plugin: Plugin;
}

/**
 * The table's own toolbar (rows, columns, header row, merge and split, delete), shown in
 * `container` while the selection is in a table. A toolbar like the formatting one: one Tab stop,
 * arrow keys between buttons; each button is enabled when its command applies.
 */
export function createTableBar(container: HTMLElement): TableBar {
  let view: EditorView | null = null;
  container.className = 'ce-table-bar';
  container.setAttribute('role', 'toolbar');
  container.setAttribute('aria-label', 'Table');
  container.hidden = true;
  let group: string | null = null;
  const buttons = tableActions.map((item) => {
    if (item.group !== group) {
      group = item.group;
      // The heading is for the eye; each button's name says it in full ("Add a row above").
      container.appendChild(group ? h('span', { class: 'ce-table-group', 'aria-hidden': 'true' }, group) : h('span', { class: 'ce-divider', role: 'separator' }));
    }
    const button = h('button', { type: 'button', class: 'ce-button ce-table-button', 'data-action': item.action, 'aria-label': item.label, title: item.label ?? item.text }, item.text);
    // mousedown, not click: keeps the editor's selection (a cell selection for merging) and focus
    button.addEventListener('mousedown', (event) => {
      event.preventDefault();
      if (!view || button.disabled) return;
      item.command(view.state, view.dispatch, view);
      view.focus();
    });
    button.addEventListener('keydown', (event) => {
      if ((event.key === 'Enter' || event.key === ' ') && view && !button.disabled) {
        event.preventDefault();
        item.command(view.state, view.dispatch, view);
      }
    });
    container.appendChild(button);
    return { item, button };
  });
  const roving = rovingTabindex(container);

  const refresh = (state: EditorState) => {
    container.hidden = !isInTable(state);
    if (container.hidden) return;
    for (const { item, button } of buttons) button.disabled = !item.command(state);
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
          container.hidden = true;
        },
      };
    },
  });
  return { plugin };
}
