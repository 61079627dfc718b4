import { h } from '../dom.js';
import { MAX_TITLE_CHARS } from '../../shared/title.js';
import { ApiError, api, documentUrl, type DocumentInfo } from './api.js';
import { tokenPanel } from './dialogs.js';
import { appHeader } from './header.js';
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
  const main = h(
    'main',
    { class: 'list-page' },
    h('div', { class: 'list-head' }, h('h1', { class: 'page-title' }, 'Documents'), h('p', { class: 'page-subtitle' }, 'Create a document, share its address, and write together.')),
    createForm,
    createError,
    status,
    list,
  );
  app.replaceChildren(appHeader(null), main);

  const showDocuments = (documents: DocumentInfo[]) => {
    list.replaceChildren();
    if (documents.length === 0) {
      list.appendChild(h('li', { class: 'doc-empty' }, h('strong', {}, 'No documents yet.'), ' Create the first one above.'));
      return;
    }
    for (const info of documents) {
      const title = info.title.trim() || 'Untitled document';
      list.appendChild(
        h(
          'li',
          { class: 'doc-item' },
          h(
            'a',
            { class: 'doc-link', href: documentUrl(info.name), 'data-name': info.name },
            h('span', { class: 'doc-icon', 'aria-hidden': 'true' }),
            h('span', { class: 'doc-text' }, h('span', { class: info.title.trim() ? 'doc-title' : 'doc-title untitled' }, title), h('span', { class: 'doc-name' }, info.name)),
            h('time', { class: 'doc-time', datetime: new Date(info.updatedAt).toISOString(), title: `Edited ${fullTime(info.updatedAt)}` }, `Edited ${relativeTime(info.updatedAt)}`),
          ),
        ),
      );
    }
  };

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

  const load = async () => {
    try {
      const documents = await api.list();
      status.textContent = '';
      status.className = 'list-status';
      tokenShown?.remove();
      tokenShown = null;
      cacheList(documents);
      showDocuments(documents);
    } catch (error) {
      if (error instanceof ApiError && error.needsToken) {
        list.replaceChildren();
        showTokenPanel(`The server answered: ${error.message}.`);
        return;
      }
      const cached = cachedList();
      status.className = 'list-status error';
      if (error instanceof ApiError && error.unreachable && cached) {
        status.textContent = 'Offline: showing the documents from your last visit. Documents you opened before still work and sync when you are back online.';
        showDocuments(cached);
      } else {
        status.textContent = `Could not load the documents: ${error instanceof Error ? error.message : String(error)}`;
      }
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
