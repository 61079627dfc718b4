import { Plugin } from 'prosemirror-state';
import { createMarkdownParser } from '../../shared/markdown.js';
import { schema } from '../../shared/schema.js';
import { cleanPastedHtml, isStyledPlainText, type ParseHtml } from './paste-html.js';
import { looksLikeMarkdown, markdownSlice } from './paste-markdown.js';

/** The browser's HTML parser: an inert document (no scripts run, no images load). */
const parseHtml: ParseHtml = (html) => new window.DOMParser().parseFromString(html, 'text/html');

/**
 * Paste: HTML is cleaned (paste-html.ts) before the schema reads it; plain text that looks like
 * Markdown, or Markdown copied from a code editor (which adds only coloured spans as HTML), is read
 * as Markdown with the server's rules. Shift+paste (plain) and pastes into code blocks keep the
 * text as it is.
 */
export function pastePlugin(): Plugin {
  const markdown = createMarkdownParser(schema);
  return new Plugin({
    props: {
      transformPastedHTML: (html) => cleanPastedHtml(html, parseHtml),
      clipboardTextParser(text, $context, plain) {
        if (plain || $context.parent.type.spec.code || !looksLikeMarkdown(text)) return null as never;
        try {
          return markdownSlice(text, markdown);
        } catch {
          return null as never; // too deeply nested: pasted as text
        }
      },
      handlePaste(view, event) {
        const data = event.clipboardData;
        const html = data?.getData('text/html') ?? '';
        const text = data?.getData('text/plain') ?? '';
        if (html === '' || text === '' || view.state.selection.$from.parent.type.spec.code) return false;
        if (!looksLikeMarkdown(text) || !isStyledPlainText(html, parseHtml)) return false;
        let slice;
        try {
          slice = markdownSlice(text, markdown);
        } catch {
          return false;
        }
        view.dispatch(view.state.tr.replaceSelection(slice).scrollIntoView().setMeta('paste', true).setMeta('uiEvent', 'paste'));
        return true;
      },
    },
  });
}
