import { dropCursor } from 'prosemirror-dropcursor';
import { gapCursor } from 'prosemirror-gapcursor';
import { EditorState } from 'prosemirror-state';
import { yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { schema } from '../../shared/schema.js';
import { editingPlugins } from './commands.js';
import { cursorElement, cursorLabels, renderableCursorState, selectionAttributes } from './cursors.js';
import type { Images } from './images.js';
import { pastePlugin } from './paste.js';
import { placeholderPlugin } from './placeholder.js';
import type { Toolbar } from './toolbar.js';

export interface BoundStateOptions {
  fragment: Y.XmlFragment;
  awareness: Awareness;
  toolbar: Toolbar;
  placeholder: string;
  images: Images;
}

/**
 * Returns a factory of editor states bound to `fragment` through y-prosemirror (sync, remote
 * cursors, undo of this tab's own edits) with the editing plugins. Each call makes a new binding:
 * the content guard rebinds with it after a pause.
 */
export function boundStateFactory(options: BoundStateOptions): () => EditorState {
  const { fragment, awareness, toolbar, placeholder, images } = options;
  return () =>
    EditorState.create({
      schema,
      plugins: [
        ySyncPlugin(fragment),
        yCursorPlugin(awareness, { cursorBuilder: cursorElement, selectionBuilder: selectionAttributes, awarenessStateFilter: renderableCursorState }),
        cursorLabels(awareness),
        yUndoPlugin(),
        // Before the keymaps (Enter on a selected image opens its dialog), and image files before
        // the paste cleaning: a pasted screenshot is uploaded, not read as the HTML next to it.
        ...images.plugins,
        pastePlugin(),
        ...editingPlugins(() => toolbar.openLink()),
        dropCursor(),
        gapCursor(),
        placeholderPlugin(placeholder),
        toolbar.plugin,
      ],
    });
}
