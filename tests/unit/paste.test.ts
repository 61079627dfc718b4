/**
 * Paste: saved clipboard HTML of Google Docs, Word, Notion and a web page (tests/fixtures/paste/)
 * cleaned as the editor cleans it (transformPastedHTML), then read with the schema as ProseMirror
 * reads it; and plain text that looks like Markdown, read with the server's Markdown rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { createHtmlConverter } from '../../server/content/html.js';
import { parseContent } from '../../server/content/conversion.js';
import { cleanPastedHtml, isStyledPlainText, type ParseHtml } from '../../client/editor/paste-html.js';
import { looksLikeMarkdown, markdownSlice } from '../../client/editor/paste-markdown.js';
import { createMarkdownParser } from '../../shared/markdown.js';
import { schema } from '../../shared/schema.js';

/** linkedom as the browser's DOMParser: a fragment goes into a document's body, as browsers put it. */
const parse: ParseHtml = (html) =>
  parseHTML(/<(html|body)[\s>]/i.test(html) ? html : `<!doctype html><html><head></head><body>${html}</body></html>`).document as unknown as Document;
const html = createHtmlConverter(schema);
const fixture = (name: string) => fs.readFileSync(path.resolve('tests/fixtures/paste', name), 'utf8');
const pasted = (name: string) => html.parse(cleanPastedHtml(fixture(name), parse)).toJSON();

type Json = Record<string, unknown>;
const doc = (...content: Json[]) => ({ type: 'doc', content });
const p = (...content: Json[]) => ({ type: 'paragraph', attrs: { align: null }, content });
const h = (level: number, ...content: Json[]) => ({ type: 'heading', attrs: { level, align: null }, content });
const t = (text: string, ...marks: string[]) => ({ type: 'text', text, ...(marks.length > 0 && { marks: marks.map((type) => ({ type })) }) });
const link = (text: string, href: string) => ({ type: 'text', text, marks: [{ type: 'link', attrs: { href, title: null } }] });
const li = (...content: Json[]) => ({ type: 'list_item', content });
const ul = (...items: Json[]) => ({ type: 'bullet_list', content: items });
const ol = (order: number, ...items: Json[]) => ({ type: 'ordered_list', attrs: { order }, content: items });
const img = (src: string, alt: string, width: number | null) => ({ type: 'image', attrs: { src, alt, width } });

