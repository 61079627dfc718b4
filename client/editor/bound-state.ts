import { dropCursor } from 'prosemirror-dropcursor';
import { gapCursor } from 'prosemirror-gapcursor';
import { EditorState } from 'prosemirror-state';
import { yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { schema } from '../../shared/schema.js';
import { editingPlugins } from './commands.js';
import { cursorElement, cursorLabels, renderableCursorState, selectionAttributes } from './cursors.js';
import type { FindBar } from './find.js';
import type { Images } from './images.js';
import { pastePlugin } from './paste.js';
import { placeholderPlugin } from './placeholder.js';
import { slashMenu } from './slash-menu.js';
import type { TableBar } from './table-bar.js';
import { tablePlugins } from './tables.js';
import { taskListPlugin } from './task-list.js';
import type { Toolbar } from './toolbar.js';

export interface BoundStateOptions {
  fragment: Y.XmlFragment;
  awareness: Awareness;
  toolbar: Toolbar;
  tableBar: TableBar;
  findBar: FindBar;
  placeholder: string;
  images: Images;
}

/**
 * Whether this editor repairs tables that others' concurrent changes left ragged (tables.ts):
 * the one with the lowest client id among those present does, so that exactly one does. An
 * editor that sees no one else present does not: it may just have reconnected and not yet
 * heard of the others (then whoever edits the table next repairs it).
 */
function repairLeader(awareness: Awareness): () => boolean {
  return () => {
    const present = [...awareness.getStates().keys()];
    return present.length > 1 && present.every((clientId) => clientId >= awareness.clientID);
  };
}

/**
 * Returns a factory of editor states bound to `fragment` through y-prosemirror (sync, remote
 * cursors, undo of this tab's own edits) with the editing plugins. Each call makes a new binding:
 * the content guard rebinds with it after a pause.
 */
export function boundStateFactory(options: BoundStateOptions): () => EditorState {
  const { fragment, awareness, toolbar, tableBar, findBar, placeholder, images } = options;
  return () =>
    EditorState.create({
      schema,
      plugins: [
        ySyncPlugin(fragment),
        yCursorPlugin(awareness, { cursorBuilder: cursorElement, selectionBuilder: selectionAttributes, awarenessStateFilter: renderableCursorState }),
        cursorLabels(awareness),
        yUndoPlugin(),
        // Before the editing keymap: the menu's arrow keys and Enter win while it is open.
        slashMenu(),
        // Before the keymaps (Enter on a selected image opens its dialog), and image files before
        // the paste cleaning: a pasted screenshot is uploaded, not read as the HTML next to it.
        ...images.plugins,
        pastePlugin(),
        ...editingPlugins(() => toolbar.openLink()),
        ...tablePlugins(repairLeader(awareness)),
        taskListPlugin(),
        ...findBar.plugins,
        dropCursor(),
        gapCursor(),
        placeholderPlugin(placeholder),
        toolbar.plugin,
        tableBar.plugin,
      ],
    });
}
