import type { DecorationAttrs } from 'prosemirror-view';
import { h } from '../dom.js';
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
  const color = safeColor(user.color, clientId);
  const cursor = h('span', { class: 'ce-cursor ProseMirror-yjs-cursor', style: `border-color: ${color}` });
  const label = h('span', { class: 'ce-cursor-label', style: `background-color: ${color}` }, safeName(user.name));
  // word joiners keep the caret from breaking lines
  cursor.append('\u2060', label, '\u2060');
  return cursor;
}

/** The highlight of a remote selection: the person's colour at 44% opacity ('70' alpha byte). */
export function selectionAttributes(user: { color?: unknown }, clientId: number): DecorationAttrs {
  return { class: 'ProseMirror-yjs-selection', style: `background-color: ${safeColor(user.color, clientId)}70` };
}
