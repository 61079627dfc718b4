import type { EditorView } from 'prosemirror-view';
import type { EditorStatus } from './status.js';
import { renderStatus } from './status-indicator.js';
import type { StatusStore } from './status-store.js';

export interface StatusViewElements {
  /** The status indicator (status-indicator.ts). */
  indicator: HTMLElement;
  /** Gets `data-connection`, `data-read-only` and `data-transport` (for host-page styling). */
  root: HTMLElement;
  /** The "access refused" alert. */
  notice: HTMLElement;
  /** Its `editable` prop reads the store's `readOnly`: it is told to read it again when that changes. */
  view: EditorView;
}

/** Shows the store's status in the editor, now and after every change. Returns the function that stops. */
export function showStatus(store: StatusStore, elements: StatusViewElements): () => void {
  const { indicator, root, notice, view } = elements;
  const render = (status: EditorStatus, previous: EditorStatus | null) => {
    renderStatus(indicator, status);
    root.dataset.connection = status.connection;
    root.dataset.readOnly = String(status.readOnly);
    if (status.transport) root.dataset.transport = status.transport;
    else delete root.dataset.transport;
    if (previous !== null && previous.readOnly !== status.readOnly) view.setProps({}); // makes the view read `editable` again
    notice.hidden = status.connection !== 'denied';
    if (status.connection === 'denied') notice.textContent = `The server refused access to this document: ${status.reason}.`;
  };
  render(store.status, null);
  return store.subscribe(render);
}
