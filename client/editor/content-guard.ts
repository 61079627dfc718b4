import type { Schema } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import type { EditorView } from 'prosemirror-view';
import { ySyncPluginKey } from 'y-prosemirror';
import * as Y from 'yjs';
import { changedContentProblem, fragmentProblem } from '../../shared/content-check.js';
import { h } from '../dom.js';
import { renderFallback } from './fallback-render.js';

/**
 * Keeps y-prosemirror away from content it would destroy.
 *
 * y-prosemirror renders the Y.XmlFragment into ProseMirror and writes ProseMirror's document back
 * on every local change. Content that does not fit the schema is deleted on render
 * (createNodeFromYElement / createTextNodesFromYText delete what they cannot build) or blanks the
 * editor ("Method unimplemented"), after which the next keystroke replaces the whole document with
 * the blank view. So before y-prosemirror sees a change, the guard checks it (Y.Doc
 * 'beforeObserverCalls' runs before any type observer; the check looks only at what the
 * transaction added, see changedContentProblem). If it does not fit, the guard swaps the editor's
 * state for one WITHOUT the y-prosemirror plugins (their plugin views are destroyed, which
 * unobserves the fragment, so y-prosemirror neither renders nor writes), hides the editor, shows a
 * read-only best-effort rendering and an alert. While paused it re-renders on changes and resumes
 * binding once the whole fragment fits again (someone removed the bad content).
 *
 * Failures inside y-prosemirror's own observer (and in applying a sync message, see guarded-sync.ts) are
 * reported through `fail`: editing pauses the same way, for good (a reload retries), instead of
 * an exception into the console and a blank page.
 */

export const PAUSED_MESSAGE = 'This document contains content this editor cannot display; editing is paused so nothing is lost.';
export const FAILED_MESSAGE = 'An update to this document could not be shown; editing is paused so nothing is lost. Reload the page to try again.';

/** While paused, re-render and re-check at most this often (a full check and rendering are O(document)). */
const REFRESH_DELAY_MS = 200;

export interface ContentGuardOptions {
  doc: Y.Doc;
  fragment: Y.XmlFragment;
  schema: Schema;
  view: EditorView;
  /** The element holding the editor: the alert goes right before it, the read-only rendering into it. */
  surface: HTMLElement;
  /** A fresh editor state with the y-prosemirror plugins (a new binding each time). */
  boundState: () => EditorState;
  onPausedChange: (paused: boolean, reason: string | null) => void;
}

export interface ContentGuard {
  readonly paused: boolean;
  /** Why editing is paused, or null. */
  readonly reason: string | null;
  /** Reports a failure to apply or show an update: pauses editing until reload. */
  fail(error: unknown): void;
  destroy(): void;
}

interface BindingInternals {
  type: Y.XmlFragment;
  _observeFunction: (events: Array<Y.YEvent<Y.XmlFragment>>, transaction: Y.Transaction) => void;
}

export function createContentGuard(options: ContentGuardOptions): ContentGuard {
  const { doc, fragment, schema, view, surface } = options;
  let state: 'bound' | 'paused' | 'failed' = 'bound';
  let reason: string | null = null;
  let fallback: HTMLElement | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let destroyed = false;

  const alert = h('div', { class: 'ce-notice ce-content-alert', role: 'alert' });
  alert.hidden = true;
  surface.before(alert);

  /** y-prosemirror's deep observer, wrapped so that an exception in it is reported (its binding is internal API of y-prosemirror 1.3). */
  const guardBindingObserver = () => {
    const binding = ySyncPluginKey.getState(view.state)?.binding as BindingInternals | undefined;
    if (!binding) return;
    const original = binding._observeFunction;
    binding.type.unobserveDeep(original);
    binding._observeFunction = (events, transaction) => {
      try {
        original(events, transaction);
      } catch (error) {
        fail(error);
      }
    };
    binding.type.observeDeep(binding._observeFunction);
  };

  const bind = () => {
    view.updateState(options.boundState());
    guardBindingObserver();
  };

  const renderReadOnly = () => {
    const next = renderFallback(fragment, schema);
    if (fallback) fallback.replaceWith(next);
    else surface.appendChild(next);
    fallback = next;
  };

  const pause = (kind: 'paused' | 'failed', message: string, detail: string) => {
    if (state === 'failed') return;
    const wasBound = state === 'bound';
    state = kind;
    reason = detail;
    if (wasBound) {
      // No y-prosemirror plugins: their views are destroyed (binding unobserved, undo manager
      // stopped) and nothing can write to the fragment any more. Focus events fired by the swap
      // (a focused view loses focus when redrawn or hidden) are kept from the view: y-prosemirror's
      // cursor listener would map the caret through content it never rendered, and throw.
      const swallow = (event: Event) => event.stopPropagation();
      surface.addEventListener('focusout', swallow, true);
      surface.addEventListener('focusin', swallow, true);
      try {
        view.updateState(EditorState.create({ schema }));
        view.dom.hidden = true;
        if (view.hasFocus()) (view.dom as HTMLElement).blur();
      } finally {
        surface.removeEventListener('focusout', swallow, true);
        surface.removeEventListener('focusin', swallow, true);
      }
    }
    alert.replaceChildren(h('strong', {}, message), h('span', { class: 'ce-content-alert-detail' }, ` (${detail})`));
    alert.hidden = false;
    try {
      renderReadOnly();
    } catch (error) {
      console.error('collab-editor: the read-only rendering failed', error);
    }
    if (wasBound) options.onPausedChange(true, detail);
  };

  const resume = () => {
    state = 'bound';
    reason = null;
    alert.hidden = true;
    fallback?.remove();
    fallback = null;
    view.dom.hidden = false;
    bind();
    options.onPausedChange(false, null);
  };

  const refresh = () => {
    refreshTimer = null;
    if (destroyed || state === 'bound') return;
    const problem = fragmentProblem(fragment, schema);
    if (problem === null && state === 'paused') resume();
    else renderReadOnly();
  };

  const onBeforeObserverCalls = (transaction: Y.Transaction) => {
    if (state !== 'bound') {
      refreshTimer ??= setTimeout(refresh, REFRESH_DELAY_MS);
      return;
    }
    let problem: string | null;
    try {
      problem = changedContentProblem(transaction, fragment, schema);
    } catch (error) {
      problem = `the content could not be checked: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (problem) pause('paused', PAUSED_MESSAGE, problem);
  };

  function fail(error: unknown): void {
    console.error('collab-editor: an update could not be applied or shown', error);
    pause('failed', FAILED_MESSAGE, error instanceof Error ? error.message : String(error));
  }

  // The view starts without y-prosemirror; bind only content that fits (the fragment may already
  // hold some, e.g. a Y.Doc filled before mounting).
  const initial = fragmentProblem(fragment, schema);
  if (initial) pause('paused', PAUSED_MESSAGE, initial);
  else bind();
  doc.on('beforeObserverCalls', onBeforeObserverCalls);

  return {
    get paused() {
      return state !== 'bound';
    },
    get reason() {
      return reason;
    },
    fail,
    destroy() {
      destroyed = true;
      if (refreshTimer) clearTimeout(refreshTimer);
      doc.off('beforeObserverCalls', onBeforeObserverCalls);
      alert.remove();
      fallback?.remove();
    },
  };
}
