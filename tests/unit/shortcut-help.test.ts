/**
 * The shortcut help (client/workspace/shortcut-help.ts) lists the editor's own shortcuts, read
 * from commands.ts, so that a shortcut added there is listed without anyone copying it.
 */
import { describe, expect, it } from 'vitest';
import { shortcutLabel, shortcuts } from '../../client/editor/commands.js';
import { describeShortcut, isHelpKey, shortcutRows } from '../../client/workspace/shortcut-help.js';
import { generatedName } from '../../client/workspace/identity.js';

const key = (init: Partial<KeyboardEvent> & { target?: unknown }) => ({ ctrlKey: false, metaKey: false, altKey: false, ...init }) as KeyboardEvent;

describe('shortcut help', () => {
  it('lists every shortcut of the editor with the keys it shows in the toolbar', () => {
    const rows = shortcutRows();
    for (const [name, keys] of Object.entries(shortcuts)) {
      expect(rows, name).toContainEqual({ action: describeShortcut(name), keys: [shortcutLabel(keys)] });
    }
    expect(rows).toContainEqual({ action: 'Bold', keys: ['Ctrl+B'] });
    expect(rows.at(-1)).toEqual({ action: 'Show these shortcuts', keys: ['Ctrl+/', '?'] });
    // A shortcut added later reads as words.
    expect(describeShortcut('taskList')).toBe('Task list');
    expect(describeShortcut('insertTable')).toBe('Insert table');
  });

  it('opens on Ctrl+/, and on ? only outside anything that takes text', () => {
    const body = { isContentEditable: false, closest: () => null };
    const editor = { isContentEditable: true, closest: () => null };
    const field = { isContentEditable: false, closest: () => ({}) };
    expect(isHelpKey(key({ key: '/', ctrlKey: true, target: editor as never }))).toBe(true);
    expect(isHelpKey(key({ key: '/', metaKey: true, target: field as never }))).toBe(true);
    expect(isHelpKey(key({ key: '?', target: body as never }))).toBe(true);
    expect(isHelpKey(key({ key: '?', target: editor as never }))).toBe(false);
    expect(isHelpKey(key({ key: '?', target: field as never }))).toBe(false);
    expect(isHelpKey(key({ key: '/', target: body as never }))).toBe(false);
  });
});

describe('generated names', () => {
  it('are two words, never "Anonymous"', () => {
    let seed = 0;
    const names = new Set(Array.from({ length: 50 }, () => generatedName(() => ((seed = (seed * 9301 + 49297) % 233280) / 233280))));
    for (const name of names) expect(name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(names.size).toBeGreaterThan(10);
    expect(generatedName(() => 0)).toBe('Amber Badger');
    expect(generatedName(() => 0.9999)).toBe('Witty Wren');
  });
});
