import * as encoding from 'lib0/encoding';
import { dropCursor } from 'prosemirror-dropcursor';
import { gapCursor } from 'prosemirror-gapcursor';
import { EditorState, Plugin } from 'prosemirror-state';
import { Decoration, DecorationSet, EditorView } from 'prosemirror-view';
import { yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { Awareness } from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { tokenSubprotocols } from '../../shared/auth.js';
import { MessageType, PROSEMIRROR_FRAGMENT, SYNC_PATH } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';
import { h } from '../dom.js';
import { isHexColor, keepColorDistinct, preferredIndex } from './colors.js';
import { editingPlugins } from './commands.js';
import { createContentGuard, type ContentGuard } from './content-guard.js';
import { cursorElement, renderableCursorState, selectionAttributes } from './cursors.js';
import { Emitter } from './emitter.js';
import { peopleIn, renderPresence, type Person } from './presence.js';
import { StatusTracker, renderStatus, statusElement, type EditorStatus } from './status.js';
import { injectStyles } from './styles.js';
import { createToolbar } from './toolbar.js';

export type { EditorStatus, Person };

export interface EditorUser {
  /** Shown next to this person's cursor and in the presence list. */
  name: string;
  /**
   * '#rrggbb'. Leave it out to have one assigned that nobody else in the document is using
   * (recommended: colours then stay distinguishable).
   */
  color?: string;
}

export interface MountOptions {
  /** Base URL of the collaboration server, e.g. 'https://docs.example.com' (http(s) or ws(s)). Defaults to the page's origin. */
  server?: string;
  /** Name of the document to open (free text; it is percent-encoded for you). */
  document: string;
  /** Who is editing. Defaults to "Anonymous". */
  user?: EditorUser;
  /**
   * Access token, if the server requires one: sent in the WebSocket's `Sec-WebSocket-Protocol`
   * header (subprotocol `collab.token.<token>`), never in the URL, so it stays out of proxy logs.
   */
  token?: string;
  /** Keep a copy in IndexedDB so edits survive going offline and reloading (default true). */
  offline?: boolean;
  /** Show the formatting toolbar (default true). */
  toolbar?: boolean;
  /** Show who is here and the connection status above the text (default true). */
  presence?: boolean;
  /** Shown in an empty document. */
  placeholder?: string;
  /** Focus the editor once mounted (default false). */
  autofocus?: boolean;
}

export interface EditorEvents {
  [event: string]: (...args: never[]) => void;
  /** The connection or saved state changed. */
  status: (status: EditorStatus) => void;
  /** Someone joined, left, or changed name or colour. */
  people: (people: Person[]) => void;
  /** The document was loaded from this browser's offline copy (IndexedDB). */
  loaded: () => void;
  /**
   * Editing was paused (`reason` says why) because the document holds content this editor cannot
   * display, or an update could not be applied; or resumed (`reason` null). Nothing is written
   * while paused.
   */
  paused: (reason: string | null) => void;
}

export interface EditorHandle {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly awareness: Awareness;
  readonly view: EditorView;
  /** The element the editor was mounted into. */
  readonly element: HTMLElement;
  readonly document: string;
  /** The current connection / saved state. */
  readonly status: EditorStatus;
  /** Everyone in the document now, this tab first. */
  readonly people: Person[];
  /** Why editing is paused (content this editor cannot display, or a failed update), or null. */
  readonly pausedReason: string | null;
  /** Resolves once the offline copy (if any) has been loaded into the document. */
  readonly whenLoaded: Promise<void>;
  /** Resolves once the document has synced with the server. */
  readonly whenSynced: Promise<void>;
  on<K extends keyof EditorEvents>(event: K, listener: EditorEvents[K]): () => void;
  off<K extends keyof EditorEvents>(event: K, listener: EditorEvents[K]): void;
  /** Changes the name (and optionally the colour) others see. */
  setUser(user: EditorUser): void;
  /** Uses a new access token and reconnects. */
  setToken(token: string | undefined): void;
  focus(): void;
  /** Disconnects, stops everything and removes the editor from the element. The offline copy is kept. */
  destroy(): void;
}

/** Turns 'https://host/base' into 'wss://host/base/sync'. */
export function syncUrl(server: string | undefined): string {
  const base = new URL(server ?? location.origin, location.href);
  if (base.protocol === 'http:') base.protocol = 'ws:';
  else if (base.protocol === 'https:') base.protocol = 'wss:';
  else if (base.protocol !== 'ws:' && base.protocol !== 'wss:') throw new Error(`collab-editor: unsupported server URL "${server}"`);
  const path = base.pathname.replace(/\/+$/, '');
  return `${base.protocol}//${base.host}${path}${SYNC_PATH}`;
}

/** A stable per-browser id, so a person keeps the same preferred colour across documents. */
function browserSeed(): string {
  try {
    let seed = localStorage.getItem('collab.seed');
    if (!seed) {
      seed = Math.random().toString(36).slice(2);
      localStorage.setItem('collab.seed', seed);
    }
    return seed;
  } catch {
    return Math.random().toString(36).slice(2);
  }
}

function placeholderPlugin(text: string): Plugin {
  return new Plugin({
    props: {
      decorations(state) {
        const doc = state.doc;
        if (doc.childCount !== 1) return null;
        const first = doc.firstChild!;
        if (first.type !== schema.nodes.paragraph || first.content.size !== 0) return null;
        return DecorationSet.create(doc, [Decoration.node(0, first.nodeSize, { class: 'ce-placeholder', 'data-placeholder': text })]);
      },
    },
  });
}

/**
 * Mounts a collaborative editor for `options.document` into `element`: ProseMirror bound to a
 * Y.Doc (XmlFragment 'prosemirror'), synced through the server's WebSocket endpoint, with remote
 * cursors, a presence list, a connection/saved status, and an offline copy in IndexedDB.
 */
export function mountEditor(element: HTMLElement, options: MountOptions): EditorHandle {
  if (!(element instanceof HTMLElement)) throw new TypeError('mountEditor: the first argument must be an element');
  if (!options || typeof options.document !== 'string' || options.document === '') throw new TypeError('mountEditor: options.document (the document name) is required');
  injectStyles();

  const events = new Emitter<EditorEvents>();
  let destroyed = false;
  const doc = new Y.Doc();
  const fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
  const serverUrl = syncUrl(options.server);
  let token = options.token;

  // Offline copy first: whatever this browser kept shows up even if the server is unreachable.
  const persistence = options.offline === false ? null : new IndexeddbPersistence(`collab:${serverUrl}:${options.document}`, doc);
  const whenLoaded = persistence
    ? persistence.whenSynced.then(
        () => events.emit('loaded'),
        (error: unknown) => console.warn('collab-editor: the offline copy could not be loaded', error),
      )
    : Promise.resolve();

  // The token travels as a subprotocol, not as `?token=` (URLs end up in proxy and access logs).
  const protocolsFor = (value: string | undefined) => (value ? tokenSubprotocols(value) : []);
  const provider = new WebsocketProvider(serverUrl, encodeURIComponent(options.document), doc, {
    protocols: protocolsFor(token),
  });
  const awareness = provider.awareness;

  // --- user and colour
  let user: EditorUser = { name: options.user?.name?.trim() || 'Anonymous', color: options.user?.color };
  let stopColors: (() => void) | null = null;
  const applyUser = () => {
    stopColors?.();
    stopColors = null;
    if (user.color && isHexColor(user.color)) {
      awareness.setLocalStateField('user', { name: user.name, color: user.color });
    } else {
      if (user.color) console.warn(`collab-editor: colour "${user.color}" is not '#rrggbb'; assigning one`);
      const current = (awareness.getLocalState()?.user as { color?: string } | undefined)?.color;
      awareness.setLocalStateField('user', { name: user.name, color: current });
      stopColors = keepColorDistinct(awareness, preferredIndex(browserSeed()), (color) => {
        awareness.setLocalStateField('user', { name: user.name, color });
      });
    }
  };
  applyUser();

  // --- DOM
  const root = h('div', { class: 'ce-root' });
  const toolbarEl = h('div', { class: 'ce-toolbar' });
  const presenceEl = h('ul', { class: 'ce-presence' });
  const statusEl = statusElement();
  const linkForm = h('div', { class: 'ce-link-form' });
  const notice = h('div', { class: 'ce-notice', role: 'alert' });
  notice.hidden = true;
  const showToolbar = options.toolbar !== false;
  const showMeta = options.presence !== false;
  const bar = h('div', { class: 'ce-bar' }, showToolbar ? toolbarEl : null, showMeta ? h('div', { class: 'ce-meta' }, presenceEl, statusEl) : null);
  const surface = h('div', { class: 'ce-surface' });
  if (showToolbar || showMeta) root.appendChild(bar);
  root.append(linkForm, notice, surface);
  element.appendChild(root);

  // --- editor
  const toolbar = createToolbar(toolbarEl, linkForm);
  let readOnly = false;
  let guard: ContentGuard | undefined; // set right after the view exists
  const boundState = () =>
    EditorState.create({
      schema,
      plugins: [
        ySyncPlugin(fragment),
        yCursorPlugin(awareness, { cursorBuilder: cursorElement, selectionBuilder: selectionAttributes, awarenessStateFilter: renderableCursorState }),
        yUndoPlugin(),
        ...editingPlugins(() => toolbar.openLink()),
        dropCursor(),
        gapCursor(),
        placeholderPlugin(options.placeholder ?? 'Start writing…'),
        toolbar.plugin,
      ],
    });
  // Starts unbound: the content guard binds y-prosemirror only to content that fits the schema.
  const view = new EditorView(surface, {
    state: EditorState.create({ schema }),
    // A read-only connection's edits would never be saved, and a paused editor saves nothing: do
    // not let them be made.
    editable: () => !readOnly && !guard?.paused,
    attributes: { class: 'ce-content', spellcheck: 'true', 'aria-label': `Document ${options.document}`, role: 'textbox', 'aria-multiline': 'true' },
  });

  // --- content that does not fit the schema, and updates that fail: never erased, always reported
  guard = createContentGuard({
    doc,
    fragment,
    schema,
    view,
    surface,
    boundState,
    onPausedChange: (paused, reason) => {
      root.dataset.paused = String(paused);
      // Our caret pointed into the editor that is gone (y-prosemirror clears it on blur, which the guard holds back).
      if (paused) awareness.setLocalStateField('cursor', null);
      view.setProps({}); // makes the view read `editable` again
      if (!destroyed) events.emit('paused', reason);
    },
  });
  // y-websocket's sync handler, plus the error handler it does not pass: y-protocols catches an
  // update that fails to apply (or whose observers throw) and only logs it, which leaves a
  // silently stale or blank editor. Here it pauses editing with an alert instead.
  provider.messageHandlers[MessageType.Sync] = (encoder, decoder, _provider, emitSynced) => {
    encoding.writeVarUint(encoder, MessageType.Sync);
    const kind = syncProtocol.readSyncMessage(decoder, encoder, doc, provider, (error) => guard?.fail(error));
    if (emitSynced && kind === syncProtocol.messageYjsSyncStep2 && !provider.synced) provider.synced = true;
  };

  // --- status
  const showStatus = (status: EditorStatus) => {
    renderStatus(statusEl, status);
    root.dataset.connection = status.connection;
    root.dataset.readOnly = String(status.readOnly);
    if (readOnly !== status.readOnly) {
      readOnly = status.readOnly;
      view.setProps({}); // makes the view read `editable` again
    }
    if (status.connection === 'denied') {
      notice.hidden = false;
      notice.textContent = `The server refused access to this document: ${status.reason}.`;
    } else {
      notice.hidden = true;
    }
  };
  const tracker = new StatusTracker(provider, doc, (status) => {
    showStatus(status);
    events.emit('status', status);
  });
  showStatus(tracker.status);

  let resolveSynced: () => void;
  const whenSynced = new Promise<void>((resolve) => (resolveSynced = resolve));
  const onSync = (synced: boolean) => {
    if (synced) resolveSynced();
  };
  provider.on('sync', onSync);

  // --- presence
  let people = peopleIn(awareness);
  const onAwareness = () => {
    people = peopleIn(awareness);
    renderPresence(presenceEl, people);
    events.emit('people', people);
  };
  awareness.on('change', onAwareness);
  renderPresence(presenceEl, people);

  // --- refused upgrades: a server may answer the WebSocket handshake with 401/403, which a
  // browser reports only as a failed connection (1006). When connecting keeps failing while the
  // browser is online, ask the HTTP API about this document: a 401/403 there means access, not
  // the network, is the problem. (Cross-origin embeds without CORS on the API skip this quietly.)
  const httpBase = serverUrl.replace(/^ws/, 'http').slice(0, -SYNC_PATH.length);
  let probing = false;
  let lastProbe = 0;
  const probeAccess = async () => {
    if (probing || destroyed || navigator.onLine === false || Date.now() - lastProbe < 5000) return;
    probing = true;
    lastProbe = Date.now();
    try {
      const response = await fetch(`${httpBase}/api/documents/${encodeURIComponent(options.document)}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
      });
      if (destroyed || provider.wsconnected || (response.status !== 401 && response.status !== 403)) return;
      let reason = response.status === 401 ? 'an access token is required' : 'access to this document is not allowed';
      try {
        const body = (await response.json()) as { error?: unknown };
        if (typeof body.error === 'string' && body.error !== '') reason = body.error;
      } catch {
        // not JSON: keep the generic reason
      }
      provider.disconnect(); // stop retrying until setToken()
      tracker.deny(reason);
    } catch {
      // unreachable, or not allowed to ask (CORS): nothing learned
    } finally {
      probing = false;
    }
  };
  const onConnectionClose = (event: CloseEvent | null) => {
    // `wsconnected` is still true here if this socket had opened
    if (event !== null && !provider.wsconnected && event.code === 1006) void probeAccess();
  };
  provider.on('connection-close', onConnectionClose);

  // --- network changes: the browser knows before the socket does
  const reconnectNow = () => {
    if (!provider.shouldConnect) return; // stopped (destroyed, or access denied)
    provider.disconnect();
    provider.connect();
  };
  const onOffline = () => {
    // A socket over a link that just went down can look open for a long time; start over.
    if (provider.ws) reconnectNow();
  };
  const onOnline = () => {
    if (!provider.wsconnected) reconnectNow();
  };
  window.addEventListener('offline', onOffline);
  window.addEventListener('online', onOnline);

  if (options.autofocus) void whenLoaded.then(() => view.focus());

  const handle: EditorHandle = {
    doc,
    provider,
    awareness,
    view,
    element,
    document: options.document,
    get status() {
      return tracker.status;
    },
    get people() {
      return people;
    },
    get pausedReason() {
      return guard?.reason ?? null;
    },
    whenLoaded,
    whenSynced,
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    setUser(next) {
      user = { name: next.name?.trim() || 'Anonymous', color: next.color };
      applyUser();
    },
    setToken(next) {
      token = next || undefined;
      provider.protocols = protocolsFor(token); // read by the next connect()
      tracker.clearDenied();
      provider.disconnect();
      provider.connect();
    },
    focus() {
      view.focus();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      window.removeEventListener('offline', onOffline);
      window.removeEventListener('online', onOnline);
      awareness.off('change', onAwareness);
      provider.off('sync', onSync);
      provider.off('connection-close', onConnectionClose);
      stopColors?.();
      tracker.destroy();
      guard?.destroy();
      view.destroy();
      provider.destroy();
      void persistence?.destroy();
      doc.destroy();
      events.clear();
      root.remove();
    },
  };
  return handle;
}
