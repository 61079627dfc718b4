import type { Node as PMNode } from 'prosemirror-model';
import { Plugin, PluginKey, TextSelection, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet, type EditorView } from 'prosemirror-view';
import { h } from '../dom.js';
import { icon } from './icons.js';

/**
 * Find and replace (Mod-F in the editor). The query is matched case-insensitively within each
 * block (a match never spans two paragraphs); matches are highlighted with decorations, the
 * current one selected. Replacing is an ordinary transaction: it syncs like typing, "Replace all"
 * is one step for the replacer's undo, and people typing meanwhile keep their text (only the
 * matched ranges change). The search runs again after every change to the document while the
 * bar is open: one pass over the text, about 1 ms per 100,000 characters.
 */

/** Matches beyond this are not counted or highlighted (a one-letter query in a book). */
export const MAX_MATCHES = 5_000;

interface Match {
  from: number;
  to: number;
}

interface FindState {
  query: string;
  matches: Match[];
  /** Index of the current match in `matches` (0 when there are none). */
  current: number;
}

/** A new query (searched from `from`, or from the selection), or a move to match `current`. */
type FindMeta = { query: string; from?: number } | { current: number };

const key = new PluginKey<FindState>('find');
const EMPTY: FindState = { query: '', matches: [], current: 0 };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every match of `query` in the text of `doc`'s textblocks, in document order. */
export function findMatches(doc: PMNode, query: string): Match[] {
  if (query === '') return [];
  const pattern = new RegExp(escapeRegExp(query), 'giu');
  const matches: Match[] = [];
  doc.descendants((node, pos) => {
    if (matches.length >= MAX_MATCHES) return false;
    if (!node.isTextblock) return true;
    // One character per inline leaf (a line break), so offsets in the string are offsets in the block.
    const text = node.textBetween(0, node.content.size, undefined, '\ufffc');
    for (const found of text.matchAll(pattern)) {
      if (found[0].length === 0) continue;
      matches.push({ from: pos + 1 + found.index!, to: pos + 1 + found.index! + found[0].length });
      if (matches.length >= MAX_MATCHES) break;
    }
    return false;
  });
  return matches;
}

/** The index of the first match at or after `pos` (wrapping to 0). */
function matchFrom(matches: Match[], pos: number): number {
  const index = matches.findIndex((match) => match.from >= pos);
  return index === -1 ? 0 : index;
}

function findPlugin(): Plugin<FindState> {
  return new Plugin<FindState>({
    key,
    state: {
      init: () => EMPTY,
      apply(tr, previous) {
        const meta = tr.getMeta(key) as FindMeta | undefined;
        if (meta && 'query' in meta) {
          const matches = findMatches(tr.doc, meta.query);
          return { query: meta.query, matches, current: matchFrom(matches, meta.from ?? tr.selection.from) };
        }
        if (meta && 'current' in meta) return { ...previous, current: meta.current };
        if (!tr.docChanged || previous.query === '') return previous;
        const matches = findMatches(tr.doc, previous.query);
        const anchor = previous.matches[previous.current];
        const current = anchor ? matchFrom(matches, tr.mapping.map(anchor.from)) : 0;
        return { query: previous.query, matches, current };
      },
    },
    props: {
      decorations(state) {
        const find = key.getState(state);
        if (!find || find.matches.length === 0) return DecorationSet.empty;
        return DecorationSet.create(
          state.doc,
          find.matches.map((match, index) => Decoration.inline(match.from, match.to, { class: index === find.current ? 'ce-find-match ce-find-current' : 'ce-find-match' })),
        );
      },
    },
  });
}

export interface FindBar {
  plugins: Plugin[];
  /** Opens the bar with the selected text (if short) as the query, and focuses it. */
  open(): boolean;
}

