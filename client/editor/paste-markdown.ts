import { Slice, type Node as PMNode } from 'prosemirror-model';
import type { MarkdownParser } from 'prosemirror-markdown';

/**
 * Plain text that looks like Markdown is read as Markdown when pasted (with the server's parser
 * configuration, shared/markdown.ts): `# Title`, lists, quotes, fences, `**bold**`, links. Text
 * without such signs stays text, so pasting a sentence with an underscore or a star in it changes
 * nothing.
 */

/** Lines that only Markdown writes this way. */
const BLOCK_SIGNS = [
  /^#{1,6}\s+\S/, // heading
  /^\s{0,3}(```|~~~)/, // fence
  /^\s{0,3}>\s?\S/, // quote
  /^\s{0,3}[-*+]\s+\S/, // bullet item
  /^\s{0,3}\d{1,9}[.)]\s+\S/, // numbered item
  /^\s{0,3}([-*_])(\s*\1){2,}\s*$/, // rule
];
/** Inline syntax that plain prose does not contain by accident. */
const INLINE_SIGNS = [
  /\*\*[^*\s][^*\n]*\*\*/, // **bold**
  /(^|[\s(])__[^_\s][^_\n]*__(?=[\s).,;:!?]|$)/, // __bold__
  /(^|[\s(])\*[^*\s][^*\n]*\*(?=[\s).,;:!?]|$)/, // *emphasis*
  /(^|[\s(])_[^_\s][^_\n]*_(?=[\s).,;:!?]|$)/, // _emphasis_
  /`[^`\n]+`/, // `code`
  /!?\[[^\]\n]+\]\([^)\s]+(\s+"[^"\n]*")?\)/, // [link](url), ![image](url)
];

/** Whether pasted plain text reads as Markdown (see above). */
export function looksLikeMarkdown(text: string): boolean {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blockLines = lines.filter((line) => BLOCK_SIGNS.some((sign) => sign.test(line))).length;
  // A single "- item" or "1. step" line is also plain prose often enough; a heading or a fence is not.
  if (lines.some((line) => BLOCK_SIGNS[0]!.test(line) || BLOCK_SIGNS[1]!.test(line))) return true;
  if (blockLines >= 2) return true;
  return INLINE_SIGNS.some((sign) => sign.test(text));
}

/**
 * The slice to insert for Markdown `text`: a single paragraph goes into the current line; blocks
 * replace it, the first and last paragraph joining the text around the cursor as a paste of HTML does.
 */
export function markdownSlice(text: string, parser: MarkdownParser): Slice {
  const doc: PMNode = parser.parse(text);
  const first = doc.firstChild;
  const last = doc.lastChild;
  const openStart = first?.type.name === 'paragraph' ? 1 : 0;
  const openEnd = last?.type.name === 'paragraph' ? 1 : 0;
  return new Slice(doc.content, openStart, openEnd);
}
