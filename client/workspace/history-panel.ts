import type { Node as PMNode } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import { Decoration, DecorationSet, EditorView } from 'prosemirror-view';
import { schema } from '../../shared/schema.js';
import { MAX_VERSION_LABEL_CHARS, versionLabelProblem } from '../../shared/version-label.js';
import { h } from '../dom.js';
import { ApiError, versionsApi, type VersionInfo } from './api.js';
import { modal } from './dialogs.js';
import { fullTime, relativeTime } from './time.js';
import { versionChanges } from '../../shared/version-diff.js';

/**
 * While the panel is open, the list is asked for again this often. Versions are made by the
 * server (a timer, the last editor leaving, another person) and nothing tells the browser: the
 * sync socket carries Yjs and awareness only, and a message type of our own would be one more
 * thing every transport must carry. One small indexed query per open panel every 5 s is cheap,
 * and a version appears at most 5 s late; nothing is asked while the panel is closed.
 */
const REFRESH_MS = 5_000;

export interface HistoryPanelOptions {
  name: string;
  /** The document as the editor shows it now (what a version is compared with). */
  current: () => PMNode;
  /** Shows a short message to the person (the page's live region). */
  announce: (message: string, error?: boolean) => void;
}

const KIND_NOTES: Record<VersionInfo['kind'], string> = {
  automatic: '',
  manual: 'Saved',
  restore: 'Before a restore',
};

function errorText(error: unknown): string {
  if (error instanceof ApiError && error.needsToken) return `access was refused (${error.message})`;
  return error instanceof Error ? error.message : String(error);
}

/** Asks for a version's name. Resolves with it (trimmed), or null if cancelled. */
function askVersionLabel(current: string | null): Promise<string | null> {
  const input = h('input', { type: 'text', name: 'version-label', class: 'field', maxlength: MAX_VERSION_LABEL_CHARS, placeholder: 'e.g. Sent to legal', 'aria-label': 'Version name' });
  input.value = current ?? '';
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-body' },
    h('h2', { class: 'dialog-title' }, 'Name this version'),
    h('p', { class: 'dialog-text' }, 'Named versions are kept for good; unnamed ones are thinned out as they age.'),
    input,
    error,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', 'data-cancel': true }, 'Cancel'), h('button', { type: 'submit', class: 'button primary' }, 'Save name')),
  );
  return modal('Name this version', form, input, () => {
    const problem = versionLabelProblem(input.value);
    if (!problem) return input.value.trim();
    error.textContent = problem.replace(/^label/, 'The name');
    input.focus();
    return undefined;
  });
}

/** Asks to confirm a restore. Resolves true to restore. */
async function confirmRestore(when: string): Promise<boolean> {
  const cancel = h('button', { type: 'button', class: 'button', 'data-cancel': true }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-body' },
    h('h2', { class: 'dialog-title' }, 'Restore this version?'),
    h(
      'p',
      { class: 'dialog-text' },
      'The document becomes what it was ',
      h('strong', { class: 'dialog-subject' }, when),
      ', for everyone, as a new edit. The current text is saved as a version first, so this can be undone.',
    ),
    h('div', { class: 'dialog-actions' }, cancel, h('button', { type: 'submit', class: 'button primary' }, 'Restore')),
  );
  return (await modal('Restore this version', form, cancel, () => true)) === true;
}

/**
 * The version as a read-only document, with what changed since: text removed since is marked
 * (struck through), text added since is shown where it went (underlined). Decorations only: the
 * version's document itself is never changed.
 */
function changeDecorations(version: PMNode, now: PMNode): { decorations: DecorationSet; changes: number } {
  const changes = versionChanges(version, now);
  const decorations: Decoration[] = [];
  for (const change of changes) {
    if (change.toA > change.fromA) decorations.push(Decoration.inline(change.fromA, change.toA, { class: 'history-removed', title: 'Removed since this version' }));
    if (change.toB > change.fromB) {
      const added = now.textBetween(change.fromB, change.toB, ' ', ' ');
      if (added.trim() === '') continue;
      decorations.push(
        Decoration.widget(change.toA, () => h('ins', { class: 'history-added', title: 'Added since this version' }, added), { side: 1, key: `${change.fromB}:${added}` }),
      );
    }
  }
  return { decorations: DecorationSet.create(version, decorations), changes: changes.length };
}

