import './styles.css';
import { MAX_DOCUMENT_NAME_BYTES, documentNameProblem } from '../shared/protocol.js';
import { h } from './dom.js';
import { documentUrl } from './workspace/api.js';
import { renderDocument } from './workspace/document.js';
import { renderList } from './workspace/list.js';
import { appHeader } from './workspace/header.js';
import { applyTheme } from './workspace/theme.js';
import { captureTokenFromUrl } from './workspace/token.js';

applyTheme();
captureTokenFromUrl();

const app = document.getElementById('app')!;
const path = location.pathname;

/** A page that says what went wrong in words, and where to go (the server answers such paths with 404). */
function problemPage(title: string, ...text: Array<Node | string>): void {
  document.title = `${title} · Collab Docs`;
  app.replaceChildren(
    appHeader(null),
    h('main', { class: 'list-page', id: 'main' }, h('h1', { class: 'page-title' }, title), h('p', {}, ...text), h('p', {}, h('a', { href: '/' }, 'See all documents'), '.')),
  );
}

/** A name the server would accept that is close to `name` (trimmed, shortened), or null. */
function nearestValidName(name: string): string | null {
  let candidate = name.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  while (new TextEncoder().encode(candidate).length > MAX_DOCUMENT_NAME_BYTES) candidate = [...candidate].slice(0, -1).join('').trimEnd();
  return candidate !== name && documentNameProblem(candidate) === null ? candidate : null;
}

if (path === '/' || path === '/index.html') {
  renderList(app);
} else if (path.startsWith('/d/') && path.length > 3) {
  let name: string | null = null;
  try {
    name = decodeURIComponent(path.slice(3));
  } catch {
    problemPage('Not a valid document address', 'The address is not valid: its percent-encoding is broken. Nothing was opened, and nothing typed here could be saved.');
  }
  // The server refuses such names (close code 4400): say so before opening an editor that could
  // never save anything.
  const problem = name === null ? null : documentNameProblem(name);
  if (name !== null && problem) {
    const nearest = nearestValidName(name);
    problemPage(
      'Not a valid document name',
      `This address names no document the server can keep: the ${problem}. Nothing was opened, and nothing typed here could be saved.`,
      nearest ? h('span', {}, ' Did you mean ', h('a', { href: documentUrl(nearest) }, `“${nearest.length > 60 ? `${nearest.slice(0, 60)}…` : nearest}”`), '?') : '',
    );
  } else if (name !== null) {
    renderDocument(app, name);
  }
} else {
  problemPage('Page not found', `There is nothing at ${path}. Check the address, or find the document in the list.`);
}

// The service worker keeps the app itself available offline, so a document opened before can be
// reopened (and edited, from the browser's copy) without a connection.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('service worker not registered', error));
  });
}
