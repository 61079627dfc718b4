import { h } from '../dom.js';
import { MAX_TITLE_CHARS } from '../../shared/title.js';
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

/** A modal dialog: shows `form`, resolves with what `onSubmit` returns, or null when cancelled (Esc, Cancel). */
export function modal<T>(label: string, form: HTMLFormElement, focus: HTMLElement, onSubmit: () => T | undefined): Promise<T | null> {
  return new Promise((resolve) => {
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = h('dialog', { class: 'dialog', 'aria-label': label }, form);
    document.body.appendChild(dialog);
    let done = false;
    const finish = (value: T | null) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      if (returnTo?.isConnected) returnTo.focus();
      resolve(value);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = onSubmit();
      if (value !== undefined) finish(value);
    });
    form.querySelector('[data-cancel]')?.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(null);
    });
    dialog.showModal();
    focus.focus();
  });
}

/** Asks for a document's new title. Resolves with it (trimmed, possibly empty), or null if cancelled. */
export function askTitle(current: string): Promise<string | null> {
  const input = h('input', { type: 'text', name: 'title', class: 'field', maxlength: MAX_TITLE_CHARS, placeholder: 'Untitled document', 'aria-label': 'New title' });
  input.value = current;
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-body' },
    h('h2', { class: 'dialog-title' }, 'Rename document'),
    h('p', { class: 'dialog-text' }, 'Everyone sees the new title at once. Leave it empty to use the first line of the document.'),
    input,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', 'data-cancel': true }, 'Cancel'), h('button', { type: 'submit', class: 'button primary' }, 'Rename')),
  );
  const asked = modal('Rename document', form, input, () => input.value.trim());
  input.select();
  return asked;
}

/** Asks to confirm deleting a document. Resolves true to delete. */
export async function confirmDelete(title: string): Promise<boolean> {
  const cancel = h('button', { type: 'button', class: 'button', 'data-cancel': true }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-body' },
    h('h2', { class: 'dialog-title' }, 'Delete this document?'),
    h('p', { class: 'dialog-text' }, h('strong', { class: 'dialog-subject' }, title), ' and its history are deleted for everyone. This cannot be undone.'),
    h('div', { class: 'dialog-actions' }, cancel, h('button', { type: 'submit', class: 'button danger' }, 'Delete')),
  );
  // Focus starts on Cancel: Enter on an unread dialog must not destroy anything.
  return (await modal('Delete document', form, cancel, () => true)) === true;
}