export interface HistoryPanel {
  /** The "Version history" toggle for the document's bar. */
  readonly button: HTMLButtonElement;
  /** The panel itself (hidden until opened), for the page to place. */
  readonly panel: HTMLElement;
  destroy(): void;
}

let panelCount = 0;

/**
 * The "Version history" panel of a document: its versions (time, authors, name), one of them
 * shown read-only with the changes since highlighted, "Restore this version" (confirmed) and
 * "Name this version". Owns its state: the list, the selection, the preview view and the refresh
 * timer; destroy() undoes all of it.
 */
export function historyPanel(options: HistoryPanelOptions): HistoryPanel {
  const { name, announce } = options;
  const id = `history-panel-${++panelCount}`;
  // "History" on narrow screens (the name keeps the words it shows, WCAG 2.5.3).
  const button = h(
    'button',
    { type: 'button', class: 'button history-button', 'aria-label': 'Version history', 'aria-expanded': 'false', 'aria-controls': id },
    h('span', { class: 'history-button-long', 'aria-hidden': 'true' }, 'Version history'),
    h('span', { class: 'history-button-short', 'aria-hidden': 'true' }, 'History'),
  );
  const closeButton = h('button', { type: 'button', class: 'button icon-button', 'aria-label': 'Close version history', title: 'Close' }, '×');
  const saveButton = h('button', { type: 'button', class: 'button' }, 'Save a named version');
  const list = h('ul', { class: 'history-list', 'aria-label': 'Versions, newest first' });
  const listStatus = h('p', { class: 'history-status muted', role: 'status', 'aria-live': 'polite' });
  const previewTitle = h('h3', { class: 'history-preview-title' });
  const previewNote = h('p', { class: 'history-legend muted' });
  const restoreButton = h('button', { type: 'button', class: 'button primary' }, 'Restore this version');
  const nameButton = h('button', { type: 'button', class: 'button' }, 'Name this version');
  const viewHost = h('div', { class: 'history-view' });
  // What the selected version is compared with: the document now, or another version.
  const compareSelect = h('select', { class: 'field history-compare' });
  const preview = h(
    'section',
    { class: 'history-preview', 'aria-label': 'Selected version' },
    previewTitle,
    previewNote,
    h('div', { class: 'history-preview-actions' }, restoreButton, nameButton),
    h('label', { class: 'history-compare-row' }, 'Compare with ', compareSelect),
    viewHost,
  );
  preview.hidden = true;
  const panel = h(
    'aside',
    { class: 'history-panel', id, 'aria-label': 'Version history' },
    h('div', { class: 'history-head' }, h('h2', { class: 'history-title' }, 'Version history'), closeButton),
    h('div', { class: 'history-tools' }, saveButton),
    listStatus,
    list,
    preview,
  );
  panel.hidden = true;

  let versions: VersionInfo[] = [];
  let selected: VersionInfo | null = null;
  /** Versions' documents fetched so far (a version never changes). */
  const documents = new Map<string, PMNode>();
  let view: EditorView | null = null;
  let timer = 0;
  let destroyed = false;

  const when = (version: VersionInfo) => `${relativeTime(version.createdAt)} (${fullTime(version.createdAt)})`;

  const renderList = () => {
    list.replaceChildren(
      ...versions.map((version) => {
        const authors = version.authors.length > 0 ? version.authors.join(', ') : 'no one named';
        const note = KIND_NOTES[version.kind];
        const item = h(
          'button',
          { type: 'button', class: 'history-item', 'aria-pressed': String(version.id === selected?.id), 'data-version': version.id },
          h('span', { class: 'history-when', title: fullTime(version.createdAt) }, relativeTime(version.createdAt)),
          version.label ? h('span', { class: 'history-label' }, version.label) : null,
          note ? h('span', { class: 'history-kind' }, note) : null,
          h('span', { class: 'history-authors' }, authors),
        );
        item.addEventListener('click', () => void select(version));
        return h('li', {}, item);
      }),
    );
    listStatus.textContent = versions.length === 0 ? 'No versions yet: one is saved a few minutes into editing, and when the last person leaves.' : '';
  };

  const renderCompareOptions = () => {
    const chosen = compareSelect.value;
    compareSelect.replaceChildren(
      h('option', { value: '' }, 'the document now'),
      ...versions
        .filter((version) => version.id !== selected?.id)
        .map((version) => h('option', { value: version.id }, `the version of ${fullTime(version.createdAt)}${version.label ? ` (${version.label})` : ''}`)),
    );
    compareSelect.value = [...compareSelect.options].some((option) => option.value === chosen) ? chosen : '';
  };

  const refresh = async () => {
    try {
      versions = await versionsApi.list(name);
      if (selected) selected = versions.find((v) => v.id === selected!.id) ?? selected;
      renderList();
      renderCompareOptions();
    } catch (error) {
      listStatus.textContent = `Could not load the versions: ${errorText(error)}`;
    }
  };

  const closePreview = () => {
    view?.destroy();
    view = null;
    selected = null;
    compareSelect.value = '';
    preview.hidden = true;
  };

  const documentOf = async (id: string): Promise<PMNode> => {
    let doc = documents.get(id);
    if (!doc) documents.set(id, (doc = schema.nodeFromJSON(await versionsApi.content(name, id))));
    return doc;
  };

  /** Shows the selected version compared with what compareSelect names. */
  async function showSelected(): Promise<void> {
    const version = selected;
    if (!version) return;
    const otherId = compareSelect.value;
    previewNote.textContent = 'Loading…';
    try {
      const doc = await documentOf(version.id);
      const other = otherId === '' ? options.current() : await documentOf(otherId);
      if (destroyed || selected?.id !== version.id || compareSelect.value !== otherId) return;
      const { decorations, changes } = changeDecorations(doc, other);
      view?.destroy();
      view = new EditorView(viewHost, {
        state: EditorState.create({ doc }),
        editable: () => false,
        decorations: () => decorations,
        attributes: { class: 'history-doc', role: 'document', 'aria-label': 'Content of the selected version (read-only)' },
      });
      if (otherId === '') {
        previewNote.textContent =
          changes === 0 ? 'The document is the same now.' : 'Changes since this version: struck through was removed since, underlined was added since.';
      } else {
        previewNote.textContent =
          changes === 0 ? 'Both versions are the same.' : 'Differences: struck through is not in the other version, underlined is only in the other version.';
      }
    } catch (error) {
      previewNote.textContent = `Could not load this version: ${errorText(error)}`;
    }
  }

  async function select(version: VersionInfo): Promise<void> {
    selected = version;
    renderList();
    renderCompareOptions();
    previewTitle.textContent = version.label ? `“${version.label}”, ${when(version)}` : `Version of ${when(version)}`;
    preview.hidden = false;
    await showSelected();
  }

  compareSelect.addEventListener('change', () => void showSelected());

  const open = () => {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    void refresh();
    window.clearInterval(timer);
    timer = window.setInterval(() => void refresh(), REFRESH_MS);
    closeButton.focus();
  };
  const close = () => {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    window.clearInterval(timer);
    closePreview();
    button.focus();
  };

  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  closeButton.addEventListener('click', close);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !(event.target instanceof HTMLElement && event.target.closest('dialog'))) {
      event.preventDefault();
      close();
    }
  });

  saveButton.addEventListener('click', async () => {
    const label = await askVersionLabel(null);
    if (label === null) return;
    try {
      const version = await versionsApi.save(name, label);
      announce(`Saved this version as “${version.label}”.`);
      await refresh();
    } catch (error) {
      announce(`Could not save a version: ${errorText(error)}`, true);
    }
  });

  nameButton.addEventListener('click', async () => {
    const version = selected;
    if (!version) return;
    const label = await askVersionLabel(version.label);
    if (label === null) return;
    try {
      const renamed = await versionsApi.rename(name, version.id, label);
      announce(`Named the version “${renamed.label}”.`);
      await refresh();
      previewTitle.textContent = `“${renamed.label}”, ${when(renamed)}`;
    } catch (error) {
      announce(`Could not name the version: ${errorText(error)}`, true);
    }
  });

  restoreButton.addEventListener('click', async () => {
    const version = selected;
    if (!version || !(await confirmRestore(when(version)))) return;
    restoreButton.disabled = true;
    try {
      await versionsApi.restore(name, version.id);
      announce(`Restored the version of ${when(version)}. The text before it was saved as a version.`);
      closePreview();
      await refresh();
      list.querySelector<HTMLElement>('.history-item')?.focus();
    } catch (error) {
      announce(`Could not restore the version: ${errorText(error)}`, true);
    } finally {
      restoreButton.disabled = false;
    }
  });

  return {
    button,
    panel,
    destroy() {
      destroyed = true;
      window.clearInterval(timer);
      view?.destroy();
      view = null;
    },
  };
}
