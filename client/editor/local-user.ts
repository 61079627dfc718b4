import type { Awareness } from 'y-protocols/awareness';
import { isHexColor, keepColorDistinct, preferredIndex } from './colors.js';
import type { EditorUser } from './types.js';

/** A stable per-browser id, so a person keeps the same preferred colour across documents. */
function browserSeed(): string {
  try {
    let seed = localStorage.getItem('collab.seed');
    if (!seed) {
      seed = Math.random().toString(36).slice(2);
      localStorage.setItem('collab.seed', seed);
    }
    return seed;
  } catch {
    return Math.random().toString(36).slice(2);
  }
}

/**
 * This tab's name and colour in awareness (what others see next to its cursor and in their
 * presence lists). Without a valid colour of its own it keeps one that nobody else in the
 * document uses (colors.ts) until destroy().
 */
export class LocalUser {
  private stopColors: (() => void) | null = null;

  constructor(
    private readonly awareness: Awareness,
    user: EditorUser | undefined,
  ) {
    this.set(user);
  }

  set(next: EditorUser | undefined): void {
    const awareness = this.awareness;
    const user = { name: next?.name?.trim() || 'Anonymous', color: next?.color };
    this.stopColors?.();
    this.stopColors = null;
    if (user.color && isHexColor(user.color)) {
      awareness.setLocalStateField('user', { name: user.name, color: user.color });
      return;
    }
    if (user.color) console.warn(`collab-editor: colour "${user.color}" is not '#rrggbb'; assigning one`);
    const current = (awareness.getLocalState()?.user as { color?: string } | undefined)?.color;
    awareness.setLocalStateField('user', { name: user.name, color: current });
    this.stopColors = keepColorDistinct(awareness, preferredIndex(browserSeed()), (color) => {
      awareness.setLocalStateField('user', { name: user.name, color });
    });
  }

  destroy(): void {
    this.stopColors?.();
    this.stopColors = null;
  }
}
