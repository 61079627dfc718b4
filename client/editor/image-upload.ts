import type { Node as PMNode } from 'prosemirror-model';
import { Plugin, PluginKey, type EditorState, type Transaction } from 'prosemirror-state';
import { ReplaceStep } from 'prosemirror-transform';
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view';
import { absolutePositionToRelativePosition, relativePositionToAbsolutePosition, ySyncPluginKey } from 'y-prosemirror';
import type * as Y from 'yjs';
import { schema } from '../../shared/schema.js';
import { h } from '../dom.js';
import { uploadFile, type Transfer, type UploadTarget } from './image-transfer.js';

/**
 * Uploads of pasted, dropped and picked images, shown in the document while they run: a placeholder
 * (a widget decoration, local to this editor: nobody else sees an image that does not exist yet)
 * with progress, then the image node in its place; a failed upload stays as a placeholder saying
 * why, with Retry and Remove.
 *
 * The plugin state is the one owner of what is pending; the Uploads object (below) runs the
 * transfers and tells the state through transactions. Positions: remote edits reach ProseMirror as
 * a replacement of the whole document (y-prosemirror), which a position mapping cannot follow. A
 * placeholder outside the part that changed moves by the size of the change (the documents before
 * and after are compared: O(size of the unchanged ends)); one inside it goes where its Yjs relative
 * position says, as remote cursors do.
 */

export type UploadStatus = 'uploading' | 'failed';

export interface PendingUpload {
  id: number;
  /** Where the image goes, in the current document. */
  pos: number;
  /** The same place in Yjs terms (null while the editor is not bound to the document). */
  anchor: Y.RelativePosition | null;
  name: string;
  status: UploadStatus;
  /** 0–1 while uploading. */
  progress: number;
  error: string | null;
}

type Action =
  | { type: 'start'; upload: PendingUpload }
  | { type: 'progress'; id: number; progress: number }
  | { type: 'failed'; id: number; error: string }
  | { type: 'retry'; id: number }
  | { type: 'remove'; id: number };

export const imageUploadKey = new PluginKey<PendingUpload[]>('imageUploads');

/** Where an anchored placeholder is after a remote change, or null (its text was deleted). */
function anchoredPos(state: EditorState, anchor: Y.RelativePosition | null): number | null {
  const sync = ySyncPluginKey.getState(state) as { doc: Y.Doc; type: Y.XmlFragment; binding: { mapping: Map<unknown, unknown> } | null } | undefined;
  if (!anchor || !sync?.binding || sync.binding.mapping.size === 0) return null;
  return relativePositionToAbsolutePosition(sync.doc, sync.type, anchor, sync.binding.mapping as never);
}

/**
 * Where `pos` of `before` is in `after` when the change between them is one replaced range (found by
 * comparing the two): unchanged before it, shifted by its growth after it; null inside it.
 */
function acrossReplacement(pos: number, before: PMNode, after: PMNode): number | null {
  const start = before.content.findDiffStart(after.content);
  if (start === null) return pos;
  const end = before.content.findDiffEnd(after.content);
  if (!end) return pos;
  // The two ends may overlap where the same content repeats: then the end is moved past the start.
  const overlap = start - Math.min(end.a, end.b);
  const endBefore = overlap > 0 ? end.a + overlap : end.a;
  const endAfter = overlap > 0 ? end.b + overlap : end.b;
  if (pos <= start) return pos;
  if (pos >= endBefore) return pos + (endAfter - endBefore);
  return null;
}

/** Whether the transaction is one replacement of the whole document (how y-prosemirror renders Yjs content). */
function replacesWholeDocument(tr: Transaction): boolean {
  if (tr.steps.length !== 1) return false;
  const step = tr.steps[0];
  return step instanceof ReplaceStep && step.from === 0 && step.to === tr.before.content.size;
}

