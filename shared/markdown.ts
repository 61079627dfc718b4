import MarkdownIt from 'markdown-it';
import Token from 'markdown-it/lib/token.mjs';
import type { Schema } from 'prosemirror-model';
import { MarkdownParser } from 'prosemirror-markdown';
import { MAX_NESTING_DEPTH } from './content-rules.js';
import { imageSrcProblem, MAX_IMAGE_ALT_CHARS } from './images.js';
import { balanceInlineTags, inlineHtmlTags } from './markdown-inline-html.js';
import { alignOfToken, fitBlockTokens, richParseSpecs } from './markdown-rich.js';
import { safeHref } from './schema.js';

/**
 * How Markdown becomes a document of the schema: one configuration for the server's content API
 * (server/content/markdown.ts, which adds the serializer) and the editor's Markdown paste, so that
 * text pasted into the editor becomes what the same text PUT through the API becomes.
 */

/**
 * markdown-it stops parsing (silently dropping the rest of the input) once blocks nest this deep;
 * a little above the document bound, so that anything it drops belongs to input refused anyway
 * (tokens nested deeper than MAX_NESTING_DEPTH are refused below).
 */
const MARKDOWN_MAX_NESTING = MAX_NESTING_DEPTH + 10;

/**
 * CommonMark, plus the GFM extensions the schema can hold: bare URLs become links (linkify),
 * tables, strikethrough and task lists (markdown-rich.ts). No raw HTML (it stays text) but for
 * the few tags the export writes for what Markdown has no syntax for (markdown-inline-html.ts).
 */
export function markdownTokenizer(): MarkdownIt {
  const md = new MarkdownIt('commonmark', { html: false, linkify: true });
  // An option markdown-it reads (lib/parser_block) but does not declare in its types.
  (md.options as { maxNesting?: number }).maxNesting = MARKDOWN_MAX_NESTING;
  md.enable(['linkify', 'table', 'strikethrough']);
  md.use(inlineHtmlTags);
  return md;
}

/** Markdown nested deeper than the document bound (the server answers 400 with the message). */
export class MarkdownDepthError extends Error {
  override name = 'MarkdownDepthError';
}

/**
 * Fits markdown-it's tokens to the schema before they are built into nodes (one pass, no
 * recursion: inline tokens are one level below blocks): links whose href the editor would not
 * render lose the link and keep their text; images whose source the schema refuses (data:,
 * relative paths) become links to the image with the alt text, or just the alt text.
 */
function fitTokens(tokens: Token[]): Token[] {
  let deepest = 0;
  for (const token of tokens) {
    if (token.level > deepest) deepest = token.level;
    if (token.children) token.children = balanceInlineTags(fitInline(token.children));
  }
  if (deepest > MAX_NESTING_DEPTH) throw new MarkdownDepthError(`markdown nested deeper than ${MAX_NESTING_DEPTH} levels`);
  return fitBlockTokens(tokens);
}

/** The alt text of an image token (markdown-it parses it as inline content). */
function altText(token: Token): string {
  return (token.children ?? [])
    .map((child) => (child.type === 'softbreak' || child.type === 'hardbreak' ? ' ' : child.content))
    .join('')
    .slice(0, MAX_IMAGE_ALT_CHARS);
}

function fitInline(tokens: Token[]): Token[] {
  const out: Token[] = [];
  // Whether each open link was kept, so that its close token follows suit.
  const openLinks: boolean[] = [];
  for (const token of tokens) {
    if (token.type === 'link_open') {
      const href = safeHref(token.attrGet('href') ?? '');
      openLinks.push(href !== null);
      if (href !== null) {
        token.attrSet('href', href);
        out.push(token);
      }
    } else if (token.type === 'link_close') {
      if (openLinks.pop()) out.push(token);
    } else if (token.type === 'image') {
      if (imageSrcProblem(token.attrGet('src')) === null) {
        out.push(token);
        continue;
      }
      const href = safeHref(token.attrGet('src') ?? '');
      const alt = (token.children ?? []).filter((child) => child.type === 'text' || child.type === 'code_inline' || child.type === 'softbreak');
      if (href !== null) {
        const open = new Token('link_open', 'a', 1);
        open.attrs = [['href', href]];
        const title = token.attrGet('title');
        if (title) open.attrSet('title', title);
        out.push(open);
      }
      for (const child of alt) out.push(child.type === 'softbreak' ? Object.assign(new Token('text', '', 0), { content: ' ' }) : child);
      if (href !== null) out.push(new Token('link_close', 'a', -1));
    } else {
      out.push(token);
    }
  }
  return out;
}

/**
 * Markdown → document of `schema`. Throws MarkdownDepthError for Markdown nested deeper than
 * MAX_NESTING_DEPTH; anything else becomes the nearest thing the schema has.
 */
export function createMarkdownParser(schema: Schema): MarkdownParser {
  const md = markdownTokenizer();
  return new MarkdownParser(
    schema,
    { parse: (src: string, env: unknown) => fitTokens(md.parse(src, env)) } as unknown as MarkdownIt,
    {
      blockquote: { block: 'blockquote' },
      paragraph: { block: 'paragraph', getAttrs: (token) => ({ align: alignOfToken(token) }) },
      list_item: { block: 'list_item' },
      bullet_list: { block: 'bullet_list' },
      ordered_list: {
        block: 'ordered_list',
        getAttrs: (token) => {
          const start = token.attrGet('start');
          return { order: start === null ? 1 : Number(start) };
        },
      },
      heading: { block: 'heading', getAttrs: (token) => ({ level: Number(token.tag.slice(1)), align: alignOfToken(token) }) },
      // The schema keeps no language for code blocks: the info string is dropped.
      code_block: { block: 'code_block', noCloseToken: true },
      fence: { block: 'code_block', noCloseToken: true },
      hr: { node: 'horizontal_rule' },
      hardbreak: { node: 'hard_break' },
      // Markdown has no width: images come in at their own size.
      image: { node: 'image', getAttrs: (token) => ({ src: token.attrGet('src'), alt: altText(token) }) },
      em: { mark: 'em' },
      strong: { mark: 'strong' },
      link: { mark: 'link', getAttrs: (token) => ({ href: token.attrGet('href'), title: token.attrGet('title') || null }) },
      code_inline: { mark: 'code', noCloseToken: true },
      ...richParseSpecs,
    },
  );
}
