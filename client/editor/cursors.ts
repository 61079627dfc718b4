import { Plugin } from 'prosemirror-state';
import type { DecorationAttrs, EditorView } from 'prosemirror-view';
import type { Awareness } from 'y-protocols/awareness';
import { h } from '../dom.js';
import { textColorOn } from './colors.js';
import { safeColor, safeName } from './presence.js';

/**
 * Remote cursors for y-prosemirror's yCursorPlugin. Its defaults put `user.color` into `style`
 * attributes unchecked (the caret, its label and the selection highlight) and crash on states
 * that are not shaped as it expects (a `user` that is a string, a `cursor` without positions), so
 * all three hooks are replaced: states are filtered first, then only '#rrggbb' colours and text
 * names reach the DOM (see presence.ts).
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown) => isObject(value) && Number.isSafeInteger(value.client) && Number.isSafeInteger(value.clock);

/** A relative position as Y.relativePositionToJSON writes it (what Y.createRelativePositionFromJSON reads). */
function isRelativePosition(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.type != null && !isId(value.type)) return false;
  if (value.item != null && !isId(value.item)) return false;
  if (value.tname != null && typeof value.tname !== 'string') return false;
  return value.assoc == null || Number.isSafeInteger(value.assoc);
}

/** yCursorPlugin's awarenessStateFilter: someone else's state with a well-formed cursor. */
export function renderableCursorState(selfId: number, clientId: number, state: unknown): boolean {
  if (selfId === clientId || !isObject(state)) return false;
  if (state.user !== undefined && !isObject(state.user)) return false;
  const cursor = state.cursor;
  return cursor == null || (isObject(cursor) && isRelativePosition(cursor.anchor) && isRelativePosition(cursor.head));
}

/** The remote cursor: a coloured caret with the person's name above it. */
export function cursorElement(user: { name?: unknown; color?: unknown }, clientId: number): HTMLElement {
  const cursor = h('span', { class: 'ce-cursor ProseMirror-yjs-cursor', 'data-client-id': clientId });
  const label = h('span', { class: 'ce-cursor-label' });
  // word joiners keep the caret from breaking lines
  cursor.append('\u2060', label, '\u2060');
  paintCursor(cursor, user, clientId);
  return cursor;
}

/** Puts the person's name and colour on a cursor element (again, when they changed). */
function paintCursor(cursor: HTMLElement, user: { name?: unknown; color?: unknown }, clientId: number): void {
  const color = safeColor(user.color, clientId);
  const name = safeName(user.name);
  if (cursor.dataset.color === color && cursor.dataset.name === name) return;
  cursor.dataset.color = color;
  cursor.dataset.name = name;
  // Only '#rrggbb' values reach the style attributes (see presence.ts).
  cursor.setAttribute('style', `border-color: ${color}`);
  const label = cursor.querySelector<HTMLElement>('.ce-cursor-label')!;
  label.setAttribute('style', `background-color: ${color}; color: ${textColorOn(color)}`);
  label.textContent = name;
}

/** The highlight of a remote selection: the person's colour at 44% opacity ('70' alpha byte). */
export function selectionAttributes(user: { color?: unknown }, clientId: number): DecorationAttrs {
  return { class: 'ProseMirror-yjs-selection', style: `background-color: ${safeColor(user.color, clientId)}70` };
}

/**
 * Keeps remote cursor labels current and inside the editor, after every update of the view.
 *
 * Current: y-prosemirror keys each caret widget by client id, so ProseMirror keeps the element it
 * built first; a person who renames themselves, or whose colour moves (colors.ts), would keep the
 * old label. Each label is repainted from awareness when its name or colour differs.
 *
 * Inside: a label starts at its caret and runs right, so a caret near the right edge (a phone is
 * 390 px wide) would push it past the page and make the whole page scroll sideways. Labels that
 * would stick out are turned to run left of their caret instead (`ce-cursor-label-flip`). All
 * positions are read, then the classes written: one layout per update, O(remote cursors). The
 * stylesheet also clips the text's overflow, so a label longer than the line never widens the page.
 */
export function cursorLabels(awareness: Awareness): Plugin {
  const place = (view: EditorView) => {
    const cursors = view.dom.querySelectorAll<HTMLElement>('.ce-cursor[data-client-id]');
    if (cursors.length === 0) return;
    const states = awareness.getStates();
    for (const cursor of cursors) {
      const clientId = Number(cursor.dataset.clientId);
      const user = states.get(clientId)?.user;
      if (typeof user === 'object' && user !== null) paintCursor(cursor, user as { name?: unknown; color?: unknown }, clientId);
    }
    const labels = view.dom.querySelectorAll<HTMLElement>('.ce-cursor-label');
    const bounds = view.dom.getBoundingClientRect();
    const flips = [...labels].map((label) => {
      const caret = label.parentElement!.getBoundingClientRect();
      return caret.left + label.offsetWidth > bounds.right && caret.left - label.offsetWidth >= bounds.left;
    });
    labels.forEach((label, index) => label.classList.toggle('ce-cursor-label-flip', flips[index]!));
  };
  return new Plugin({
    view(view) {
      place(view);
      return { update: place };
    },
  });
}
