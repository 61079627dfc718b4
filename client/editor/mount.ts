import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { tokenSubprotocols } from '../../shared/auth.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';
import { createAccessProbe } from './access-probe.js';
import { boundStateFactory } from './bound-state.js';
import { createContentGuard, type ContentGuard } from './content-guard.js';
import { Emitter } from './emitter.js';
import { createFindBar } from './find.js';
import { reportSyncFailures } from './guarded-sync.js';
import { createLayout } from './layout.js';
import { LocalUser } from './local-user.js';
import { peopleIn, renderPresence } from './presence.js';
import { httpBase, syncUrl } from './server-url.js';
import { StatusStore } from './status-store.js';
import { canEdit } from './status.js';
import { showStatus } from './status-view.js';
import { injectStyles } from './styles.js';
import { createImages } from './images.js';
import { createTableBar } from './table-bar.js';
import { createToolbar } from './toolbar.js';
import { FallbackWebSocket } from '../transport/fallback-websocket.js';
import type { EditorEvents, EditorHandle, MountOptions } from './types.js';

export { syncUrl } from './server-url.js';
export type { EditorEvents, EditorHandle, EditorStatus, EditorUser, MountOptions, Person } from './types.js';

/** The token travels as a subprotocol, not as `?token=` (URLs end up in proxy and access logs). */
function protocolsFor(token: string | undefined): string[] {
  return token ? tokenSubprotocols(token) : [];
}

/**
 * Mounts a collaborative editor for `options.document` into `element`: ProseMirror bound to a
 * Y.Doc (XmlFragment 'prosemirror'), synced through the server's WebSocket endpoint, with remote
 * cursors, a presence list, a connection/saved status, and an offline copy in IndexedDB.
 *
 * This function only assembles the parts; each lives in its own file, and each one that sets
 * something up undoes it in its destroy, called here in reverse order of setup.
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

  // Falls back to HTTP where WebSockets are blocked (client/transport/fallback-websocket.ts).
  const provider = new WebsocketProvider(serverUrl, encodeURIComponent(options.document), doc, {
    protocols: protocolsFor(token),
    WebSocketPolyfill: FallbackWebSocket as unknown as typeof WebSocket,
  });
  const awareness = provider.awareness;
  const localUser = new LocalUser(awareness, options.user);
  const statusStore = new StatusStore({
    provider,
    doc,
    probeAccess: createAccessProbe({ httpBase: httpBase(serverUrl), document: options.document, token: () => token }),
  });

  // --- editor
  const layout = createLayout(element, { toolbar: options.toolbar !== false, meta: options.presence !== false });
  const { root } = layout;
  const images = createImages({ httpBase: httpBase(serverUrl), document: options.document, token: () => token });
  const findBar = createFindBar(layout.findBar);
  const toolbar = createToolbar(layout.toolbar, layout.linkForm, findBar.open, images);
  const tableBar = createTableBar(layout.tableBar);
  let guard: ContentGuard | undefined; // set right after the view exists
  // Starts unbound: the content guard binds y-prosemirror only to content that fits the schema.
  const view = new EditorView(layout.surface, {
    state: EditorState.create({ schema }),
    // A read-only or refused connection's edits would never be saved, and a paused editor saves
    // nothing: do not let them be made.
    editable: () => canEdit(statusStore.status) && !guard?.paused,
    attributes: { class: 'ce-content', spellcheck: 'true', 'aria-label': `Document ${options.document}`, role: 'textbox', 'aria-multiline': 'true' },
  });

  // --- content that does not fit the schema, and updates that fail: never erased, always reported
  guard = createContentGuard({
    doc,
    fragment,
    schema,
    view,
    surface: layout.surface,
    boundState: boundStateFactory({ fragment, awareness, toolbar, tableBar, findBar, images, placeholder: options.placeholder ?? 'Start writing…' }),
    onPausedChange: (paused, reason) => {
      root.dataset.paused = String(paused);
      // Our caret pointed into the editor that is gone (y-prosemirror clears it on blur, which the guard holds back).
      if (paused) awareness.setLocalStateField('cursor', null);
      view.setProps({}); // makes the view read `editable` again
      if (!destroyed) events.emit('paused', reason);
    },
  });
  const restoreSyncHandler = reportSyncFailures(provider, doc, (error) => guard?.fail(error));

  // --- status: the store owns it; the editor's view and the host page observe
  const stopStatusView = showStatus(statusStore, { indicator: layout.status, announcer: layout.announcer, root, notice: layout.notice, view });
  const stopStatusEvents = statusStore.subscribe((next) => events.emit('status', next));
  const whenSynced = new Promise<void>((resolve) => {
    const stop = statusStore.subscribe((next) => {
      if (!next.synced) return;
      stop();
      resolve();
    });
  });

  // --- presence
  let people = peopleIn(awareness);
  const onAwareness = () => {
    people = peopleIn(awareness);
    renderPresence(layout.presence, people);
    events.emit('people', people);
  };
  awareness.on('change', onAwareness);
  renderPresence(layout.presence, people);

  if (options.autofocus) void whenLoaded.then(() => view.focus());

  const handle: EditorHandle = {
    doc,
    provider,
    awareness,
    view,
    element,
    document: options.document,
    get status() {
      return statusStore.status;
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
      localUser.set(next);
    },
    setToken(next) {
      token = next || undefined;
      provider.protocols = protocolsFor(token); // read by the next connect()
      statusStore.retry();
    },
    reconnect() {
      statusStore.retry();
    },
    focus() {
      view.focus();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      awareness.off('change', onAwareness);
      stopStatusEvents();
      stopStatusView();
      restoreSyncHandler();
      statusStore.destroy();
      localUser.destroy();
      guard?.destroy();
      view.destroy();
      images.destroy();
      provider.destroy();
      void persistence?.destroy();
      doc.destroy();
      events.clear();
      root.remove();
    },
  };
  return handle;
}