function reduce(uploads: PendingUpload[], tr: Transaction, state: EditorState): PendingUpload[] {
  let next = uploads;
  if (tr.docChanged && next.length > 0) {
    // Remote edits, and any re-render of the whole document from Yjs (y-prosemirror marks only
    // some of those as remote), replace everything: mapping would send a placeholder to an end.
    const remote = Boolean((tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin) || replacesWholeDocument(tr);
    next = next.map((upload) => {
      const pos = remote ? (acrossReplacement(upload.pos, tr.before, tr.doc) ?? anchoredPos(state, upload.anchor) ?? tr.mapping.map(upload.pos)) : tr.mapping.map(upload.pos);
      return { ...upload, pos: Math.min(pos, state.doc.content.size) };
    });
  }
  const action = tr.getMeta(imageUploadKey) as Action | undefined;
  if (!action) return next;
  switch (action.type) {
    case 'start':
      return [...next, action.upload];
    case 'progress':
      return next.map((u) => (u.id === action.id ? { ...u, progress: action.progress } : u));
    case 'failed':
      return next.map((u) => (u.id === action.id ? { ...u, status: 'failed', error: action.error } : u));
    case 'retry':
      return next.map((u) => (u.id === action.id ? { ...u, status: 'uploading', progress: 0, error: null } : u));
    case 'remove':
      return next.filter((u) => u.id !== action.id);
  }
}

/** The placeholder of one upload: progress while uploading; the reason, Retry and Remove once failed. */
function placeholder(upload: PendingUpload, uploads: Uploads): HTMLElement {
  if (upload.status === 'uploading') {
    const percent = Math.round(upload.progress * 100);
    return h(
      'span',
      { class: 'ce-upload', 'data-status': 'uploading', contenteditable: 'false' },
      h('span', { class: 'ce-upload-name' }, `Uploading ${upload.name}…`),
      h('progress', { class: 'ce-upload-progress', max: 100, value: percent, 'aria-label': `Uploading ${upload.name}` }),
      h('span', { class: 'ce-upload-percent', 'aria-hidden': 'true' }, `${percent}%`),
    );
  }
  const retry = h('button', { type: 'button', class: 'ce-upload-retry' }, 'Retry');
  const remove = h('button', { type: 'button', class: 'ce-upload-remove', 'aria-label': `Remove the failed upload of ${upload.name}` }, 'Remove');
  retry.addEventListener('click', () => uploads.retry(upload.id));
  remove.addEventListener('click', () => uploads.remove(upload.id));
  return h(
    'span',
    { class: 'ce-upload', 'data-status': 'failed', contenteditable: 'false' },
    h('span', { class: 'ce-upload-error', role: 'alert' }, `${upload.name} could not be uploaded: ${upload.error ?? 'unknown error'}`),
    retry,
    remove,
  );
}

/** Is `file` something to upload as an image (the server checks the bytes; this only picks which files to try)? */
export const isImageFile = (file: File): boolean => file.type.startsWith('image/');

/**
 * The uploads of one editor: starts them, retries them, and cancels them all when the editor is
 * destroyed. `view` is the editor's current view (set by the plugin's view, null without one).
 */
export class Uploads {
  private view: EditorView | null = null;
  private readonly files = new Map<number, File>();
  private readonly transfers = new Map<number, Transfer>();
  private nextId = 1;

  constructor(private readonly target: UploadTarget) {}

  attach(view: EditorView | null): void {
    this.view = view;
  }

  /** Uploads `files` into the document at `pos` (the selection if omitted, replacing what is selected). */
  insert(files: readonly File[], pos?: number): void {
    const view = this.view;
    if (!view || files.length === 0 || !view.editable) return;
    if (pos === undefined) {
      if (!view.state.selection.empty) view.dispatch(view.state.tr.deleteSelection());
      pos = (view.state.selection.empty ? browserCaret(view) : null) ?? view.state.selection.from;
    }
    const sync = ySyncPluginKey.getState(view.state) as { type: Y.XmlFragment; binding: { mapping: Map<unknown, unknown> } | null } | undefined;
    for (const file of files) {
      const id = this.nextId++;
      let anchor: Y.RelativePosition | null = null;
      try {
        if (sync?.binding && sync.binding.mapping.size > 0) anchor = absolutePositionToRelativePosition(pos, sync.type, sync.binding.mapping as never);
      } catch {
        anchor = null; // not bound yet: local positions only
      }
      this.files.set(id, file);
      const upload: PendingUpload = { id, pos, anchor, name: file.name || 'image', status: 'uploading', progress: 0, error: null };
      view.dispatch(view.state.tr.setMeta(imageUploadKey, { type: 'start', upload } satisfies Action));
      this.run(id);
    }
  }

  retry(id: number): void {
    if (!this.files.has(id)) return;
    this.tell({ type: 'retry', id });
    this.run(id);
  }

  remove(id: number): void {
    this.transfers.get(id)?.abort();
    this.transfers.delete(id);
    this.files.delete(id);
    this.tell({ type: 'remove', id });
  }

  destroy(): void {
    for (const transfer of this.transfers.values()) transfer.abort();
    this.transfers.clear();
    this.files.clear();
    this.view = null;
  }

  private tell(action: Action): void {
    const view = this.view;
    if (view) view.dispatch(view.state.tr.setMeta(imageUploadKey, action));
  }

  private run(id: number): void {
    const file = this.files.get(id)!;
    let lastPercent = -1;
    const transfer = uploadFile(this.target, file, (fraction) => {
      // One transaction per whole percent at most.
      const percent = Math.floor(fraction * 100);
      if (percent === lastPercent) return;
      lastPercent = percent;
      this.tell({ type: 'progress', id, progress: fraction });
    });
    this.transfers.set(id, transfer);
    transfer.done.then(
      (uploaded) => {
        this.transfers.delete(id);
        const view = this.view;
        const pending = view ? imageUploadKey.getState(view.state)?.find((u) => u.id === id) : undefined;
        if (!view || !pending) return; // removed meanwhile
        this.files.delete(id);
        const image = schema.nodes.image!.create({ src: uploaded.url, alt: '', width: null });
        view.dispatch(placeImage(view.state, pending.pos, image).setMeta(imageUploadKey, { type: 'remove', id } satisfies Action));
      },
      (error: unknown) => {
        if (this.transfers.get(id) !== transfer) return; // removed or retried meanwhile
        this.transfers.delete(id);
        this.tell({ type: 'failed', id, error: error instanceof Error ? error.message : String(error) });
      },
    );
  }
}

/** Inserts the image at `pos`: inline in a textblock, or in a paragraph of its own between blocks. */
function placeImage(state: EditorState, pos: number, image: PMNode): Transaction {
  const $pos = state.doc.resolve(Math.min(pos, state.doc.content.size));
  if ($pos.parent.inlineContent && $pos.parent.canReplaceWith($pos.index(), $pos.index(), image.type)) return state.tr.insert($pos.pos, image);
  // Between blocks: the replace fits the paragraph where it can go (ProseMirror's Fitter).
  return state.tr.insert($pos.pos, schema.nodes.paragraph!.create(null, image));
}

/** The plugin: holds the pending uploads, draws their placeholders, and takes pasted and dropped image files. */
/**
 * The browser's caret in the editor, if it has one. The editor reads the caret a moment after a key
 * moved it (on selectionchange): a paste right after the key must still land where the caret is.
 */
function browserCaret(view: EditorView): number | null {
  const selection = (view.root as Document).getSelection?.();
  if (!selection || !selection.isCollapsed || !selection.anchorNode || !view.dom.contains(selection.anchorNode)) return null;
  try {
    return view.posAtDOM(selection.anchorNode, selection.anchorOffset);
  } catch {
    return null;
  }
}

export function imageUploadPlugin(uploads: Uploads): Plugin<PendingUpload[]> {
  return new Plugin<PendingUpload[]>({
    key: imageUploadKey,
    state: {
      init: () => [],
      apply: (tr, value, _old, state) => reduce(value, tr, state),
    },
    view(view) {
      uploads.attach(view);
      return {
        update: (updated) => uploads.attach(updated),
        destroy: () => uploads.attach(null),
      };
    },
    props: {
      decorations(state) {
        const pending = imageUploadKey.getState(state) ?? [];
        if (pending.length === 0) return null;
        return DecorationSet.create(
          state.doc,
          pending.map((upload) =>
            Decoration.widget(upload.pos, () => placeholder(upload, uploads), {
              key: `upload-${upload.id}-${upload.status}-${Math.round(upload.progress * 100)}`,
              side: 1,
              ignoreSelection: true,
              stopEvent: () => true,
            }),
          ),
        );
      },
      handlePaste(view, event) {
        const files = Array.from(event.clipboardData?.files ?? []).filter(isImageFile);
        if (files.length === 0) return false;
        uploads.insert(files);
        return true;
      },
      handleDrop(view, event, _slice, moved) {
        if (moved) return false;
        const files = Array.from((event as DragEvent).dataTransfer?.files ?? []).filter(isImageFile);
        if (files.length === 0) return false;
        event.preventDefault();
        const at = view.posAtCoords({ left: (event as DragEvent).clientX, top: (event as DragEvent).clientY });
        uploads.insert(files, at?.pos ?? view.state.selection.from);
        return true;
      },
    },
  });
}
