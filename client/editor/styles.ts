import editorCss from './editor.css?inline';
import imagesCss from './images.css?inline';
import richContentCss from './rich-content.css?inline';

const STYLE_ID = 'collab-editor-styles';

/** The editor's styles, then those of the rich content (tables, task lists, menus) and images, which build on them. */
const css = `${editorCss}\n${richContentCss}\n${imagesCss}`;

/** Adds the editor's stylesheet to the page once (the library is a single JS file). */
export function injectStyles(): void {
  if (typeof document === 'undefined' || document.getElementById(STYLE_ID)) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = css;
  // First in <head>, so the host page's own rules win over ours.
  document.head.insertBefore(style, document.head.firstChild);
}
