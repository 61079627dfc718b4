import { h } from '../dom.js';
import { ApiError, api, type ExportFormat } from './api.js';
import { askTitle, confirmDelete } from './dialogs.js';

let menuCount = 0;

export interface MenuItem {
  label: string;
  run: () => void;
}

/**
 * A menu button (WAI-ARIA menu button pattern): `aria-haspopup`, `aria-expanded`; Enter, Space or
 * ArrowDown open it on the first item, ArrowUp on the last; arrows, Home and End move; Escape
 * closes it and focus returns to the button; Tab or a click elsewhere closes it.
 */
export function menuButton(label: string, items: MenuItem[], options: { describedBy?: string; className?: string } = {}): HTMLElement {
  const id = `menu-${++menuCount}`;
  const button = h(
    'button',
    { type: 'button', class: `button menu-button ${options.className ?? ''}`.trim(), 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': id, 'aria-describedby': options.describedBy },
    h('span', { class: 'menu-button-label' }, label),
    h('span', { class: 'menu-caret', 'aria-hidden': 'true' }),
  );
  const entries = items.map((item) =>
    h('button', { type: 'button', role: 'menuitem', class: 'menu-item', tabindex: '-1', onclick: () => {
      close(true);
      item.run();
    } }, item.label),
  );
  const menu = h('div', { class: 'menu', role: 'menu', id, 'aria-label': label }, ...entries);
  menu.hidden = true;
  const wrap = h('div', { class: 'menu-wrap' }, button, menu);

  const isOpen = () => !menu.hidden;
  const focusItem = (index: number) => entries[(index + entries.length) % entries.length]!.focus();
  const onOutside = (event: Event) => {
    if (!wrap.contains(event.target as Node)) close(false);
  };
  function open(first: 'first' | 'last' | null) {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    // Keep the menu inside the viewport (rows near the right edge on a phone).
    menu.classList.toggle('menu-left', button.getBoundingClientRect().left + 240 < window.innerWidth);
    document.addEventListener('pointerdown', onOutside, true);
    if (first) focusItem(first === 'first' ? 0 : -1);
  }
  function close(returnFocus: boolean) {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', onOutside, true);
    if (returnFocus) button.focus();
  }
  button.addEventListener('click', () => {
    if (isOpen()) close(true);
    // Enter/Space (and a pointer click: the menu is small) put focus on the first item.
    else open('first');
  });
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      open(event.key === 'ArrowDown' ? 'first' : 'last');
    }
  });
  menu.addEventListener('keydown', (event) => {
    const index = entries.indexOf(document.activeElement as HTMLButtonElement);
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        focusItem(index + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        focusItem(index - 1);
        break;
      case 'Home':
        event.preventDefault();
        focusItem(0);
        break;
      case 'End':
        event.preventDefault();
        focusItem(-1);
        break;
      case 'Escape':
        event.preventDefault();
        event.stopPropagation();
        close(true);
        break;
      case 'Tab':
        close(false);
        break;
    }
  });
  menu.addEventListener('focusout', (event) => {
    if (event.relatedTarget instanceof Node && !wrap.contains(event.relatedTarget)) close(false);
  });
  return wrap;
}

