/** The display name people see next to your cursor, remembered in this browser. */
const KEY = 'collab.user.name';
const SUGGESTED_KEY = 'collab.user.suggested';

export function getName(): string | null {
  try {
    const name = localStorage.getItem(KEY);
    return name && name.trim() !== '' ? name.trim() : null;
  } catch {
    return null;
  }
}

export function setName(name: string): void {
  try {
    localStorage.setItem(KEY, name.trim());
  } catch {
    // storage unavailable: the name lasts for this page only
  }
}

export const MAX_NAME_LENGTH = 40;

const ADJECTIVES = ['Amber', 'Brave', 'Calm', 'Clever', 'Curious', 'Gentle', 'Happy', 'Jolly', 'Keen', 'Lively', 'Lucky', 'Mellow', 'Nimble', 'Quiet', 'Swift', 'Witty'];
const ANIMALS = ['Badger', 'Beaver', 'Crane', 'Dolphin', 'Falcon', 'Fox', 'Heron', 'Lynx', 'Marten', 'Otter', 'Owl', 'Panda', 'Puffin', 'Robin', 'Seal', 'Wren'];

/** "Curious Otter": one of 256 names, from `random` (0 ≤ x < 1). */
export function generatedName(random: () => number = Math.random): string {
  const pick = (words: string[]) => words[Math.floor(random() * words.length)]!;
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;
}

/**
 * The name this browser goes by until the person gives one: generated once and kept, so that
 * others see the same "Curious Otter" in every document rather than "Anonymous".
 */
export function suggestedName(): string {
  try {
    const kept = localStorage.getItem(SUGGESTED_KEY);
    if (kept) return kept;
    const name = generatedName();
    localStorage.setItem(SUGGESTED_KEY, name);
    return name;
  } catch {
    return generatedName();
  }
}

/** The name to show others now: the chosen one, else the suggested one. */
export function displayName(): string {
  return getName() ?? suggestedName();
}
