import type { Awareness } from 'y-protocols/awareness';
import { h, initials } from '../dom.js';
import { isHexColor, PALETTE, preferredIndex, textColorOn } from './colors.js';

/**
 * Awareness states come from every other client of the document, read-only ones included: they
 * are data, never markup or CSS. A colour reaches the page only as '#rrggbb' (it goes into a
 * `style` attribute, where anything else could add rules: an overlay, a url() fetch); a name only
 * as text, bounded.
 */
export const MAX_NAME_LENGTH = 64;

/** The display name in an awareness state: text without control characters, at most MAX_NAME_LENGTH characters. */
export function safeName(value: unknown): string {
  if (typeof value !== 'string') return 'Anonymous';
  const name = [...value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim()].slice(0, MAX_NAME_LENGTH).join('').trim();
  return name === '' ? 'Anonymous' : name;
}

/** The colour in an awareness state if it is '#rrggbb'; otherwise one assigned from the palette by client id. */
export function safeColor(value: unknown, clientId: number): string {
  return isHexColor(value) ? value.toLowerCase() : PALETTE[preferredIndex(String(clientId))]!;
}

export interface Person {
  clientId: number;
  name: string;
  color: string;
  /** This browser tab. */
  self: boolean;
}

/** Everyone in the document according to awareness, this tab first, then by name. */
export function peopleIn(awareness: Awareness): Person[] {
  const people: Person[] = [];
  awareness.getStates().forEach((state, clientId) => {
    const user = state.user as { name?: unknown; color?: unknown } | undefined;
    if (typeof user !== 'object' || user === null) return;
    people.push({
      clientId,
      name: safeName(user.name),
      color: safeColor(user.color, clientId),
      self: clientId === awareness.clientID,
    });
  });
  return people.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name) || a.clientId - b.clientId);
}

const MAX_SHOWN = 5;

/** The presence list: one chip per person (avatar with initials, and the name). */
export function renderPresence(container: HTMLElement, people: Person[]): void {
  container.replaceChildren();
  container.setAttribute('aria-label', `${people.length} ${people.length === 1 ? 'person' : 'people'} in this document`);
  const shown = people.slice(0, MAX_SHOWN);
  for (const person of shown) {
    const label = person.self ? `${person.name} (you)` : person.name;
    container.appendChild(
      h(
        'li',
        { class: person.self ? 'ce-person ce-self' : 'ce-person', 'data-name': person.name, 'data-color': person.color, title: label },
        h('span', { class: 'ce-avatar', style: `background-color: ${person.color}; color: ${textColorOn(person.color)}`, 'aria-hidden': 'true' }, initials(person.name)),
        h('span', { class: 'ce-person-name' }, person.name, person.self ? h('span', { class: 'ce-you' }, ' (you)') : null),
      ),
    );
  }
  if (people.length > MAX_SHOWN) {
    const rest = people.slice(MAX_SHOWN);
    container.appendChild(h('li', { class: 'ce-person ce-more', title: rest.map((p) => p.name).join(', ') }, `+${rest.length}`));
  }
}
