/**
 * Cursor colours (client/editor/colors.ts): every palette colour carries white label text and
 * initials at 4.5:1 or more (WCAG 1.4.3); any other colour a person or another client picks gets
 * the text colour that reads on it.
 */
import { describe, expect, it } from 'vitest';
import { contrastRatio, DARK_TEXT, LIGHT_TEXT, PALETTE, textColorOn } from '../../client/editor/colors.js';

describe('cursor colours', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
    expect(contrastRatio('#ffffff', '#777777')).toBe(contrastRatio('#777777', '#ffffff'));
    // The four the issue measured below 4.5:1 against white.
    expect(contrastRatio('#e8590c', '#ffffff')).toBeCloseTo(3.58, 2);
    expect(contrastRatio('#1c7ed6', '#ffffff')).toBeCloseTo(4.2, 2);
  });

  it('has twelve distinct colours, each with white text at 4.5:1 or more', () => {
    expect(new Set(PALETTE.map((color) => color.toLowerCase())).size).toBe(12);
    for (const color of PALETTE) {
      expect(textColorOn(color), color).toBe(LIGHT_TEXT);
      expect(contrastRatio(color, LIGHT_TEXT), color).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('puts dark text on light colours, so any colour reads', () => {
    for (const color of ['#ffd43b', '#74c0fc', '#e8590c', '#ffffff', '#8ce99a', '#777777']) {
      const text = textColorOn(color);
      expect(contrastRatio(color, text), `${color} with ${text}`).toBeGreaterThanOrEqual(4.5);
    }
    expect(textColorOn('#ffd43b')).toBe(DARK_TEXT);
  });
});
