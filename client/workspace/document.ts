import type { Node as PMNode } from 'prosemirror-model';
import { META_MAP } from '../../shared/protocol.js';
import { cleanTitle, MAX_TITLE_CHARS } from '../../shared/title.js';
import { h } from '../dom.js';
import { mountEditor, type EditorHandle, type Person } from '../editor/mount.js';
import { renderPresence } from '../editor/presence.js';
import { renderStatus, statusElement } from '../editor/status-indicator.js';
import { actionMessages, documentActions } from './actions.js';
import { documentUrl } from './api.js';
import { askName, tokenPanel } from './dialogs.js';
import { appHeader } from './header.js';
import { getName } from './identity.js';
import { getToken } from './token.js';
import { historyPanel } from './history-panel.js';


/** The text of the first non-empty block: the title of a document nobody titled. */
export function derivedTitle(doc: PMNode): string {
  for (let i = 0; i < doc.childCount; i++) {
    const text = doc.child(i).textContent.replace(/\s+/g, ' ').trim();
    if (text !== '') return text.slice(0, 120);
  }
  return '';
}

/** `/d/<name>`: the editor, with the title, a share button and the person's name in the header. */
export function renderDocument(app: HTMLElement, name: string): EditorHandle {
  const titleInput = h('input', {
    type: 'text',
    class: 'title-input',
    maxlength: MAX_TITLE_CHARS,
    placeholder: 'Untitled document',
    'aria-label': 'Document title',
    spellcheck: 'false',
  });
  const shareButton = h('button', { type: 'button', class: 'button share', title: 'Copy the address of this document to share it' }, 'Copy link');
  // Who is here and the connection status go in the page header (the editor's bar keeps the toolbar).
  const presenceEl = h('ul', { class: 'ce-presence' });
  const statusEl = statusElement();
  const widgets = h('div', { class: 'ce-widgets doc-widgets' }, presenceEl, statusEl);
  const header = appHeader(h('div', { class: 'doc-header' }, titleInput, widgets, shareButton), (newName) => editor.setUser({ name: newName }));
  const notices = h('div', { class: 'doc-notices' });
  const host = h('div', { class: 'editor-host' });
  const { error: actionError, notice, announce } = actionMessages();
  const currentTitle = () => {
    const explicit = meta.get('title');
    return typeof explicit === 'string' ? explicit : '';
  };
  const actions = documentActions({
    name,
    title: () => currentTitle() || derivedTitle(editor.view.state.doc),
    // The title lives in the document itself: renaming here is what typing in the title field does.
    rename: (title) => {
      const value = cleanTitle(title);
      if (value === '') meta.delete('title');
      else meta.set('title', value);
    },
    announce,
    onDeleted: () => {
      history.destroy();
      editor.destroy();
      location.assign('/');
    },
  });
  const history = historyPanel({ name, current: () => editor.view.state.doc, announce });
  actions.prepend(history.button);
  const docBar = h('div', { class: 'doc-bar' }, h('div', { class: 'doc-messages' }, actionError, notice), actions);
  app.replaceChildren(header, h('main', { class: 'doc-page' }, notices, docBar, host, history.panel));

  const editor = mountEditor(host, {
    document: name,
    user: { name: getName() ?? 'Anonymous' },
    token: getToken() ?? undefined,
    presence: false,
    placeholder: 'Start writing… Use the toolbar or Markdown shortcuts like # for a heading.',
  });

  const avatar = header.querySelector<HTMLElement>('.me-avatar')!;
  const showPeople = (people: Person[]) => {
    renderPresence(presenceEl, people);
    const me = people.find((person) => person.self);
    if (me) avatar.style.backgroundColor = me.color;
  };
  editor.on('people', showPeople);
  showPeople(editor.people);
  renderStatus(statusEl, editor.status);

  // --- title: an explicit one lives in the meta map (shared live); otherwise the first block's text
  const meta = editor.doc.getMap<unknown>(META_MAP);
  const renderTitle = () => {
    const explicit = meta.get('title');
    const fallback = derivedTitle(editor.view.state.doc);
    if (document.activeElement !== titleInput) titleInput.value = typeof explicit === 'string' ? explicit : '';
    titleInput.placeholder = fallback || 'Untitled document';
    document.title = `${(typeof explicit === 'string' && explicit) || fallback || 'Untitled document'} · Collab Docs`;
  };
  let titleTimer = 0;
  const scheduleTitle = () => {
    window.clearTimeout(titleTimer);
    titleTimer = window.setTimeout(renderTitle, 150);
  };
  meta.observe(renderTitle);
  editor.doc.on('update', scheduleTitle);
  titleInput.addEventListener('input', () => {
    const value = cleanTitle(titleInput.value);
    if (value === '') meta.delete('title');
    else meta.set('title', value);
  });
  titleInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      editor.focus();
    }
  });
  titleInput.addEventListener('blur', renderTitle);
  renderTitle();

  // --- share
  shareButton.addEventListener('click', async () => {
    const url = location.origin + documentUrl(name);
    try {
      await navigator.clipboard.writeText(url);
      shareButton.textContent = 'Link copied';
    } catch {
      window.prompt('Copy this address to share the document:', url);
    }
    window.setTimeout(() => (shareButton.textContent = 'Copy link'), 2000);
  });

  // --- access token
  let panel: HTMLElement | null = null;
  editor.on('status', (status) => {
    renderStatus(statusEl, status);
    if (status.connection === 'denied' && !panel) {
      panel = tokenPanel(`The server refused to open this document: ${status.reason ?? 'access denied'}.`, (token) => {
        panel?.remove();
        panel = null;
        editor.setToken(token);
      });
      notices.appendChild(panel);
    } else if (status.connection !== 'denied' && panel) {
      panel.remove();
      panel = null;
    }
  });

  // --- name: ask once per browser
  if (!getName()) {
    void askName().then((chosen) => {
      editor.setUser({ name: chosen });
      editor.focus();
    });
  } else {
    void editor.whenLoaded.then(() => editor.focus());
  }

  return editor;
}
