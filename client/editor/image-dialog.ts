import type { EditorView } from 'prosemirror-view';
import { imageAltProblem, imageWidthProblem, MAX_IMAGE_ALT_CHARS, MAX_IMAGE_WIDTH, MIN_IMAGE_WIDTH } from '../../shared/images.js';
import { h } from '../dom.js';

/**
 * The dialog that sets an image's description (alt text) and width: a modal <dialog> (focus
 * stays inside, Escape cancels, focus returns to the editor). Its values are checked with the same
 * rules the server applies (shared/images.ts) before anything is written.
 */
export interface ImageDialog {
  open(view: EditorView, getPos: () => number | undefined): void;
  destroy(): void;
}

let dialogs = 0;

export function createImageDialog(host: HTMLElement): ImageDialog {
  const id = `ce-image-dialog-${++dialogs}`;
  const alt = h('textarea', { id: `${id}-alt`, class: 'ce-image-alt', rows: 3, maxlength: MAX_IMAGE_ALT_CHARS, 'aria-describedby': `${id}-alt-hint` });
  const width = h('input', {
    id: `${id}-width`,
    class: 'ce-image-width',
    type: 'number',
    min: MIN_IMAGE_WIDTH,
    max: MAX_IMAGE_WIDTH,
    step: 1,
    inputmode: 'numeric',
    placeholder: 'Original size',
    'aria-describedby': `${id}-width-hint ${id}-error`,
  });
  const error = h('p', { id: `${id}-error`, class: 'ce-image-dialog-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'ce-image-cancel' }, 'Cancel');
  const form = h(
    'form',
    // novalidate: our message (in the alert below) instead of the browser's tooltip, which screen readers may miss.
    { method: 'dialog', class: 'ce-image-form', novalidate: true },
    h('h2', { id: `${id}-title`, class: 'ce-image-dialog-title' }, 'Image'),
    h('label', { for: `${id}-alt` }, 'Description (alt text)'),
    alt,
    h('p', { id: `${id}-alt-hint`, class: 'ce-image-dialog-hint' }, 'What the image shows, for people who cannot see it. Leave empty if it is decoration.'),
    h('label', { for: `${id}-width` }, 'Width in pixels'),
    width,
    h('p', { id: `${id}-width-hint`, class: 'ce-image-dialog-hint' }, `From ${MIN_IMAGE_WIDTH} to ${MAX_IMAGE_WIDTH}; empty for the image's own size (never wider than the page).`),
    error,
    h('div', { class: 'ce-image-dialog-buttons' }, cancel, h('button', { type: 'submit', class: 'ce-image-save' }, 'Save')),
  );
  const dialog = h('dialog', { class: 'ce-image-dialog', 'aria-labelledby': `${id}-title` }, form);
  host.appendChild(dialog);

  let target: { view: EditorView; getPos: () => number | undefined } | null = null;
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener('close', () => {
    const view = target?.view;
    target = null;
    view?.focus();
  });
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!target) return close();
    const raw = width.value.trim();
    const widthValue = raw === '' ? null : Number(raw);
    const problem = imageAltProblem(alt.value) ?? imageWidthProblem(widthValue);
    if (problem) {
      error.textContent = raw !== '' && imageWidthProblem(widthValue) ? `The width ${problem}.` : `The description ${problem}.`;
      return;
    }
    const { view, getPos } = target;
    const pos = getPos();
    const node = pos === undefined ? null : view.state.doc.nodeAt(pos);
    if (pos !== undefined && node?.type.name === 'image') {
      view.dispatch(view.state.tr.setNodeMarkup(pos, null, { ...node.attrs, alt: alt.value, width: widthValue }));
    }
    close();
  });

  return {
    open(view, getPos) {
      const pos = getPos();
      const node = pos === undefined ? null : view.state.doc.nodeAt(pos);
      if (!node || node.type.name !== 'image' || !view.editable) return;
      target = { view, getPos };
      alt.value = String(node.attrs.alt ?? '');
      width.value = typeof node.attrs.width === 'number' ? String(node.attrs.width) : '';
      error.textContent = '';
      if (!dialog.open) dialog.showModal();
      alt.focus();
    },
    destroy() {
      target = null;
      close();
      dialog.remove();
    },
  };
}
