import './styles.css';
import { h } from './dom.js';
import { renderDocument } from './workspace/document.js';
import { renderList } from './workspace/list.js';
import { appHeader } from './workspace/header.js';
import { captureTokenFromUrl } from './workspace/token.js';

captureTokenFromUrl();

const app = document.getElementById('app')!;
const path = location.pathname;

function notFound(message: string): void {
  document.title = 'Not found · Collab Docs';
  app.replaceChildren(appHeader(null), h('main', { class: 'list-page' }, h('h1', { class: 'page-title' }, 'Not found'), h('p', {}, message, ' ', h('a', { href: '/' }, 'See all documents'), '.')));
}

if (path === '/' || path === '/index.html') {
  renderList(app);
} else if (path.startsWith('/d/') && path.length > 3) {
  let name: string | null = null;
  try {
    name = decodeURIComponent(path.slice(3));
  } catch {
    notFound('This document address is not valid.');
  }
  if (name !== null) renderDocument(app, name);
} else {
  notFound(`There is nothing at ${path}.`);
}

// The service worker keeps the app itself available offline, so a document opened before can be
// reopened (and edited, from the browser's copy) without a connection.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('service worker not registered', error));
  });
}
