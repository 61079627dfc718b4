import { h } from '../dom.js';

/**
 * The colour theme: the system's setting by default, or light or dark as the person chose (kept in
 * this browser). Applied as `data-theme` on <html>; the stylesheets turn that into `color-scheme`,
 * which every light-dark() colour of the workspace and the editor follows.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'collab.theme';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];
const NAMES: Record<ThemeChoice, string> = { system: 'System', light: 'Light', dark: 'Dark' };
const GLYPHS: Record<ThemeChoice, string> = { system: '◐', light: '☀', dark: '☾' };

export function getTheme(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice = getTheme()): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // storage unavailable: the choice lasts for this page only
  }
  applyTheme(choice);
}

/** The header's switch: each press moves System → Light → Dark → System. */
export function themeSwitch(): HTMLButtonElement {
  const glyph = h('span', { class: 'theme-glyph', 'aria-hidden': 'true' });
  const name = h('span', { class: 'theme-name' });
  const button = h('button', { type: 'button', class: 'button theme-switch', 'data-testid': 'theme-switch' }, glyph, name);
  const render = () => {
    const choice = getTheme();
    glyph.textContent = GLYPHS[choice];
    name.textContent = NAMES[choice];
    const next = ORDER[(ORDER.indexOf(choice) + 1) % ORDER.length]!;
    // Contains the visible word (WCAG 2.5.3), which phones do not show.
    button.setAttribute('aria-label', `Colour theme: ${NAMES[choice]}`);
    button.title = `Colour theme: ${NAMES[choice]}${choice === 'system' ? ' (follows your device)' : ''}. Press for ${NAMES[next]}.`;
  };
  button.addEventListener('click', () => {
    setTheme(ORDER[(ORDER.indexOf(getTheme()) + 1) % ORDER.length]!);
    render();
  });
  render();
  return button;
}
