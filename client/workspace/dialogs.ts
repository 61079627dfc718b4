import { h } from '../dom.js';
import { MAX_NAME_LENGTH, getName, setName } from './identity.js';
import { getToken, setToken } from './token.js';

/**
 * Asks for a display name in a modal dialog and remembers it. Resolves with the name (the
 * current one if the person cancels).
 */
export function askName(options: { reason?: string } = {}): Promise<string> {
  return new Promise((resolve) => {
    const current = getName();
    const input = h('input', {
      type: 'text',
      name: 'display-name',
      class: 'field',
      maxlength: MAX_NAME_LENGTH,
      placeholder: 'e.g. Ada Lovelace',
      autocomplete: 'name',
      required: true,
      'aria-label': 'Your name',
    });
    input.value = current ?? '';
    const error = h('p', { class: 'form-error', role: 'alert' });
    error.hidden = true;
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-body' },
      h('h2', { class: 'dialog-title' }, current ? 'Change your name' : 'What should we call you?'),
      h('p', { class: 'dialog-text' }, options.reason ?? 'Others see this name next to your cursor and in the list of people in a document. It is remembered in this browser.'),
      input,
      error,
      h(
        'div',
        { class: 'dialog-actions' },
        current ? h('button', { type: 'button', class: 'button', value: 'cancel', 'data-cancel': true }, 'Cancel') : null,
        h('button', { type: 'submit', class: 'button primary' }, current ? 'Save' : 'Continue'),
      ),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-label': 'Your name' }, form);
    document.body.appendChild(dialog);
    const finish = (name: string) => {
      dialog.close();
      dialog.remove();
      resolve(name);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (name === '') {
        error.textContent = 'Please enter a name.';
        error.hidden = false;
        input.focus();
        return;
      }
      setName(name);
      window.dispatchEvent(new CustomEvent('collab-name-changed', { detail: name }));
      finish(name);
    });
    form.querySelector('[data-cancel]')?.addEventListener('click', () => finish(current ?? 'Anonymous'));
    dialog.addEventListener('cancel', (event) => {
      // Esc: allowed only when there is a name already
      if (!current) event.preventDefault();
      else finish(current);
    });
    dialog.showModal();
    input.focus();
    input.select();
  });
}

/**
 * A panel explaining that the server wants an access token, with a field to paste one.
 * `onSaved` runs after the token is stored.
 */
export function tokenPanel(message: string, onSaved: (token: string) => void): HTMLElement {
  const input = h('input', {
    type: 'password',
    class: 'field',
    name: 'access-token',
    placeholder: 'Paste your access token',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-label': 'Access token',
  });
  const hadToken = getToken() !== null;
  const form = h(
    'form',
    { class: 'token-form' },
    input,
    h('button', { type: 'submit', class: 'button primary' }, 'Use token'),
  );
  const panel = h(
    'section',
    { class: 'panel token-panel', role: 'alert' },
    h('h2', { class: 'panel-title' }, hadToken ? 'Your access token was not accepted' : 'An access token is needed'),
    h('p', { class: 'panel-text' }, message),
    h('p', { class: 'panel-text muted' }, 'Ask the person who runs this server for a token, or open the link with ?token=… they gave you. It is kept in this browser only.'),
    form,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === '') {
      input.focus();
      return;
    }
    setToken(token);
    onSaved(token);
  });
  queueMicrotask(() => input.focus());
  return panel;
}
