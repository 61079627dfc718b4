import { refusalText, statusLabel, type EditorStatus } from './status.js';

/**
 * The status indicator: a coloured dot and a label (`data-connection`, `data-saved` for styling
 * and tests). It is not a live region: it changes on every keystroke; the editor announces settled
 * changes elsewhere (status-announcer.ts).
 */
export function statusElement(): HTMLElement {
  const element = document.createElement('div');
  element.className = 'ce-status';
  const dot = document.createElement('span');
  dot.className = 'ce-status-dot';
  dot.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.className = 'ce-status-text';
  element.append(dot, text);
  return element;
}

export function renderStatus(element: HTMLElement, status: EditorStatus): void {
  element.dataset.connection = status.connection;
  element.dataset.saved = String(status.saved);
  if (status.transport) element.dataset.transport = status.transport;
  else delete element.dataset.transport;
  element.querySelector('.ce-status-text')!.textContent = statusLabel(status);
  element.title =
    status.connection === 'offline'
      ? 'Not connected to the server. Your edits are kept in this browser and merge when the connection returns.'
      : (refusalText(status)?.message ??
        (status.transport === 'http'
          ? `${statusLabel(status)}. Connected over HTTP: WebSockets do not get through (a proxy or firewall); trying them again in the background.`
          : statusLabel(status)));
}
