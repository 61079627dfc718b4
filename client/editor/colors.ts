import type { Awareness } from 'y-protocols/awareness';

/**
 * Cursor colours: distinct hues that stay readable behind white label text. y-prosemirror only
 * accepts '#rrggbb' (it appends an alpha byte for selections).
 */
export const PALETTE = [
  '#e03131', // red
  '#1c7ed6', // blue
  '#2b8a3e', // green
  '#e8590c', // orange
  '#9c36b5', // purple
  '#0b7285', // teal
  '#d6336c', // pink
  '#5f3dc4', // violet
  '#5c940d', // olive
  '#a61e4d', // wine
  '#1864ab', // navy
  '#862e9c', // plum
] as const;

const HEX = /^#[0-9a-f]{6}$/i;

export function isHexColor(value: unknown): value is string {
  return typeof value === 'string' && HEX.test(value);
}

/** A stable palette index for a string (e.g. a per-browser id), so a person tends to keep their colour. */
export function preferredIndex(seed: string): number {
  let hash = 2166136261;
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 16777619);
  return (hash >>> 0) % PALETTE.length;
}

interface UserState {
  name?: string;
  color?: string;
}

/**
 * Keeps the local user's colour distinct from everyone else's in the document. A person starts
 * with their preferred colour unless someone present has it, and keeps their colour after that;
 * when two people collide anyway (they joined at the same moment), the one with the larger
 * client id moves to the first colour nobody uses. Every client applies the same rule to the
 * same awareness states, so collisions resolve without coordination.
 *
 * Returns a function that stops watching.
 */
export function keepColorDistinct(awareness: Awareness, preferred: number, onChange: (color: string) => void): () => void {
  const self = awareness.clientID;
  const pick = () => {
    const mine = (awareness.getLocalState()?.user as UserState | undefined)?.color;
    const others = new Map<string, number[]>();
    awareness.getStates().forEach((state, clientId) => {
      if (clientId === self) return;
      const color = (state.user as UserState | undefined)?.color;
      if (typeof color !== 'string') return;
      const ids = others.get(color.toLowerCase()) ?? [];
      ids.push(clientId);
      others.set(color.toLowerCase(), ids);
    });
    const taken = (color: string) => others.has(color.toLowerCase());
    const preferredColor = PALETTE[preferred % PALETTE.length]!;
    let next: string | undefined;
    if (!mine) {
      next = taken(preferredColor) ? undefined : preferredColor;
      if (!next) next = firstFree(preferred, taken) ?? preferredColor;
    } else if (taken(mine) && others.get(mine.toLowerCase())!.some((id) => id < self)) {
      // collision, and we are the one who moves
      next = firstFree(preferred, taken);
    }
    if (next && next !== mine) onChange(next);
  };
  pick();
  const listener = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
    if ([...added, ...updated, ...removed].some((id) => id !== self)) pick();
  };
  awareness.on('change', listener);
  return () => awareness.off('change', listener);
}

function firstFree(start: number, taken: (color: string) => boolean): string | undefined {
  for (let i = 0; i < PALETTE.length; i++) {
    const color = PALETTE[(start + i) % PALETTE.length]!;
    if (!taken(color)) return color;
  }
  return undefined;
}
