import type { Node as PMNode } from 'prosemirror-model';
import type { EditorView, NodeView } from 'prosemirror-view';
import { h } from '../dom.js';
import type { ImageSources } from './image-source.js';

/**
 * How an image node shows in the editor: the picture (fetched through ImageSources, so a token
 * applies), at its width or its own, and a button to edit its description and width (also Enter
 * on a selected image, or a double click). A picture that cannot be loaded shows its alt text and why.
 */
export class ImageView implements NodeView {
  readonly dom: HTMLElement;
  private readonly img: HTMLImageElement;
  private readonly edit: HTMLButtonElement;
  private src = '';
  private destroyed = false;

  constructor(
    private node: PMNode,
    private readonly view: EditorView,
    private readonly getPos: () => number | undefined,
    private readonly sources: ImageSources,
    private readonly openEditor: (view: EditorView, getPos: () => number | undefined) => void,
  ) {
    this.img = h('img', { class: 'ce-image-img', draggable: 'false' });
    this.edit = h('button', { type: 'button', class: 'ce-image-edit', 'aria-label': 'Edit image description and width', title: 'Edit image description and width' }, 'Edit');
    this.edit.addEventListener('click', (event) => {
      event.preventDefault();
      this.openEditor(this.view, this.getPos);
    });
    this.dom = h('span', { class: 'ce-image', contenteditable: 'false' }, this.img, this.edit);
    this.dom.addEventListener('dblclick', () => this.openEditor(this.view, this.getPos));
    this.img.addEventListener('error', () => this.showError('the image could not be loaded'));
    this.img.addEventListener('load', () => {
      this.dom.dataset.state = 'loaded';
    });
    this.render();
  }

  update(node: PMNode): boolean {
    if (node.type !== this.node.type) return false;
    this.node = node;
    this.render();
    return true;
  }

  selectNode(): void {
    this.dom.classList.add('ProseMirror-selectednode');
  }

  deselectNode(): void {
    this.dom.classList.remove('ProseMirror-selectednode');
  }

  /** The edit button handles its own events; everything else (selecting, dragging) is ProseMirror's. */
  stopEvent(event: Event): boolean {
    return event.target instanceof Node && this.edit.contains(event.target);
  }

  ignoreMutation(): boolean {
    return true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  private render(): void {
    const { src, alt, width } = this.node.attrs as { src: string; alt: string; width: number | null };
    this.img.alt = alt;
    this.dom.title = alt;
    this.img.style.width = typeof width === 'number' ? `${width}px` : '';
    this.dom.dataset.src = src;
    if (src === this.src) return;
    this.src = src;
    this.dom.dataset.state = 'loading';
    this.sources.resolve(src).then(
      (url) => {
        if (this.destroyed || this.src !== src) return;
        this.img.src = url;
      },
      (error: unknown) => {
        if (this.destroyed || this.src !== src) return;
        this.showError(error instanceof Error ? error.message : String(error));
      },
    );
  }

  private showError(reason: string): void {
    this.dom.dataset.state = 'error';
    this.dom.dataset.alt = this.img.alt || 'Image';
    this.dom.title = `${this.img.alt || 'Image'}: ${reason}`;
  }
}