/** A file name for a download from a document's title (or name). */
export function downloadName(title: string, fallback: string, extension: string): string {
  const base = (title.trim() || fallback)
    .replace(/[\u0000-\u001f\u007f\\/:*?"<>|]+/g, '-')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s-]+|[.\s-]+$/g, '')
    .slice(0, 100);
  return `${base || 'document'}.${extension}`;
}

/** Saves `text` as a file, through a Blob and an `<a download>`. */
export function saveFile(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: fileName, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started from the click; the URL can go once the event loop moves on.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const EXPORTS: Record<ExportFormat, { extension: string; type: string; label: string }> = {
  markdown: { extension: 'md', type: 'text/markdown;charset=utf-8', label: 'Markdown' },
  html: { extension: 'html', type: 'text/html;charset=utf-8', label: 'HTML' },
};

/** Wraps an exported HTML fragment into a page that opens on its own. */
function htmlPage(fragment: string, title: string): string {
  const escaped = title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${escaped}</title>\n</head>\n<body>\n${fragment}\n</body>\n</html>\n`;
}

export async function exportDocument(name: string, title: string, format: ExportFormat): Promise<void> {
  const text = await api.content(name, format);
  const spec = EXPORTS[format];
  saveFile(format === 'html' ? htmlPage(text, title.trim() || name) : text, downloadName(title, name, spec.extension), spec.type);
}

export async function copyMarkdown(name: string): Promise<void> {
  const text = await api.content(name, 'markdown');
  await navigator.clipboard.writeText(text);
}

export interface DocumentActionsOptions {
  name: string;
  /** The title shown now ('' if untitled). */
  title: () => string;
  /** Renames; the default asks the API. */
  rename?: (title: string) => Promise<void> | void;
  onRenamed?: (title: string) => void;
  onDeleted: () => void;
  /** Shows a short message to the person (a live region). */
  announce: (message: string, error?: boolean) => void;
  /** id of the element naming the document (per-row context for screen readers). */
  describedBy?: string;
  /** Compact buttons (icons) for list rows. */
  compact?: boolean;
}

function errorText(error: unknown): string {
  if (error instanceof ApiError && error.needsToken) return `access was refused (${error.message})`;
  return error instanceof Error ? error.message : String(error);
}

/** Export menu, Rename and Delete buttons for one document. */
export function documentActions(options: DocumentActionsOptions): HTMLElement {
  const { name, announce } = options;
  const label = () => options.title().trim() || 'Untitled document';
  const exportAs = (format: ExportFormat) => async () => {
    try {
      await exportDocument(name, options.title(), format);
      announce(`Exported “${label()}” as ${EXPORTS[format].label}.`);
    } catch (error) {
      announce(`Could not export the document: ${errorText(error)}`, true);
    }
  };
  const menu = menuButton(
    'Export',
    [
      { label: 'Export as Markdown', run: exportAs('markdown') },
      { label: 'Export as HTML', run: exportAs('html') },
      {
        label: 'Copy as Markdown',
        run: async () => {
          try {
            await copyMarkdown(name);
            announce(`Copied “${label()}” as Markdown.`);
          } catch (error) {
            announce(`Could not copy the document: ${errorText(error)}`, true);
          }
        },
      },
    ],
    { describedBy: options.describedBy },
  );
  const renameButton = h(
    'button',
    { type: 'button', class: options.compact ? 'button icon-button' : 'button', 'aria-label': options.compact ? 'Rename' : null, title: 'Rename', 'aria-describedby': options.describedBy },
    options.compact ? h('span', { class: 'icon icon-rename', 'aria-hidden': 'true' }) : 'Rename',
  );
  const deleteButton = h(
    'button',
    { type: 'button', class: options.compact ? 'button icon-button danger-text' : 'button danger-text', 'aria-label': 'Delete document', title: 'Delete document', 'aria-describedby': options.describedBy },
    options.compact ? h('span', { class: 'icon icon-delete', 'aria-hidden': 'true' }) : 'Delete',
  );
  renameButton.addEventListener('click', async () => {
    const title = await askTitle(options.title());
    if (title === null || title === options.title()) return;
    try {
      if (options.rename) await options.rename(title);
      else await api.rename(name, title);
      options.onRenamed?.(title);
      announce(title ? `Renamed to “${title}”.` : 'The title now follows the first line.');
    } catch (error) {
      announce(`Could not rename the document: ${errorText(error)}`, true);
    }
  });
  deleteButton.addEventListener('click', async () => {
    if (!(await confirmDelete(label()))) return;
    deleteButton.disabled = true;
    try {
      await api.remove(name);
      options.onDeleted();
    } catch (error) {
      deleteButton.disabled = false;
      announce(`Could not delete the document: ${errorText(error)}`, true);
    }
  });
  return h('div', { class: options.compact ? 'doc-actions compact' : 'doc-actions' }, menu, renameButton, deleteButton);
}

/**
 * Where the result of an action is told: an alert for errors, a polite status for the rest (the
 * status clears itself after 6 s). One element each, owned here; the page places them.
 */
export function actionMessages(): { error: HTMLElement; notice: HTMLElement; announce(message: string, error?: boolean): void } {
  const error = h('p', { class: 'form-error action-error', role: 'alert' });
  const notice = h('p', { class: 'action-notice', role: 'status', 'aria-live': 'polite' });
  let noticeTimer = 0;
  return {
    error,
    notice,
    announce(message, isError = false) {
      window.clearTimeout(noticeTimer);
      error.textContent = isError ? message : '';
      notice.textContent = isError ? '' : message;
      if (!isError) noticeTimer = window.setTimeout(() => (notice.textContent = ''), 6000);
    },
  };
}
