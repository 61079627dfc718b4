/**
 * A Tiptap editor as a Tiptap app has it (StarterKit, Collaboration, CollaborationCaret and the
 * stock HocuspocusProvider), pointed at collab-docs: only the URL, the token, and the fragment it
 * shares with collab-docs' own editor are specific to this server.
 */
import { HocuspocusProvider } from '@hocuspocus/provider';
import { Editor } from '@tiptap/core';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import StarterKit from '@tiptap/starter-kit';

const params = new URLSearchParams(location.search);
const status = document.getElementById('status')!;

const provider = new HocuspocusProvider({
  url: params.get('server')!, // ws://HOST:PORT/sync
  name: params.get('document')!,
  token: params.get('token'),
  onSynced: () => (status.textContent = 'synced'),
  onUnsyncedChanges: ({ number }) => (status.textContent = number === 0 ? 'all changes saved' : `${number} unsaved`),
  onAuthenticationFailed: ({ reason }) => (status.textContent = `refused: ${reason}`),
});

const editor = new Editor({
  element: document.getElementById('editor')!,
  extensions: [
    // Collaboration brings its own undo (of one's own edits only).
    StarterKit.configure({ undoRedo: false }),
    // `prosemirror` is the fragment collab-docs' editor uses; a Tiptap-only app may keep `default`.
    Collaboration.configure({ document: provider.document, field: 'prosemirror' }),
    CollaborationCaret.configure({ provider, user: { name: params.get('name') ?? 'Tiptap', color: '#b5179e' } }),
  ],
  editorProps: { attributes: { 'aria-label': 'Document (Tiptap)' } },
});

(window as unknown as { tiptap: unknown }).tiptap = { editor, provider };
