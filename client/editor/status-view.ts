import type { EditorView } from 'prosemirror-view';
import { canEdit, refusalText, type EditorStatus } from './status.js';
import { createStatusAnnouncer } from './status-announcer.js';
import { renderStatus } from './status-indicator.js';
import type { StatusStore } from './status-store.js';

export interface StatusViewElements {
  /** The status indicator (status-indicator.ts). */
  indicator: HTMLElement;
  /** The polite live region status changes are announced in, debounced (status-announcer.ts). */
  announcer: HTMLElement;
  /** Gets `data-connection`, `data-read-only`, `data-can-edit` and `data-transport` (for host-page styling). */
  root: HTMLElement;
  /** The alert saying why the server refused, and what to do. */
  notice: HTMLElement;
  /** Its `editable` prop reads canEdit(store.status): it is told to read it again when that changes. */
  view: EditorView;
}

/** Shows the store's status in the editor, now and after every change. Returns the function that stops. */
export function showStatus(store: StatusStore, elements: StatusViewElements): () => void {
  const { indicator, announcer, root, notice, view } = elements;
  const announcements = createStatusAnnouncer((text) => (announcer.textContent = text));
  const render = (status: EditorStatus, previous: EditorStatus | null) => {
    renderStatus(indicator, status);
    announcements.update(status);
    root.dataset.connection = status.connection;
    root.dataset.readOnly = String(status.readOnly);
    root.dataset.canEdit = String(canEdit(status));
    if (status.transport) root.dataset.transport = status.transport;
    else delete root.dataset.transport;
    if (previous !== null && canEdit(previous) !== canEdit(status)) view.setProps({}); // makes the view read `editable` again
    const refusal = refusalText(status);
    notice.hidden = refusal === null;
    if (refusal) notice.textContent = refusal.message;
  };
  render(store.status, null);
  const unsubscribe = store.subscribe(render);
  return () => {
    unsubscribe();
    announcements.destroy();
  };
}
