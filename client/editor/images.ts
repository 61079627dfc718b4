import { NodeSelection, Plugin, type EditorState } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { IMAGE_TYPES } from '../../shared/images.js';
import { h } from '../dom.js';
import { createImageDialog, type ImageDialog } from './image-dialog.js';
import { createImageSources } from './image-source.js';
import type { UploadTarget } from './image-transfer.js';
import { imageUploadPlugin, Uploads } from './image-upload.js';
import { ImageView } from './image-view.js';

export interface Images {
  /** The image plugins (uploads and their placeholders; node view, dialog, file picker). */
  plugins: Plugin[];
  /** Opens the file picker; the chosen images are uploaded at the selection (the toolbar's "Insert image"). */
  pickImage(): void;
  /** Whether an image can be inserted at the selection (for the toolbar button's state). */
  canInsert(state: EditorState): boolean;
  /** Cancels uploads and releases fetched images (when the editor is destroyed). */
  destroy(): void;
}

/**
 * Images in the editor: uploads (pasted, dropped, picked), their display (with the token where the
 * server needs one), and the dialog for alt text and width. The uploads and fetched pictures
 * belong to the editor (they survive a rebinding of its state); the dialog and the file input
 * belong to the plugin view, which removes them when destroyed.
 */
export function createImages(target: UploadTarget): Images {
  const sources = createImageSources({ httpBase: target.httpBase, token: target.token });
  const uploads = new Uploads(target);
  let dialog: ImageDialog | null = null;
  let picker: HTMLInputElement | null = null;
  const openEditor = (view: EditorView, getPos: () => number | undefined) => dialog?.open(view, getPos);

  const ui = new Plugin({
    view(view) {
      const host = (view.dom.closest('.ce-root') as HTMLElement | null) ?? document.body;
      dialog = createImageDialog(host);
      picker = h('input', { type: 'file', accept: IMAGE_TYPES.join(','), multiple: true, class: 'ce-image-picker', hidden: true, tabindex: -1, 'aria-hidden': 'true' });
      picker.addEventListener('change', () => {
        const files = Array.from(picker?.files ?? []);
        if (picker) picker.value = '';
        uploads.insert(files);
        view.focus();
      });
      host.appendChild(picker);
      return {
        destroy() {
          dialog?.destroy();
          dialog = null;
          picker?.remove();
          picker = null;
        },
      };
    },
    props: {
      nodeViews: {
        image: (node, view, getPos) => new ImageView(node, view, getPos, sources, openEditor),
      },
      handleKeyDown(view, event) {
        const { selection } = view.state;
        if (event.key !== 'Enter' || event.shiftKey || event.ctrlKey || event.metaKey || event.altKey) return false;
        if (!(selection instanceof NodeSelection) || selection.node.type.name !== 'image') return false;
        openEditor(view, () => selection.from);
        return true;
      },
    },
  });

  return {
    plugins: [imageUploadPlugin(uploads), ui],
    pickImage: () => picker?.click(),
    canInsert(state) {
      const { $from } = state.selection;
      return !$from.parent.inlineContent || $from.parent.canReplaceWith($from.index(), $from.index(), state.schema.nodes.image!);
    },
    destroy() {
      uploads.destroy();
      sources.destroy();
    },
  };
}
