import type MarkdownIt from 'markdown-it';
import Token from 'markdown-it/lib/token.mjs';

/**
 * The only raw HTML the Markdown import reads: `<u>`, `<mark>` (underline and highlight, which
 * Markdown has no syntax for; the export writes them) and `<br>` (line breaks inside table cells,
 * as GitHub writes them). Everything else stays text, as before (markdown-it runs with html off).
 * Unpaired tags stay text too (balanceInlineTags), so `a <u> b` is not underlined to the end.
 */
const TAG = /^<(?:(\/?)(u|mark)|(br)\s*\/?)>/i;

const TOKEN_OF: Record<string, string> = { u: 'underline', mark: 'highlight' };

export function inlineHtmlTags(md: MarkdownIt): void {
  md.inline.ruler.before('autolink', 'collab_inline_tags', (state, silent) => {
    if (state.src.charCodeAt(state.pos) !== 0x3c /* < */) return false;
    const match = TAG.exec(state.src.slice(state.pos, state.pos + 8));
    if (!match) return false;
    if (!silent) {
      if (match[3]) {
        state.push('hardbreak', 'br', 0);
      } else {
        const name = TOKEN_OF[match[2]!.toLowerCase()]!;
        const closing = match[1] === '/';
        const token = state.push(`${name}_${closing ? 'close' : 'open'}`, match[2]!.toLowerCase(), closing ? -1 : 1);
        token.markup = match[0];
      }
    }
    state.pos += match[0].length;
    return true;
  });
}

/** Turns `<u>`/`<mark>` tokens without a partner back into their text. One pass per inline run. */
export function balanceInlineTags(tokens: Token[]): Token[] {
  const open = new Map<string, number[]>();
  const unpaired = new Set<number>();
  tokens.forEach((token, index) => {
    const match = /^(underline|highlight)_(open|close)$/.exec(token.type);
    if (!match) return;
    const stack = open.get(match[1]!) ?? [];
    open.set(match[1]!, stack);
    if (match[2] === 'open') stack.push(index);
    else if (stack.length > 0) stack.pop();
    else unpaired.add(index);
  });
  for (const stack of open.values()) for (const index of stack) unpaired.add(index);
  if (unpaired.size === 0) return tokens;
  return tokens.map((token, index) => (unpaired.has(index) ? Object.assign(new Token('text', '', 0), { content: token.markup }) : token));
}
