import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffImage } from '../../server/files/image-sniff.js';

const fixture = (name: string) => new Uint8Array(fs.readFileSync(path.resolve('tests/fixtures/images', name)));
const text = (value: string) => new TextEncoder().encode(value);

/** The first VP8 or VP8L chunk of a (VP8X) WebP file as a simple WebP of its own: RIFF, WEBP, that chunk. */
function simpleWebp(extended: Uint8Array): Uint8Array {
  const view = Buffer.from(extended);
  for (let i = 12; i + 8 <= view.length; ) {
    const fourcc = view.toString('latin1', i, i + 4);
    const size = view.readUInt32LE(i + 4);
    if (fourcc === 'VP8 ' || fourcc === 'VP8L') {
      const chunk = view.subarray(i, i + 8 + size + (size % 2));
      const header = Buffer.alloc(12);
      header.write('RIFF', 0, 'latin1');
      header.writeUInt32LE(4 + chunk.length, 4);
      header.write('WEBP', 8, 'latin1');
      return new Uint8Array(Buffer.concat([header, chunk]));
    }
    i += 8 + size + (size % 2);
  }
  throw new Error('no VP8 or VP8L chunk');
}

describe('image sniffing (by the bytes, never the name)', () => {
  it('finds the type and dimensions of real PNG, JPEG, GIF and WebP files', () => {
    expect(sniffImage(fixture('chart.png'))).toEqual({ type: 'image/png', width: 40, height: 30 });
    expect(sniffImage(fixture('screenshot.png'))).toEqual({ type: 'image/png', width: 640, height: 360 });
    expect(sniffImage(fixture('photo.jpg'))).toEqual({ type: 'image/jpeg', width: 48, height: 36 });
    expect(sniffImage(fixture('dot.gif'))).toEqual({ type: 'image/gif', width: 1, height: 1 });
    expect(sniffImage(fixture('lossy.webp'))).toEqual({ type: 'image/webp', width: 50, height: 20 });
    expect(sniffImage(fixture('lossless.webp'))).toEqual({ type: 'image/webp', width: 33, height: 17 });
    expect(sniffImage(fixture('alpha.webp'))).toEqual({ type: 'image/webp', width: 21, height: 13 });
    // The same images as simple (not extended) WebP files: the VP8 and VP8L headers themselves.
    expect(sniffImage(simpleWebp(fixture('lossy.webp')))).toEqual({ type: 'image/webp', width: 50, height: 20 });
    expect(sniffImage(simpleWebp(fixture('lossless.webp')))).toEqual({ type: 'image/webp', width: 33, height: 17 });
  });

  it('refuses SVG, HTML (whatever it is named), other formats and empty files, saying what they are', () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['svg', text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'), /SVG/],
      ['svg with a prolog', text('<?xml version="1.0"?>\n<!-- drawn -->\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), /SVG/],
      ['html named .png', text('<!DOCTYPE html><html><script>alert(document.cookie)</script></html>'), /HTML/],
      ['html with a BOM', text('\ufeff  <html><body>hi</body></html>'), /HTML/],
      ['pdf', text('%PDF-1.7\n...'), /PDF/],
      ['bmp', new Uint8Array([0x42, 0x4d, 0, 0, 0, 0]), /BMP/],
      ['empty', new Uint8Array(0), /empty/],
      ['random', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), /not a PNG, JPEG, GIF or WebP/],
    ];
    for (const [label, bytes, message] of cases) {
      const result = sniffImage(bytes);
      expect(result, label).toHaveProperty('problem');
      expect((result as { problem: string }).problem, label).toMatch(message);
    }
  });

  it('refuses files that start like an image but whose header does not parse', () => {
    const png = fixture('chart.png');
    const jpeg = fixture('photo.jpg');
    const gif = fixture('dot.gif');
    const webp = fixture('lossy.webp');
    expect(sniffImage(png.subarray(0, 20))).toHaveProperty('problem', 'the PNG has no valid IHDR header');
    // An HTML page behind a PNG signature: no IHDR.
    expect(sniffImage(new Uint8Array([...png.subarray(0, 8), ...text('<html><script>alert(1)</script></html>')]))).toHaveProperty('problem');
    const badDepth = png.slice();
    badDepth[24] = 3; // bit depth 3 exists for no colour type
    expect(sniffImage(badDepth)).toHaveProperty('problem', 'the PNG header has invalid values');
    const zeroWidth = png.slice();
    zeroWidth.fill(0, 16, 20);
    expect(sniffImage(zeroWidth)).toHaveProperty('problem', 'the PNG header declares no pixels (0×30)');
    expect(sniffImage(jpeg.subarray(0, 30))).toHaveProperty('problem');
    expect(sniffImage(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toHaveProperty('problem', 'the JPEG has no frame header before its image data');
    expect(sniffImage(gif.subarray(0, 10))).toHaveProperty('problem', 'the GIF header is truncated');
    expect(sniffImage(webp.subarray(0, 20))).toHaveProperty('problem', 'the WebP header is truncated');
    const unknownChunk = webp.slice();
    unknownChunk.set(text('ABCD'), 12);
    expect(sniffImage(unknownChunk)).toHaveProperty('problem', 'the WebP has no VP8, VP8L or VP8X chunk');
  });
});
