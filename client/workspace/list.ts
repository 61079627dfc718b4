import { h } from '../dom.js';
import { MAX_TITLE_CHARS } from '../../shared/title.js';
import { actionMessages, documentActions } from './actions.js';
import { ApiError, api, documentUrl, type DocumentInfo, type ImportFormat } from './api.js';
import { tokenPanel } from './dialogs.js';
import { appHeader, skipLink } from './header.js';
import { fullTime, relativeTime } from './time.js';

const CACHE_KEY = 'collab.documents';

function cacheList(documents: DocumentInfo[]): void {
  try {
    localStorage.setItem(CACHE_KEY, JSON.stringify(documents.slice(0, 200)));
  } catch {
    // storage full or unavailable
  }
}

function cachedList(): DocumentInfo[] | null {
  try {
    const raw = localStorage.getItem(CACHE_KEY);
    return raw ? (JSON.parse(raw) as DocumentInfo[]) : null;
  } catch {
    return null;
  }
}

/** The files `/` imports, by extension. */
const IMPORT_FORMATS: Record<string, ImportFormat> = { md: 'markdown', markdown: 'markdown', html: 'html', htm: 'html', txt: 'text' };
const IMPORT_ACCEPT = '.md,.markdown,.html,.htm,.txt,text/markdown,text/html,text/plain';
const SEARCH_DELAY_MS = 200;
/** Waits between attempts to load the list while the server cannot be reached: doubling, at most 30 s. */
const RETRY_DELAYS_MS = [2_000, 4_000, 8_000, 16_000, 30_000];

export function importFormat(fileName: string): ImportFormat | null {
  const match = /\.([a-z0-9]+)$/i.exec(fileName);
  return (match && IMPORT_FORMATS[match[1]!.toLowerCase()]) ?? null;
}

