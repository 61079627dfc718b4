import type { Node as PMNode } from 'prosemirror-model';
import { CloseCode, META_MAP } from '../../shared/protocol.js';
import { cleanTitle, MAX_TITLE_CHARS } from '../../shared/title.js';
import { h } from '../dom.js';
import { textColorOn } from '../editor/colors.js';
import { mountEditor, type EditorHandle, type EditorStatus, type Person } from '../editor/mount.js';
import { renderPresence } from '../editor/presence.js';
import { renderStatus, statusElement } from '../editor/status-indicator.js';
import { refusalText } from '../editor/status.js';
import { actionMessages, documentActions } from './actions.js';
import { ApiError, api, documentUrl } from './api.js';
import { askName, tokenPanel } from './dialogs.js';
import { appHeader, skipLink } from './header.js';
import { displayName, getName } from './identity.js';
import { listenForShortcutHelp, showShortcutHelp } from './shortcut-help.js';
import { getToken } from './token.js';
import { wordCountView } from './word-count.js';
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
  // Says it is new until the first edit creates the document on the server (see below).
  const newBadge = h('span', { class: 'doc-state', id: 'doc-new-state', 'data-testid': 'new-document', title: 'Nothing is stored until you write: the first edit creates the document.' }, 'New document');
  newBadge.hidden = true;
  const shareButton = h('button', { type: 'button', class: 'button share', title: 'Copy the address of this document to share it' }, 'Copy link');
  // Who is here and the connection status go in the page header (the editor's bar keeps the toolbar).
  const presenceEl = h('ul', { class: 'ce-presence' });
  const statusEl = statusElement();
  const widgets = h('div', { class: 'ce-widgets doc-widgets' }, presenceEl, statusEl);
  const header = appHeader(h('div', { class: 'doc-header' }, h('div', { class: 'doc-title-wrap' }, titleInput, newBadge), widgets, shareButton), (newName) => editor.setUser({ name: newName }));
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
  const helpButton = h('button', { type: 'button', class: 'button shortcuts-button', title: 'Keyboard shortcuts (Ctrl+/ or ?)' }, 'Shortcuts');
  helpButton.addEventListener('click', () => void showShortcutHelp());
  actions.appendChild(helpButton);
  const history = historyPanel({ name, current: () => editor.view.state.doc, announce });
  actions.prepend(history.button);
  const docBar = h('div', { class: 'doc-bar' }, h('div', { class: 'doc-messages' }, actionError, notice), actions);
  const skip = skipLink('Skip to the text', () => editor.focus());
  app.replaceChildren(skip, header, h('main', { class: 'doc-page', id: 'main' }, notices, docBar, host, history.panel));

  const editor = mountEditor(host, {
    document: name,
    // Never "Anonymous": until the person chooses a name, others see a generated one.
    user: { name: displayName() },
    token: getToken() ?? undefined,
    presence: false,
    placeholder: 'Start writing… Use the toolbar or Markdown shortcuts like # for a heading.',
  });

  const avatar = header.querySelector<HTMLElement>('.me-avatar')!;
  const showPeople = (people: Person[]) => {
    renderPresence(presenceEl, people);
    const me = people.find((person) => person.self);
    if (me) {
      avatar.style.backgroundColor = me.color;
      avatar.style.color = textColorOn(me.color);
    }
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

  // --- refusals: what happened and what to do (a token; creating a deleted document again; reconnecting)
  let panel: HTMLElement | null = null;
  let panelFor = '';
  const showRefusal = (status: EditorStatus) => {
    const key = `${status.connection}|${status.closeCode ?? ''}|${status.reason ?? ''}`;
    if (key === panelFor) return;
    panel?.remove();
    panel = null;
    panelFor = key;
    const refusal = refusalText(status);
    if (!refusal) return;
    panel = status.connection === 'denied' ? tokenPanel(refusal.message, (token) => editor.setToken(token)) : refusalPanel(name, status, refusal, () => editor.reconnect());
    notices.appendChild(panel);
    // Editing just stopped: show why, even if the page was scrolled down to the text.
    panel.scrollIntoView({ block: 'nearest' });
  };
  editor.on('status', (status) => {
    renderStatus(statusEl, status);
    showRefusal(status);
    showNew();
  });

  // --- "New document" until the first edit creates it: the server has no document of that name yet
  let isNew = false;
  const showNew = () => {
    newBadge.hidden = !isNew || editor.status.connection === 'refused' || editor.status.connection === 'denied';
    // Read with the title field, where a screen reader starts on this page.
    if (newBadge.hidden) titleInput.removeAttribute('aria-describedby');
    else titleInput.setAttribute('aria-describedby', newBadge.id);
  };
  const onFirstContent = () => {
    // Someone's edit (this person's, or another's who got there first) creates the document.
    if (editor.doc.store.clients.size === 0) return;
    isNew = false;
    showNew();
    editor.doc.off('update', onFirstContent);
  };
  api.info(name).then(
    () => undefined,
    (error: unknown) => {
      if (!(error instanceof ApiError) || error.status !== 404 || editor.doc.store.clients.size > 0) return;
      isNew = true;
      showNew();
      editor.doc.on('update', onFirstContent);
    },
  );

  // --- word and character count, under the text
  const counts = wordCountView(() => editor.view.state.doc);
  host.after(counts.element);
  editor.doc.on('update', counts.refresh);
  editor.on('paused', counts.refresh);
  listenForShortcutHelp();

  // --- name: ask once per browser (a suggested one is filled in, and shown to others meanwhile)
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

/** The panel of a refused document (status `refused`): what happened, and the ways on. */
function refusalPanel(name: string, status: EditorStatus, refusal: { label: string; message: string }, reconnect: () => void): HTMLElement {
  const actions = h('div', { class: 'refusal-actions' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  error.hidden = true;
  if (status.closeCode === CloseCode.NotFound) {
    const create = h('button', { type: 'button', class: 'button primary' }, 'Create it again');
    create.addEventListener('click', async () => {
      create.disabled = true;
      try {
        await api.create({ name });
        reconnect();
      } catch (failure) {
        // Someone created it again meanwhile: it exists, so connect to it.
        if (failure instanceof ApiError && failure.status === 409) return reconnect();
        create.disabled = false;
        error.textContent = `Could not create the document: ${failure instanceof Error ? failure.message : String(failure)}`;
        error.hidden = false;
      }
    });
    actions.append(create);
  } else if (status.closeCode === CloseCode.TooManyRequests) {
    const again = h('button', { type: 'button', class: 'button primary' }, 'Reconnect');
    again.addEventListener('click', reconnect);
    actions.append(again);
  }
  actions.append(h('a', { class: 'button', href: '/' }, 'See all documents'));
  return h(
    'section',
    { class: 'panel refusal-panel', role: 'alert', 'data-testid': 'refusal' },
    h('h2', { class: 'panel-title' }, refusal.label),
    h('p', { class: 'panel-text' }, refusal.message),
    actions,
    error,
  );
}
