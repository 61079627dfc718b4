/** The embeddable editor's public types: what mountEditor takes, what it returns, what it emits. */
import type { EditorView } from 'prosemirror-view';
import type { Awareness } from 'y-protocols/awareness';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import type { Person } from './presence.js';
import type { EditorStatus } from './status.js';

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
  /** Connects again after the server refused (status `refused`), e.g. once a deleted document was created again. */
  reconnect(): void;
  focus(): void;
  /** Disconnects, stops everything and removes the editor from the element. The offline copy is kept. */
  destroy(): void;
}