/** `/`: the documents, most recently edited first, and a form to create one. */
export function renderList(app: HTMLElement): void {
  document.title = 'Documents · Collab Docs';
  const status = h('div', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'doc-list', 'aria-label': 'Documents' });
  const titleInput = h('input', { type: 'text', class: 'field', name: 'title', placeholder: 'Title of the new document (optional)', maxlength: MAX_TITLE_CHARS, 'aria-label': 'Title of the new document' });
  const createButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'create-document' }, '+ New document');
  const createError = h('p', { class: 'form-error', role: 'alert' });
  createError.hidden = true;
  const createForm = h('form', { class: 'create-form' }, titleInput, createButton);
  const searchInput = h('input', { type: 'search', class: 'field search-field', name: 'q', placeholder: 'Search documents', 'aria-label': 'Search documents', autocomplete: 'off', 'aria-controls': 'doc-list' });
  const fileInput = h('input', { type: 'file', class: 'visually-hidden', accept: IMPORT_ACCEPT, tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'import-file' });
  const importButton = h('button', { type: 'button', class: 'button import-button', title: 'Import a Markdown, HTML or text file as a new document' }, h('span', { class: 'icon icon-import', 'aria-hidden': 'true' }), 'Import');
  const tools = h('div', { class: 'list-tools' }, h('div', { class: 'search-wrap' }, searchInput), importButton, fileInput);
  const dropHint = h('p', { class: 'drop-hint' }, 'Import a .md, .html or .txt file with the button, or drop it on the list.');
  const { error: actionError, notice, announce } = actionMessages();
  const retryButton = h('button', { type: 'button', class: 'button list-retry' }, 'Retry now');
  retryButton.hidden = true;
  list.id = 'doc-list';
  const main = h(
    'main',
    { class: 'list-page', id: 'main' },
    h('div', { class: 'list-head' }, h('h1', { class: 'page-title' }, 'Documents'), h('p', { class: 'page-subtitle' }, 'Create a document, share its address, and write together.')),
    createForm,
    createError,
    tools,
    dropHint,
    actionError,
    notice,
    status,
    retryButton,
    list,
  );
  app.replaceChildren(skipLink('Skip to the documents', () => (list.querySelector<HTMLElement>('.doc-link') ?? searchInput).focus()), appHeader(null), main);

  /** The full list as last loaded (shown again when the search is cleared). */
  let allDocuments: DocumentInfo[] = [];
  let rowCount = 0;
  const row = (info: DocumentInfo): HTMLElement => {
    const titleId = `doc-title-${++rowCount}`;
    const titleEl = h('span', { class: 'doc-title', id: titleId });
    const renderTitle = () => {
      titleEl.textContent = info.title.trim() || 'Untitled document';
      titleEl.classList.toggle('untitled', !info.title.trim());
    };
    renderTitle();
    const item = h(
      'li',
      { class: 'doc-item', 'data-name': info.name },
      h(
        'a',
        { class: 'doc-link', href: documentUrl(info.name), 'data-name': info.name },
        h('span', { class: 'doc-icon', 'aria-hidden': 'true' }),
        h('span', { class: 'doc-text' }, titleEl, h('span', { class: 'doc-name' }, info.name)),
        h('time', { class: 'doc-time', datetime: new Date(info.updatedAt).toISOString(), title: `Edited ${fullTime(info.updatedAt)}` }, `Edited ${relativeTime(info.updatedAt)}`),
      ),
    );
    item.appendChild(
      documentActions({
        name: info.name,
        title: () => info.title,
        compact: true,
        describedBy: titleId,
        announce,
        onRenamed: (title) => {
          info.title = title;
          for (const other of allDocuments) if (other.name === info.name) other.title = title;
          renderTitle();
        },
        onDeleted: () => {
          // Focus would be lost with the row: move it to the next row's link, or the search box.
          const next = (item.nextElementSibling ?? item.previousElementSibling)?.querySelector<HTMLElement>('.doc-link') ?? searchInput;
          item.remove();
          allDocuments = allDocuments.filter((other) => other.name !== info.name);
          cacheList(allDocuments);
          announce(`Deleted “${info.title.trim() || 'Untitled document'}”.`);
          if (list.childElementCount === 0) showDocuments(searching() ? [] : allDocuments);
          next.focus();
        },
      }),
    );
    return item;
  };

  const searching = () => searchInput.value.trim() !== '';
  const showDocuments = (documents: DocumentInfo[]) => {
    list.replaceChildren();
    if (documents.length === 0) {
      list.appendChild(
        searching()
          ? h('li', { class: 'doc-empty' }, h('strong', {}, 'No documents match.'), ' Try other words.')
          : h('li', { class: 'doc-empty' }, h('strong', {}, 'No documents yet.'), ' Create the first one above, or import a file.'),
      );
      return;
    }
    for (const info of documents) list.appendChild(row(info));
  };

  // --- search: debounced; only the latest query's answer is shown
  let searchTimer = 0;
  let searchSeq = 0;
  const runSearch = async () => {
    const query = searchInput.value.trim();
    const seq = ++searchSeq;
    if (query === '') {
      status.textContent = '';
      status.className = 'list-status';
      showDocuments(allDocuments);
      return;
    }
    try {
      const found = await api.search(query);
      if (seq !== searchSeq) return;
      status.className = 'list-status';
      status.textContent = found.length === 1 ? '1 document found.' : `${found.length} documents found.`;
      showDocuments(found);
    } catch (error) {
      if (seq !== searchSeq) return;
      status.className = 'list-status error';
      status.textContent = `Could not search: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  searchInput.addEventListener('input', () => {
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void runSearch(), searchInput.value.trim() === '' ? 0 : SEARCH_DELAY_MS);
  });
  searchInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      window.clearTimeout(searchTimer);
      void runSearch();
    }
  });

  // --- import: a file chosen with the button or dropped on the page becomes a new document
  const importFile = async (file: File) => {
    announce('');
    const format = importFormat(file.name);
    if (!format) {
      announce(`“${file.name}” cannot be imported: choose a Markdown (.md, .markdown), HTML (.html, .htm) or text (.txt) file.`, true);
      return;
    }
    importButton.disabled = true;
    notice.textContent = `Importing “${file.name}”…`;
    try {
      const info = await api.import(await file.text(), format);
      location.assign(documentUrl(info.name));
    } catch (error) {
      importButton.disabled = false;
      if (error instanceof ApiError && error.needsToken) {
        announce('');
        showTokenPanel(`Importing a document needs access: ${error.message}.`);
        return;
      }
      announce(`Could not import “${file.name}”: ${error instanceof Error ? error.message : String(error)}`, true);
    }
  };
  importButton.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file) void importFile(file);
  });
  const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
  let dragDepth = 0;
  main.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    dragDepth++;
    main.classList.add('dropping');
  });
  main.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer!.dropEffect = 'copy';
  });
  main.addEventListener('dragleave', (event) => {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) main.classList.remove('dropping');
  });
  main.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    main.classList.remove('dropping');
    const files = event.dataTransfer!.files;
    if (files.length > 1) announce('Drop one file at a time.', true);
    else if (files[0]) void importFile(files[0]);
  });

  let tokenShown: HTMLElement | null = null;
  const showTokenPanel = (message: string) => {
    tokenShown?.remove();
    tokenShown = tokenPanel(message, () => {
      tokenShown?.remove();
      tokenShown = null;
      void load();
    });
    main.insertBefore(tokenShown, createForm);
  };

  // --- the server cannot be reached: say so, keep trying (doubling waits, and at once when the
  // browser is back online), and let the person try now
  let retryTimer = 0;
  let failures = 0;
  const scheduleRetry = () => {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(() => void load(), RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1]);
    retryButton.hidden = false;
  };
  retryButton.addEventListener('click', () => {
    window.clearTimeout(retryTimer);
    retryButton.disabled = true;
    void load().finally(() => (retryButton.disabled = false));
  });
  window.addEventListener('online', () => {
    if (failures > 0) void load();
  });

  const load = async () => {
    try {
      const documents = await api.list();
      failures = 0;
      window.clearTimeout(retryTimer);
      retryButton.hidden = true;
      status.textContent = '';
      status.className = 'list-status';
      tokenShown?.remove();
      tokenShown = null;
      cacheList(documents);
      allDocuments = documents;
      if (searching()) void runSearch();
      else showDocuments(documents);
    } catch (error) {
      if (error instanceof ApiError && error.needsToken) {
        list.replaceChildren();
        showTokenPanel(`The server answered: ${error.message}.`);
        return;
      }
      const cached = cachedList();
      status.className = 'list-status error';
      failures++;
      // Set only when it changes: the status is a live region, read out on every change.
      const say = (text: string) => {
        if (status.textContent !== text) status.textContent = text;
      };
      if (error instanceof ApiError && error.unreachable) {
        const where = navigator.onLine === false ? 'This device is offline' : 'The server cannot be reached';
        if (cached) {
          say(`${where}: showing the documents from your last visit, and retrying. Documents you opened before still work and sync when the connection returns.`);
          allDocuments = cached;
          if (!searching()) showDocuments(cached);
        } else {
          say(`${where}, so the documents cannot be listed yet. Retrying automatically; documents you opened before on this device still open from their address.`);
        }
      } else {
        say(`The server could not list the documents (${error instanceof Error ? error.message : String(error)}). Retrying automatically.`);
      }
      scheduleRetry();
    }
  };

  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    createButton.disabled = true;
    createError.hidden = true;
    try {
      const title = titleInput.value.trim();
      const info = await api.create(title ? { title } : {});
      location.assign(documentUrl(info.name));
    } catch (error) {
      createButton.disabled = false;
      if (error instanceof ApiError && error.needsToken) {
        showTokenPanel(`Creating a document needs access: ${error.message}.`);
        return;
      }
      createError.textContent = `Could not create the document: ${error instanceof Error ? error.message : String(error)}`;
      createError.hidden = false;
    }
  });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !tokenShown) void load();
  });
  status.textContent = 'Loading…';
  void load();
}
