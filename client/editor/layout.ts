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
  const notice = h('div', { class: 'ce-notice ce-refusal-notice', role: 'alert' });
  notice.hidden = true;
  const bar = h('div', { class: 'ce-bar' }, show.toolbar ? toolbar : null, show.meta ? h('div', { class: 'ce-meta' }, presence, status) : null);
  const surface = h('div', { class: 'ce-surface' });
  if (show.toolbar || show.meta) root.appendChild(bar);
  root.append(linkForm, notice, surface, announcer);
  element.appendChild(root);
  return { root, toolbar, presence, status, announcer, linkForm, notice, surface };
}
