import { Schema, type MarkSpec, type NodeSpec } from 'prosemirror-model';
import { MAX_IMAGE_ALT_CHARS, imageAltProblem, imageSrcProblem, imageWidthProblem, parsedImageWidth } from './images.js';
import { richMarks, richNodes, textAlignAttrs } from './rich-schema.js';

/**
 * The rich-text schema of every document: the client's editor uses it, and the server can use it
 * to read or build documents. Node and mark names are stored in the Yjs XmlFragment (as element
 * names and text attributes), so renaming one is a data migration, not a refactor.
 */

/** Absolute URLs with these schemes become links; anything else (javascript:, data:, …) is dropped. */
const SAFE_SCHEME = /^(https?:\/\/[^/?#]|mailto:|tel:)/i;
/**
 * Same-origin references: `/path` (never `//host` or `/\host`, which browsers read as another
 * host), `#fragment`, `?query`, `./x` and `../x`.
 */
const SAME_ORIGIN = /^(\/(?![/\\])|#|\?|\.{1,2}\/)/;

/**
 * Returns the href if it is safe to render as a link, otherwise null. A bare domain gets https://.
 * Whitespace and control characters inside are refused, not cleaned: browsers drop tabs and line
 * breaks from URLs, so `/\t/evil.example` would become `//evil.example`; backslashes are refused
 * since browsers read them as slashes (`/\evil.example`, `https:\\evil.example`).
 */
export function safeHref(raw: string): string | null {
  const href = raw.trim();
  if (href === '') return null;
  if (/[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2060\u3000\ufeff\\]/.test(href)) return null;
  if (SAFE_SCHEME.test(href) || SAME_ORIGIN.test(href)) return href;
  // "example.com/page" typed without a scheme
  if (/^[\w-]+(\.[\w-]+)+(\/|$|[?#])/.test(href) && !/^[a-z][a-z0-9+.-]*:/i.test(href)) return `https://${href}`;
  return null;
}

/** The parts of a DOM element the parse rules read (the server compiles without the DOM types). */
interface ParsedElement {
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  style: { fontWeight: string };
}
const el = (dom: unknown) => dom as ParsedElement;

const nodes: Record<string, NodeSpec> = {
  doc: { content: 'block+' },

  paragraph: {
    ...textAlignAttrs.paragraph,
    content: 'inline*',
    group: 'block',
  },

  heading: {
    ...textAlignAttrs.heading,
    content: 'inline*',
    group: 'block',
    defining: true,
  },

  blockquote: {
    content: 'block+',
    group: 'block',
    defining: true,
    parseDOM: [{ tag: 'blockquote' }],
    toDOM: () => ['blockquote', 0],
  },

  code_block: {
    content: 'text*',
    marks: '',
    group: 'block',
    code: true,
    defining: true,
    parseDOM: [{ tag: 'pre', preserveWhitespace: 'full' }],
    toDOM: () => ['pre', ['code', 0]],
  },

  horizontal_rule: {
    group: 'block',
    parseDOM: [{ tag: 'hr' }],
    toDOM: () => ['hr'],
  },

  bullet_list: {
    content: 'list_item+',
    group: 'block',
    parseDOM: [{ tag: 'ul' }],
    toDOM: () => ['ul', 0],
  },

  ordered_list: {
    attrs: { order: { default: 1, validate: 'number' } },
    content: 'list_item+',
    group: 'block',
    parseDOM: [
      {
        tag: 'ol',
        getAttrs: (dom) => ({ order: el(dom).hasAttribute('start') ? Number(el(dom).getAttribute('start')) || 1 : 1 }),
      },
    ],
    toDOM: (node) => (node.attrs.order === 1 ? ['ol', 0] : ['ol', { start: node.attrs.order }, 0]),
  },

  list_item: {
    content: 'paragraph block*',
    defining: true,
    parseDOM: [{ tag: 'li' }],
    toDOM: () => ['li', 0],
  },

  text: { group: 'inline' },

  hard_break: {
    inline: true,
    group: 'inline',
    selectable: false,
    parseDOM: [{ tag: 'br' }],
    toDOM: () => ['br'],
  },

  /**
   * An image: a file uploaded to this server (`/api/documents/<name>/files/<id>`) or an http(s)
   * URL (shared/images.ts). Inline, as in Markdown and HTML, so `![alt](src)` and `<img>` map to
   * it directly; alone in a paragraph it shows as a block. The validators bound every attribute:
   * the server refuses updates that break them (content-rules.ts), the parsers never create them.
   */
  image: {
    inline: true,
    group: 'inline',
    draggable: true,
    attrs: {
      src: { validate: validator(imageSrcProblem) },
      alt: { default: '', validate: validator(imageAltProblem) },
      width: { default: null, validate: validator(imageWidthProblem) },
    },
    parseDOM: [
      {
        tag: 'img[src]',
        getAttrs: (dom) => {
          const src = (el(dom).getAttribute('src') ?? '').trim();
          if (imageSrcProblem(src) !== null) return false;
          const alt = (el(dom).getAttribute('alt') ?? '').slice(0, MAX_IMAGE_ALT_CHARS);
          const style = /(?:^|;)\s*width\s*:\s*([^;]+)/i.exec(el(dom).getAttribute('style') ?? '')?.[1];
          return { src, alt, width: parsedImageWidth(el(dom).getAttribute('width')) ?? parsedImageWidth(style) };
        },
      },
    ],
    toDOM: (node) => {
      const attrs: Record<string, string> = { src: String(node.attrs.src), alt: String(node.attrs.alt ?? '') };
      if (typeof node.attrs.width === 'number') attrs.width = String(node.attrs.width);
      return ['img', attrs];
    },
  },

  // Tables and task lists (shared/rich-schema.ts). New nodes go after the existing ones.
  ...richNodes,
};

/** A ProseMirror attribute validator (throws) from a `…Problem` function (returns a message or null). */
function validator(problem: (value: unknown) => string | null): (value: unknown) => void {
  return (value) => {
    const message = problem(value);
    if (message) throw new RangeError(message);
  };
}

const marks: Record<string, MarkSpec> = {
  link: {
    attrs: { href: { validate: 'string' }, title: { default: null } },
    inclusive: false,
    parseDOM: [
      {
        tag: 'a[href]',
        getAttrs: (dom) => {
          const href = safeHref(el(dom).getAttribute('href') ?? '');
          return href ? { href, title: el(dom).getAttribute('title') } : false;
        },
      },
    ],
    toDOM: (mark) => {
      const href = safeHref(String(mark.attrs.href)) ?? '#';
      const attrs: Record<string, string> = { href, rel: 'noopener noreferrer nofollow', target: '_blank' };
      if (mark.attrs.title) attrs.title = String(mark.attrs.title);
      return ['a', attrs, 0];
    },
  },

  em: {
    parseDOM: [{ tag: 'i' }, { tag: 'em' }, { style: 'font-style=italic' }, { style: 'font-style=normal', clearMark: (m) => m.type.name === 'em' }],
    toDOM: () => ['em', 0],
  },

  strong: {
    parseDOM: [
      { tag: 'strong' },
      // Google Docs wraps everything in <b style="font-weight: normal">
      { tag: 'b', getAttrs: (node) => el(node).style.fontWeight !== 'normal' && null },
      { style: 'font-weight=400', clearMark: (m) => m.type.name === 'strong' },
      { style: 'font-weight', getAttrs: (value) => /^(bold(er)?|[5-9]\d{2,})$/.test(value as string) && null },
    ],
    toDOM: () => ['strong', 0],
  },

  code: {
    code: true,
    parseDOM: [{ tag: 'code' }],
    toDOM: () => ['code', 0],
  },

  // Strikethrough, underline, highlight (shared/rich-schema.ts).
  ...richMarks,
};

export const schema = new Schema({ nodes, marks });
