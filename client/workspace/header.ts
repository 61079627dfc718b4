import { h, initials } from '../dom.js';
import { askName } from './dialogs.js';
import { getName } from './identity.js';

/** The window event fired when the person's display name changes (detail: the new name). */
export const NAME_CHANGED = 'collab-name-changed';

/**
 * The top bar: the product name (a link to the list), a slot for the page (e.g. the document
 * title), and the person's name with a way to change it.
 */
export function appHeader(middle: HTMLElement | null, onNameChange?: (name: string) => void): HTMLElement {
  const nameLabel = h('span', { class: 'me-name' });
  const avatar = h('span', { class: 'me-avatar', 'aria-hidden': 'true' });
  const render = () => {
    const name = getName() ?? 'Set your name';
    nameLabel.textContent = name;
    avatar.textContent = initials(getName() ?? '?');
  };
  render();
  window.addEventListener(NAME_CHANGED, render);
  const meButton = h('button', { type: 'button', class: 'me', title: 'Change your display name', 'data-testid': 'change-name' }, avatar, nameLabel);
  meButton.addEventListener('click', async () => {
    const name = await askName();
    onNameChange?.(name);
  });
  return h(
    'header',
    { class: 'app-header' },
    h('a', { class: 'brand', href: '/', title: 'All documents' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'C'), h('span', { class: 'brand-name' }, 'Collab Docs')),
    h('div', { class: 'header-middle' }, middle),
    meButton,
  );
}
