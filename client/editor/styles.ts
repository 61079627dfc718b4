import css from './editor.css?inline';
import imagesCss from './images.css?inline';

const STYLE_ID = 'collab-editor-styles';

/** Adds the editor's stylesheet to the page once (the library is a single JS file). */
export function injectStyles(): void {
  if (typeof document === 'undefined' || document.getElementById(STYLE_ID)) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = `${css}\n${imagesCss}`;
  // First in <head>, so the host page's own rules win over ours.
  document.head.insertBefore(style, document.head.firstChild);
}