/** The find-and-replace bar in `container` (hidden until Mod-F) and its plugins. */
export function createFindBar(container: HTMLElement): FindBar {
  let view: EditorView | null = null;
  const findInput = h('input', { type: 'search', class: 'ce-find-input', 'aria-label': 'Find in document', placeholder: 'Find', spellcheck: 'false', autocomplete: 'off' });
  const replaceInput = h('input', { type: 'text', class: 'ce-find-input', 'aria-label': 'Replace with', placeholder: 'Replace with', spellcheck: 'false', autocomplete: 'off' });
  const count = h('span', { class: 'ce-find-count', role: 'status', 'aria-live': 'polite' });
  const button = (action: string, label: string, content: Node | string) => h('button', { type: 'button', class: 'ce-button ce-find-button', 'data-action': action, 'aria-label': label, title: label }, content);
  const previousButton = button('find-previous', 'Previous match (Shift+Enter)', '↑');
  const nextButton = button('find-next', 'Next match (Enter)', '↓');
  const replaceButton = button('replace', 'Replace this match', 'Replace');
  const replaceAllButton = button('replace-all', 'Replace all matches', 'Replace all');
  const closeButton = button('find-close', 'Close find (Escape)', '×');
  container.className = 'ce-find-bar';
  container.setAttribute('role', 'search');
  container.setAttribute('aria-label', 'Find and replace');
  container.hidden = true;
  container.append(
    h('span', { class: 'ce-find-icon', 'aria-hidden': 'true' }, icon('find')),
    findInput,
    count,
    previousButton,
    nextButton,
    replaceInput,
    replaceButton,
    replaceAllButton,
    closeButton,
  );

  const state = () => (view ? key.getState(view.state) : undefined);

  /** Makes match `index` current: selected and scrolled to, the focus left where it is. */
  const goTo = (index: number) => {
    const find = state();
    if (!view || !find || find.matches.length === 0) return;
    const current = (index + find.matches.length) % find.matches.length;
    const match = find.matches[current]!;
    view.dispatch(view.state.tr.setMeta(key, { current } satisfies FindMeta).setSelection(TextSelection.create(view.state.doc, match.from, match.to)).scrollIntoView());
  };

  const replace = (all: boolean) => {
    const find = state();
    if (!view || !find || find.matches.length === 0 || !view.editable) return;
    const targets = all ? find.matches : [find.matches[find.current]!];
    const tr: Transaction = view.state.tr;
    // From the end, so earlier positions stay valid.
    for (let i = targets.length - 1; i >= 0; i--) {
      const { from, to } = targets[i]!;
      if (replaceInput.value === '') tr.delete(from, to);
      else tr.insertText(replaceInput.value, from, to);
    }
    view.dispatch(tr.scrollIntoView());
    if (!all) goTo(state()?.current ?? 0);
  };

  const close = () => {
    container.hidden = true;
    if (!view) return;
    view.dispatch(view.state.tr.setMeta(key, { query: '' } satisfies FindMeta));
    view.focus();
  };

  findInput.addEventListener('input', () => {
    if (!view) return;
    view.dispatch(view.state.tr.setMeta(key, { query: findInput.value } satisfies FindMeta));
    goTo(state()?.current ?? 0);
  });
  findInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      goTo((state()?.current ?? 0) + (event.shiftKey ? -1 : 1));
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
  replaceInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      replace(false);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
  container.addEventListener('keydown', (event) => {
    // Mod-F again in the bar: back to the query.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'f') {
      event.preventDefault();
      findInput.focus();
      findInput.select();
    }
  });
  previousButton.addEventListener('click', () => goTo((state()?.current ?? 0) - 1));
  nextButton.addEventListener('click', () => goTo((state()?.current ?? 0) + 1));
  replaceButton.addEventListener('click', () => replace(false));
  replaceAllButton.addEventListener('click', () => replace(true));
  closeButton.addEventListener('click', close);

  const render = (editorState: EditorState) => {
    const find = key.getState(editorState);
    if (!find || container.hidden) return;
    const total = find.matches.length;
    const more = total >= MAX_MATCHES ? '+' : '';
    count.textContent = find.query === '' ? '' : total === 0 ? 'No matches' : `${find.current + 1} of ${total}${more}`;
    const hadFocus = container.contains(document.activeElement);
    previousButton.disabled = nextButton.disabled = total === 0;
    const editable = view?.editable ?? false;
    replaceButton.disabled = replaceAllButton.disabled = total === 0 || !editable;
    replaceInput.disabled = !editable;
    // A button that just disabled itself (Replace all) would drop the focus to the page.
    if (hadFocus && !container.contains(document.activeElement)) findInput.focus();
  };

  /**
   * Where the caret is in the page. The browser may have moved it (a click, Ctrl+Home) an instant
   * before ProseMirror reads the move into the state, and the search starts at what the person sees.
   */
  const caret = (editorView: EditorView): number => {
    const selection = (editorView.root as Document).getSelection?.();
    if (!selection?.focusNode || !editorView.dom.contains(selection.focusNode)) return editorView.state.selection.from;
    try {
      return editorView.posAtDOM(selection.focusNode, selection.focusOffset);
    } catch {
      return editorView.state.selection.from;
    }
  };

  const open = (): boolean => {
    if (!view) return false;
    const { from, to, empty } = view.state.selection;
    const selected = empty ? '' : view.state.doc.textBetween(from, to, ' ');
    const start = caret(view);
    container.hidden = false;
    if (selected !== '' && selected.length <= 200 && !selected.includes('\n')) findInput.value = selected;
    findInput.focus();
    findInput.select();
    view.dispatch(view.state.tr.setMeta(key, { query: findInput.value, from: start } satisfies FindMeta));
    return true;
  };

  const barView = new Plugin({
    props: {
      handleKeyDown(_view, event) {
        if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'f') {
          event.preventDefault();
          return open();
        }
        return false;
      },
    },
    view(editorView) {
      view = editorView;
      return {
        update(updated) {
          render(updated.state);
        },
        destroy() {
          view = null;
          container.hidden = true;
        },
      };
    },
  });
  return { plugins: [findPlugin(), barView], open };
}
