/**
 * The embeddable editor, built by Vite in library mode into `dist/client/lib/collab-editor.js`
 * (one ES module; Yjs, ProseMirror and the styles are bundled). Two ways to use it:
 *
 *   import { mountEditor } from 'https://docs.example.com/lib/collab-editor.js';
 *   const editor = mountEditor(element, { server: 'https://docs.example.com', document: 'notes', user: { name: 'Ada' } });
 *
 *   <script type="module" src="https://docs.example.com/lib/collab-editor.js"></script>
 *   <collab-editor server="https://docs.example.com" document="notes" user-name="Ada"></collab-editor>
 *
 * See docs/embedding.md.
 */
import { mountEditor, type EditorHandle, type EditorStatus, type MountOptions, type Person } from './editor/mount.js';

export { mountEditor, syncUrl } from './editor/mount.js';
export type { EditorEvents, EditorHandle, EditorStatus, EditorUser, MountOptions, Person } from './editor/mount.js';
export { statusLabel } from './editor/status.js';
export { FallbackWebSocket, type FallbackOptions, type TransportKind, type TransportMemory } from './transport/fallback-websocket.js';
export { schema } from '../shared/schema.js';
export * as Y from 'yjs';

const ATTRIBUTES = ['server', 'document', 'token', 'user-name', 'user-color', 'placeholder', 'toolbar', 'presence', 'offline'] as const;

/**
 * `<collab-editor server="…" document="…" user-name="…" user-color="#rrggbb" token="…">`.
 * Mounts when it is in the page and has a `document`; remounts when `server` or `document`
 * changes. Fires `collab-ready` (detail: the editor handle), `collab-status` (detail: status)
 * and `collab-people` (detail: people). The handle is also on the `editor` property.
 */
export class CollabEditorElement extends HTMLElement {
  static get observedAttributes(): readonly string[] {
    return ATTRIBUTES;
  }

  #editor: EditorHandle | null = null;
  #scheduled = false;

  /** The mounted editor (null until it is in the page with a `document`). */
  get editor(): EditorHandle | null {
    return this.#editor;
  }

  get status(): EditorStatus | null {
    return this.#editor?.status ?? null;
  }

  connectedCallback(): void {
    this.#schedule();
  }

  disconnectedCallback(): void {
    // Moving the element within the page disconnects and reconnects it at once: keep the editor.
    queueMicrotask(() => {
      if (!this.isConnected) this.#unmount();
    });
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (oldValue === newValue) return;
    if (!this.#editor) {
      if (this.isConnected) this.#schedule();
      return;
    }
    if (name === 'user-name' || name === 'user-color') {
      this.#editor.setUser(this.#user());
    } else if (name === 'token') {
      this.#editor.setToken(newValue ?? undefined);
    } else {
      this.#unmount();
      this.#schedule();
    }
  }

  #user() {
    const color = this.getAttribute('user-color') ?? undefined;
    return { name: this.getAttribute('user-name') ?? 'Anonymous', ...(color ? { color } : {}) };
  }

  #flag(name: string): boolean | undefined {
    const value = this.getAttribute(name);
    if (value === null) return undefined;
    return value !== 'false' && value !== 'off' && value !== '0';
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Wait a microtask so attributes set right after createElement() are seen.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#mount();
    });
  }

  #mount(): void {
    if (this.#editor || !this.isConnected) return;
    const document = this.getAttribute('document');
    if (!document) return;
    const options: MountOptions = {
      document,
      server: this.getAttribute('server') ?? undefined,
      token: this.getAttribute('token') ?? undefined,
      user: this.#user(),
      placeholder: this.getAttribute('placeholder') ?? undefined,
      toolbar: this.#flag('toolbar'),
      presence: this.#flag('presence'),
      offline: this.#flag('offline'),
    };
    const editor = mountEditor(this, options);
    this.#editor = editor;
    editor.on('status', (status) => this.dispatchEvent(new CustomEvent<EditorStatus>('collab-status', { detail: status })));
    editor.on('people', (people) => this.dispatchEvent(new CustomEvent<Person[]>('collab-people', { detail: people })));
    this.dispatchEvent(new CustomEvent<EditorHandle>('collab-ready', { detail: editor }));
  }

  #unmount(): void {
    this.#editor?.destroy();
    this.#editor = null;
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('collab-editor')) {
  customElements.define('collab-editor', CollabEditorElement);
}

declare global {
  interface HTMLElementTagNameMap {
    'collab-editor': CollabEditorElement;
  }
}