describe('paste: HTML from other applications becomes clean content of the schema', () => {
  it('Google Docs: the guid wrapper unwrapped, styled spans as marks, nested list items, no empty lines', () => {
    expect(pasted('google-docs.html')).toEqual(
      doc(
        h(1, t('Quarterly plan')),
        p(t('We ship the '), t('importer', 'strong'), t(', then the '), t('exporter', 'em'), t('. Details in '), link('the spec', 'https://example.com/spec'), t('.')),
        ul(li(p(t('Design review')), ul(li(p(t('Mockups'))))), li(p(t('Launch')))),
        p(t('Run '), t('npm run build', 'code'), t(' first.')),
        p(img('https://lh7-rt.googleusercontent.com/docsz/AD_4nXeRoadmapChart?key=k3Yq', '', 602)),
        p(t('Questions to '), t('Priya', 'em', 'strong'), t('.')),
      ),
    );
  });

  it('Word: mso- styles and <o:p> gone, list paragraphs as nested lists, title and quote styles as blocks', () => {
    expect(pasted('word.html')).toEqual(
      doc(
        h(1, t('Meeting notes')),
        p(t('Attendees: '), t('Ada', 'strong'), t(', '), t('Grace', 'em'), t(' and '), t('Linus', 'em', 'strong'), t('.')),
        h(2, t('Decisions')),
        ul(li(p(t('Adopt the new editor')), ul(li(p(t('Migrate by '), t('March', 'strong'))))), li(p(t('Keep the old one read-only')))),
        ol(1, li(p(t('Write the guide'))), li(p(t('Train the team')))),
        { type: 'blockquote', content: [p(t('Less, but better.'))] },
        p(t('Next meeting: '), t('2026-12-09', 'code'), t(' online, '), t('not', 'strong'), t(' in room 4.')),
        p(link('Minutes archive', 'https://example.com/minutes')),
      ),
    );
  });

  it('Notion: lists split per item joined again, code blocks kept, the trailing empty paragraph gone', () => {
    expect(pasted('notion.html')).toEqual(
      doc(
        h(2, t('Launch checklist')),
        p(t('Owner: '), t('Sam', 'strong'), t(' · see '), link('the plan', 'https://www.notion.so/team/Plan-1a2b3c')),
        ul(li(p(t('Update '), t('README.md', 'code'))), li(p(t('Announce '), t('internally', 'em')))),
        ol(1, li(p(t('Freeze'))), li(p(t('Release')))),
        { type: 'blockquote', content: [p(t('Ship small, ship often.'))] },
        { type: 'code_block', content: [t('npm test\nnpm run build')] },
      ),
    );
  });

  it('a web page: inline styles as marks, images with their size (data: images dropped), scripts gone', () => {
    expect(pasted('web-page.html')).toEqual(
      doc(
        h(3, t('How we work')),
        p(t('Async first.', 'strong'), t(' Write it down, '), t('then', 'em'), t(' meet.')),
        p(img('https://example.com/images/team.jpg', 'The team at the offsite', 320)),
        ol(3, li(p(t('Plan'))), li(p(t('Build')))),
        p(t('ls -la', 'code'), t(' lists '), t('everything', 'strong'), t('.')),
      ),
    );
  });

  it('leaves no style, class, span or Word markup in the cleaned HTML', () => {
    for (const name of ['google-docs.html', 'word.html', 'notion.html', 'web-page.html']) {
      const cleaned = cleanPastedHtml(fixture(name), parse);
      expect(cleaned, name).not.toMatch(/style=|class=|<span|<font|<o:p|mso-|<!--|<meta|<script|docs-internal-guid|id=/i);
    }
  });

  it('keeps text alignment (the only style kept) for the parse rules of aligned blocks', () => {
    expect(cleanPastedHtml('<p style="text-align: center; color: red"><span>Centred</span></p><p style="text-align:left">Left</p>', parse)).toBe(
      '<p style="text-align: center">Centred</p><p>Left</p>',
    );
  });

  it('tells a code editor’s coloured copy of plain text from HTML with structure', () => {
    const vscode =
      '<div style="color: #d4d4d4;background-color: #1e1e1e;font-family: Consolas, monospace;white-space: pre;"><div><span style="color: #569cd6;font-weight: bold;"># Release</span></div><div><span style="color: #6796e6;">-</span><span> Faster sync</span></div></div>';
    expect(isStyledPlainText(vscode, parse)).toBe(true);
    expect(isStyledPlainText(fixture('google-docs.html'), parse)).toBe(false);
    expect(isStyledPlainText(fixture('word.html'), parse)).toBe(false);
  });
});

describe('paste: Markdown text', () => {
  const parser = createMarkdownParser(schema);

  it('recognises Markdown by its block and inline syntax, and leaves prose alone', () => {
    for (const markdown of ['# Release notes', '- one\n- two', '1. first\n2. second', '```\ncode\n```', '> quoted\n> more', 'Use **bold** here', 'See [the docs](https://example.com)', 'Run `npm test`', 'an _emphasised_ word', '![logo](https://example.com/l.png)']) {
      expect(looksLikeMarkdown(markdown), markdown).toBe(true);
    }
    for (const prose of ['Meeting at 10', 'snake_case_name and 5 * 3 = 15', '- just one dash line', 'Costs 3*4*5 units', 'https://example.com/a_b_c', '#hashtag']) {
      expect(looksLikeMarkdown(prose), prose).toBe(false);
    }
  });

  it('reads pasted Markdown as the content API reads it (one set of rules)', () => {
    const text = '# Release notes\n\n- **Faster** sync\n- Fix [login](https://example.com/login)\n\n```\nnpm i\n```\n\nThanks _all_!';
    const slice = markdownSlice(text, parser);
    expect(slice.content.toJSON()).toEqual(parseContent('markdown', text).toJSON().content);
    expect({ openStart: slice.openStart, openEnd: slice.openEnd }).toEqual({ openStart: 0, openEnd: 1 });
    expect(slice.content.toJSON()).toEqual([
      h(1, t('Release notes')),
      ul(li(p(t('Faster', 'strong'), t(' sync'))), li(p(t('Fix '), link('login', 'https://example.com/login')))),
      { type: 'code_block', content: [t('npm i')] },
      p(t('Thanks '), t('all', 'em'), t('!')),
    ]);
    // A single paragraph goes into the line the cursor is in.
    const inline = markdownSlice('Use **bold** and `code`', parser);
    expect({ openStart: inline.openStart, openEnd: inline.openEnd }).toEqual({ openStart: 1, openEnd: 1 });
  });
});
