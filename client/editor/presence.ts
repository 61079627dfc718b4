import type { Awareness } from 'y-protocols/awareness';
import { h, initials } from '../dom.js';

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
    if (!user) return;
    people.push({
      clientId,
      name: typeof user.name === 'string' && user.name.trim() !== '' ? user.name.trim() : 'Anonymous',
      color: typeof user.color === 'string' ? user.color : '#868e96',
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
        h('span', { class: 'ce-avatar', style: `background-color: ${person.color}`, 'aria-hidden': 'true' }, initials(person.name)),
        h('span', { class: 'ce-person-name' }, person.name, person.self ? h('span', { class: 'ce-you' }, ' (you)') : null),
      ),
    );
  }
  if (people.length > MAX_SHOWN) {
    const rest = people.slice(MAX_SHOWN);
    container.appendChild(h('li', { class: 'ce-person ce-more', title: rest.map((p) => p.name).join(', ') }, `+${rest.length}`));
  }
}
