/** The display name people see next to your cursor, remembered in this browser. */
const KEY = 'collab.user.name';

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
