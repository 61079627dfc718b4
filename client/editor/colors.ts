import type { Awareness } from 'y-protocols/awareness';

/**
 * Cursor colours: distinct hues, each dark enough for white label text and initials to read at
 * 4.5:1 or more (WCAG 1.4.3; tests/unit/colors.test.ts checks them). y-prosemirror only accepts
 * '#rrggbb' (it appends an alpha byte for selections).
 */
export const PALETTE = [
  '#c92a2a', // red 5.46:1 against white
  '#1971c2', // blue 5.02
  '#2f7d3b', // green 5.10
  '#c2410c', // orange 5.18
  '#9c36b5', // purple 5.82
  '#0b7285', // teal 5.59
  '#c2255c', // pink 5.66
  '#5f3dc4', // violet 7.12
  '#4d7c0f', // olive 4.99
  '#a61e4d', // wine 7.21
  '#1864ab', // navy 6.09
  '#862e9c', // plum 7.28
] as const;

/** WCAG relative luminance of '#rrggbb'. */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const value = parseInt(hex.slice(i, i + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two '#rrggbb' colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

export const LIGHT_TEXT = '#ffffff';
export const DARK_TEXT = '#000000';

/**
 * The text colour for a label on `background`: white on the palette's colours, black on a light
 * colour someone chose themselves (an embedder's `user.color`, another client's awareness state).
 * One of the two always reaches 4.58:1 (the worst case is a background of luminance 0.18).
 */
export function textColorOn(background: string): string {
  return contrastRatio(background, LIGHT_TEXT) >= contrastRatio(background, DARK_TEXT) ? LIGHT_TEXT : DARK_TEXT;
}

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
