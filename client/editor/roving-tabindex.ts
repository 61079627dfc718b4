/**
 * Roving tabindex for a toolbar (WAI-ARIA Authoring Practices, "Toolbar"): the toolbar is one
 * Tab stop; Left/Right (and Up/Down) move between its buttons, Home and End go to the first and
 * last. The button last used keeps the Tab stop, so Tab back into the toolbar returns to it.
 * Disabled buttons cannot take focus and are skipped; when the one holding the Tab stop becomes
 * disabled, the stop moves to the first enabled button (`refresh`, after each state change).
 */
export interface RovingTabindex {
  /** Re-applies the Tab stop after buttons were enabled, disabled, shown or hidden. */
  refresh(): void;
  destroy(): void;
}

const KEYS: Record<string, 'next' | 'previous' | 'first' | 'last'> = {
  ArrowRight: 'next',
  ArrowDown: 'next',
  ArrowLeft: 'previous',
  ArrowUp: 'previous',
  Home: 'first',
  End: 'last',
};

export function rovingTabindex(container: HTMLElement): RovingTabindex {
  let current: HTMLButtonElement | null = null;

  const usable = (): HTMLButtonElement[] =>
    Array.from(container.querySelectorAll<HTMLButtonElement>('button')).filter((button) => !button.disabled && !button.hidden && button.closest('[hidden]') === null);

  const refresh = () => {
    const buttons = usable();
    if (!current || !buttons.includes(current)) current = buttons[0] ?? null;
    for (const button of container.querySelectorAll<HTMLButtonElement>('button')) button.tabIndex = button === current ? 0 : -1;
  };

  const onFocusIn = (event: FocusEvent) => {
    const target = event.target;
    if (!(target instanceof HTMLButtonElement) || !container.contains(target) || target === current) return;
    current = target;
    refresh();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const move = KEYS[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) return;
    const buttons = usable();
    if (buttons.length === 0) return;
    const index = current ? buttons.indexOf(current) : -1;
    const target =
      move === 'first' ? buttons[0]! : move === 'last' ? buttons[buttons.length - 1]! : buttons[(index + (move === 'next' ? 1 : -1) + buttons.length) % buttons.length]!;
    event.preventDefault();
    current = target;
    refresh();
    target.focus();
  };

  container.addEventListener('focusin', onFocusIn);
  container.addEventListener('keydown', onKeyDown);
  refresh();
  return {
    refresh,
    destroy() {
      container.removeEventListener('focusin', onFocusIn);
      container.removeEventListener('keydown', onKeyDown);
    },
  };
}
