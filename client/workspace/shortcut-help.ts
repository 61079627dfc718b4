import { h } from '../dom.js';
import { shortcutLabel, shortcuts } from '../editor/commands.js';
import { modal } from './dialogs.js';

/** Ctrl+/ (⌘/ on a Mac) opens the list anywhere on a document page; `?` where it would not be typed. */
export const HELP_SHORTCUT = 'Mod-/';

/** What each of the editor's shortcuts does, by its name in `shortcuts`. Names added there later read as words ("taskList" → "Task list"). */
const DESCRIPTIONS: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  code: 'Inline code',
  link: 'Add or edit a link',
  paragraph: 'Normal text',
  h1: 'Heading 1',
  h2: 'Heading 2',
  h3: 'Heading 3',
  bulletList: 'Bulleted list',
  orderedList: 'Numbered list',
  blockquote: 'Quote',
  codeBlock: 'Code block',
  undo: 'Undo your last change',
  redo: 'Redo',
};

export function describeShortcut(name: string): string {
  if (DESCRIPTIONS[name]) return DESCRIPTIONS[name];
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The rows of the help: the editor's shortcuts (commands.ts, the ones the keymap uses), then the page's own. */
export function shortcutRows(): Array<{ action: string; keys: string[] }> {
  const rows = Object.entries(shortcuts as Record<string, string>).map(([name, key]) => ({ action: describeShortcut(name), keys: [shortcutLabel(key)] }));
  rows.push({ action: 'Line break', keys: [shortcutLabel('Shift-Enter')] });
  rows.push({ action: 'Show these shortcuts', keys: [shortcutLabel(HELP_SHORTCUT), '?'] });
  return rows;
}

/** Shows the shortcuts in a modal dialog; resolves when it is closed (focus returns where it was). */
export async function showShortcutHelp(): Promise<void> {
  const table = h(
    'table',
    { class: 'shortcut-table' },
    h('caption', {}, 'In the text. Markdown works too: # and a space for a heading, - for a list, > for a quote.'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Action'), h('th', { scope: 'col' }, 'Keys'))),
    h(
      'tbody',
      {},
      ...shortcutRows().map((row) =>
        h('tr', {}, h('th', { scope: 'row' }, row.action), h('td', {}, ...row.keys.flatMap((key, index) => [index > 0 ? ' or ' : null, h('kbd', {}, key)]))),
      ),
    ),
  );
  const close = h('button', { type: 'submit', class: 'button primary' }, 'Close');
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-body' },
    h('h2', { class: 'dialog-title', id: 'shortcut-help-title' }, 'Keyboard shortcuts'),
    h('div', { class: 'dialog-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'shortcut-help-title' }, table),
    h('div', { class: 'dialog-actions' }, close),
  );
  await modal('Keyboard shortcuts', form, close, () => true);
}

/** True for a key press that asks for the help: Ctrl+/ (⌘/), or `?` outside anything that takes text. */
export function isHelpKey(event: KeyboardEvent): boolean {
  if (event.key === '/' && (event.ctrlKey || event.metaKey) && !event.altKey) return true;
  if (event.key !== '?' || event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target as HTMLElement | null;
  return !(target && (target.isContentEditable || target.closest('input, textarea, select, [contenteditable]')));
}

/** Opens the help on its keys, on `target` (the document). Returns the function that stops. */
export function listenForShortcutHelp(target: Document = document): () => void {
  let open = false;
  const onKeyDown = (event: KeyboardEvent) => {
    if (!isHelpKey(event) || open || document.querySelector('dialog[open]')) return;
    event.preventDefault();
    open = true;
    void showShortcutHelp().finally(() => (open = false));
  };
  target.addEventListener('keydown', onKeyDown);
  return () => target.removeEventListener('keydown', onKeyDown);
}
