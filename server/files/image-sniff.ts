import type { ImageType } from '../../shared/images.js';

/**
 * What an uploaded file is, by its bytes alone: a PNG, JPEG, GIF or WebP image whose header parses
 * (its signature, then the chunk or segment that holds its dimensions), or why not. The name and the
 * declared type are never trusted: an HTML page renamed .png, an SVG (which can carry scripts) or a
 * truncated header is refused. Pure; reads only the header (a few hundred bytes, a JPEG's segment
 * headers up to its frame header), so the cost does not grow with the image.
 */

export interface SniffedImage {
  type: ImageType;
  width: number;
  height: number;
}

/** Pixels per side any of the formats can declare that browsers still decode (Chromium: 2^15 for WebP, more for others). */
export const MAX_IMAGE_SIDE = 65_535;

const ascii = (bytes: Uint8Array, start: number, text: string): boolean => {
  if (start + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
};
const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

type Sniffed = SniffedImage | { problem: string };

const sized = (type: ImageType, width: number, height: number): Sniffed => {
  if (width < 1 || height < 1) return { problem: `the ${FORMAT_NAMES[type]} header declares no pixels (${width}×${height})` };
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) return { problem: `the ${FORMAT_NAMES[type]} header declares ${width}×${height} pixels, more than ${MAX_IMAGE_SIDE} per side` };
  return { type, width, height };
};

const FORMAT_NAMES: Record<ImageType, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/gif': 'GIF', 'image/webp': 'WebP' };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Valid bit depths per PNG colour type (PNG spec, table 11.1). */
const PNG_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

function png(b: Uint8Array): Sniffed {
  // Signature, then IHDR first: length 13, "IHDR", width, height, depth, colour type, compression, filter, interlace.
  if (b.length < 33 || u32be(b, 8) !== 13 || !ascii(b, 12, 'IHDR')) return { problem: 'the PNG has no valid IHDR header' };
  const depth = b[24]!;
  const colour = b[25]!;
  if (!PNG_DEPTHS[colour]?.includes(depth) || b[26] !== 0 || b[27] !== 0 || b[28]! > 1) return { problem: 'the PNG header has invalid values' };
  return sized('image/png', u32be(b, 16), u32be(b, 20));
}

function gif(b: Uint8Array): Sniffed {
  if (b.length < 13) return { problem: 'the GIF header is truncated' };
  return sized('image/gif', u16le(b, 6), u16le(b, 8));
}

function webp(b: Uint8Array): Sniffed {
  // RIFF <size> WEBP, then the first chunk: VP8 (lossy), VP8L (lossless) or VP8X (extended).
  if (b.length < 30) return { problem: 'the WebP header is truncated' };
  if (ascii(b, 12, 'VP8 ')) {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return { problem: 'the WebP (VP8) frame header is invalid' };
    return sized('image/webp', u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (ascii(b, 12, 'VP8L')) {
    if (b[20] !== 0x2f) return { problem: 'the WebP (VP8L) header is invalid' };
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return sized('image/webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, 'VP8X')) return sized('image/webp', u24le(b, 24) + 1, u24le(b, 27) + 1);
  return { problem: 'the WebP has no VP8, VP8L or VP8X chunk' };
}

/** JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): not DHT (C4), JPG (C8) or DAC (CC). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Uint8Array): Sniffed {
  // Segments after SOI (FF D8): FF <marker> <16-bit length incl. itself> <payload>, until a frame header.
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { problem: 'the JPEG segment structure is invalid' };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return { problem: 'the JPEG has no frame header before its image data' };
    const length = u16be(b, i + 2);
    if (length < 2) return { problem: 'the JPEG segment structure is invalid' };
    if (SOF.has(marker)) {
      if (i + 9 > b.length || length < 8) return { problem: 'the JPEG frame header is truncated' };
      return sized('image/jpeg', u16be(b, i + 7), u16be(b, i + 5));
    }
    i += 2 + length;
  }
  return { problem: 'the JPEG header is truncated' };
}

/** What the bytes start like, for the refusal of something that is not one of the four. */
function describe(b: Uint8Array): string {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 512)).replace(/^\ufeff/, '').trimStart().toLowerCase();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg|<svg[\s>])/.test(head) || /<svg[\s>]/.test(head)) return 'an SVG image (SVG can carry scripts)';
  if (/^(<!doctype html|<html|<head|<body|<script|<!--|<div|<p[\s>])/.test(head)) return 'an HTML document';
  if (ascii(b, 0, '%PDF')) return 'a PDF document';
  if (ascii(b, 0, 'BM')) return 'a BMP image';
  if (ascii(b, 4, 'ftyp')) return 'an ISO media file (AVIF, HEIC or video)';
  if ((ascii(b, 0, 'II*\u0000') || ascii(b, 0, 'MM\u0000*'))) return 'a TIFF image';
  if (b.length === 0) return 'empty';
  return 'not a PNG, JPEG, GIF or WebP image';
}

/** The image the bytes are, or why they are refused (`problem`: a sentence for the API's 415). */
export function sniffImage(bytes: Uint8Array): Sniffed {
  if (PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) return png(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpeg(bytes);
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return gif(bytes);
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return webp(bytes);
  const what = describe(bytes);
  return { problem: what.startsWith('not ') ? `the file is ${what}` : `the file is ${what}, not a PNG, JPEG, GIF or WebP image` };
}
