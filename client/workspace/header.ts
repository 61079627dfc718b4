import { h, initials } from '../dom.js';
import { askName } from './dialogs.js';
import { getName, suggestedName } from './identity.js';
import { themeSwitch } from './theme.js';

/** The window event fired when the person's display name changes (detail: the new name). */
export const NAME_CHANGED = 'collab-name-changed';

/**
 * The first stop of the Tab key: a link, shown while focused, that skips the header and the
 * toolbar. `go` moves focus (to the text of a document, to the list); the link's own target is
 * `#main` for when scripts run late.
 */
export function skipLink(label: string, go: () => void): HTMLAnchorElement {
  const link = h('a', { class: 'skip-link', href: '#main' }, label);
  link.addEventListener('click', (event) => {
    event.preventDefault();
    go();
  });
  return link;
}

/**
 * The top bar: the product name (a link to the list), a slot for the page (e.g. the document
 * title), the colour theme switch, and the person's name with a way to change it.
 */
export function appHeader(middle: HTMLElement | null, onNameChange?: (name: string) => void): HTMLElement {
  const nameLabel = h('span', { class: 'me-name' });
  const avatar = h('span', { class: 'me-avatar', 'aria-hidden': 'true' });
  const render = () => {
    // Without a chosen name, others see the suggested one (identity.ts): say so.
    nameLabel.textContent = getName() ?? `${suggestedName()} (set your name)`;
    avatar.textContent = initials(getName() ?? suggestedName());
  };
  render();
  window.addEventListener(NAME_CHANGED, render);
  // Named by its text, so the name read out contains what is shown (WCAG 2.5.3): "Your name: Ada".
  const meButton = h('button', { type: 'button', class: 'me', title: 'Change your display name', 'data-testid': 'change-name' }, avatar, h('span', { class: 'visually-hidden' }, 'Your name: '), nameLabel);
  meButton.addEventListener('click', async () => {
    const name = await askName();
    onNameChange?.(name);
  });
  return h(
    'header',
    { class: 'app-header' },
    h('a', { class: 'brand', href: '/', title: 'All documents' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'C'), h('span', { class: 'brand-name' }, 'Collab Docs')),
    h('div', { class: 'header-middle' }, middle),
    themeSwitch(),
    meButton,
  );
}
