import { h } from '../dom.js';
import { statusElement } from './status-indicator.js';

/** The editor's elements, appended to the host element as one `.ce-root` (remove it to unmount). */
export interface Layout {
  root: HTMLElement;
  toolbar: HTMLElement;
  presence: HTMLElement;
  status: HTMLElement;
  /** The polite live region status changes are announced in (always present, even without the bar). */
  announcer: HTMLElement;
  linkForm: HTMLElement;
  /** The table's toolbar (table-bar.ts), shown while the selection is in a table. */
  tableBar: HTMLElement;
  /** The find-and-replace bar (find.ts), shown after Mod-F. */
  findBar: HTMLElement;
  /** The alert saying why the server refused (access, a deleted document...), hidden otherwise. */
  notice: HTMLElement;
  /** Holds the ProseMirror view (and, while editing is paused, the read-only rendering). */
  surface: HTMLElement;
}

/** Builds the editor's DOM into `element`; the bar holds what is shown (toolbar, presence and status). */
export function createLayout(element: HTMLElement, show: { toolbar: boolean; meta: boolean }): Layout {
  const root = h('div', { class: 'ce-root' });
  const toolbar = h('div', { class: 'ce-toolbar' });
  const presence = h('ul', { class: 'ce-presence' });
  const status = statusElement();
  const announcer = h('div', { class: 'ce-visually-hidden ce-announcer', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const linkForm = h('div', { class: 'ce-link-form' });
  const tableBar = h('div');
  const findBar = h('div');
  const notice = h('div', { class: 'ce-notice ce-refusal-notice', role: 'alert' });
  notice.hidden = true;
  const bar = h('div', { class: 'ce-bar' }, show.toolbar ? toolbar : null, show.meta ? h('div', { class: 'ce-meta' }, presence, status) : null);
  const surface = h('div', { class: 'ce-surface' });
  // The table and find bars sit in the sticky bar (on lines of their own) when there is one.
  if (show.toolbar || show.meta) {
    bar.append(tableBar, findBar);
    root.appendChild(bar);
  } else {
    root.append(tableBar, findBar);
  }
  root.append(linkForm, notice, surface, announcer);
  element.appendChild(root);
  return { root, toolbar, presence, status, announcer, linkForm, tableBar, findBar, notice, surface };
}
