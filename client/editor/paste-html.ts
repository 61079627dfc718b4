import { imageSrcProblem } from '../../shared/images.js';

/**
 * Cleans HTML from the clipboard before ProseMirror reads it with the schema's parse rules: what
 * Google Docs, Microsoft Word, Notion and web pages put there carries their formatting as inline
 * styles, classes, wrappers and empty paragraphs. This keeps the structure (headings, paragraphs,
 * lists, quotes, code, links, images, tables) and turns formatting expressed as styles into the
 * elements the parse rules know (<strong>, <em>, <code>, <s>, <u>, <mark>), and drops the rest.
 *
 * Pure and DOM-based: `parse` makes a Document from HTML (the browser's DOMParser in the editor,
 * linkedom in tests), nothing else is touched. Every walk is over a list or an explicit stack.
 */

/** What the cleaning needs of a DOM (the browser's, or linkedom's in tests). */
export type ParseHtml = (html: string) => Document;

const ELEMENT = 1;
const TEXT = 3;

/** Removed with their content: never document content. */
const DROPPED = new Set(['style', 'script', 'meta', 'link', 'title', 'xml', 'template', 'noscript', 'iframe', 'object', 'embed', 'svg', 'canvas', 'button', 'select', 'textarea', 'head']);
/** Kept as elements (the parse rules, or the browser's notion of a block, give them meaning); everything else is unwrapped. */
const KEPT = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'ul', 'ol', 'li', 'hr', 'br', 'a', 'img',
  'strong', 'b', 'em', 'i', 's', 'del', 'strike', 'u', 'mark', 'sub', 'sup',
  'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption', 'colgroup', 'col',
  'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'figure', 'figcaption', 'details', 'summary', 'dl', 'dt', 'dd', 'label', 'input',
]);
/** Block elements: a <br> next to one is spacing between blocks, not a line break. */
const BLOCKS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'ul', 'ol', 'li', 'hr', 'table', 'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'figure', 'details', 'dl']);
/** Elements that may be empty and still mean something. */
const EMPTY_ALLOWED = new Set(['br', 'hr', 'img', 'td', 'th', 'tr', 'col', 'colgroup', 'input', 'li']);
/** Attributes kept per element; every other attribute (class, style, id, dir, lang…) goes. */
const KEPT_ATTRIBUTES: Record<string, readonly string[]> = {
  a: ['href', 'title'],
  img: ['src', 'alt', 'width'],
  ol: ['start'],
  td: ['colspan', 'rowspan'],
  th: ['colspan', 'rowspan'],
  input: ['type', 'checked'],
  li: ['data-checked', 'data-type'],
  ul: ['data-type'],
};
/** Text blocks whose alignment is kept (as `style="text-align: …"`, the only style that stays). */
const ALIGNABLE = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const MONOSPACE = /(^|,)\s*['"]?(courier( new)?|consolas|monaco|menlo|roboto mono|source code pro|fira (code|mono)|sf ?mono|ubuntu mono|dejavu sans mono|lucida console|monospace)['"]?\s*(,|$)/i;

const nameOf = (node: Node): string => (node.nodeType === ELEMENT ? (node as Element).tagName.toLowerCase() : '');

/** The declarations of a style attribute, lower-cased names: `font-weight: 700` → { 'font-weight': '700' }. */
export function styleDeclarations(style: string | null): Map<string, string> {
  const declarations = new Map<string, string>();
  for (const part of (style ?? '').split(';')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const name = part.slice(0, colon).trim().toLowerCase();
    const value = part.slice(colon + 1).trim().replace(/\s*!important$/i, '').toLowerCase();
    if (name !== '' && value !== '') declarations.set(name, value);
  }
  return declarations;
}

/** Every element under `root`, in document order (an explicit stack). */
function elementsIn(root: Element): Element[] {
  const out: Element[] = [];
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const element = stack.pop()!;
    if (element !== root) out.push(element);
    for (let i = element.children.length - 1; i >= 0; i--) stack.push(element.children[i]!);
  }
  return out;
}

/** Replaces `element` by its children. */
function unwrap(element: Element): void {
  const parent = element.parentNode;
  if (!parent) return;
  while (element.firstChild) parent.insertBefore(element.firstChild, element);
  parent.removeChild(element);
}

/** Wraps the children of `element` in a new `tag` element. */
function wrapChildren(element: Element, tag: string): void {
  const wrapper = element.ownerDocument.createElement(tag);
  while (element.firstChild) wrapper.appendChild(element.firstChild);
  element.appendChild(wrapper);
}

/** Replaces `element` by a `tag` element with the same children. */
function rename(element: Element, tag: string): Element {
  const renamed = element.ownerDocument.createElement(tag);
  while (element.firstChild) renamed.appendChild(element.firstChild);
  element.parentNode?.replaceChild(renamed, element);
  return renamed;
}

function isBold(weight: string | undefined): boolean | null {
  if (weight === undefined) return null;
  if (weight === 'bold' || weight === 'bolder') return true;
  if (weight === 'normal' || weight === 'lighter') return false;
  const number = Number(weight);
  return Number.isFinite(number) ? number >= 600 : null;
}

const TRANSPARENT = /^(transparent|none|inherit|initial|unset|white|#fff(fff)?|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*(,\s*1(\.0+)?\s*)?\)|rgba\([^)]*,\s*0(\.0+)?\s*\))$/;

/**
 * Word (Windows) puts no <ul>/<ol> on the clipboard: a list is paragraphs styled `mso-list: l0
 * level2 lfo1`, each starting with its bullet or number as text in a `mso-list: Ignore` span.
 * Those runs of paragraphs become real, nested lists.
 */
function wordLists(body: Element): void {
  const listParagraphs = elementsIn(body).filter((element) => {
    const list = styleDeclarations(element.getAttribute('style')).get('mso-list');
    return nameOf(element) === 'p' && list !== undefined && list !== 'ignore' && /level\d/.test(list);
  });
  const done = new Set<Element>();
  for (const first of listParagraphs) {
    if (done.has(first)) continue;
    // The run: this paragraph and the list paragraphs right after it (white space between is fine).
    const run: Element[] = [];
    for (let node: Node | null = first; node; node = node.nextSibling) {
      if (node.nodeType === TEXT && (node.textContent ?? '').trim() === '') continue;
      if (node.nodeType !== ELEMENT || !listParagraphs.includes(node as Element)) break;
      run.push(node as Element);
      done.add(node as Element);
    }
    const document = first.ownerDocument;
    const anchor = document.createElement('div');
    first.parentNode!.insertBefore(anchor, first);
    // Open lists by level; a deeper level nests in the last item of the level above.
    const open: Array<{ list: Element; level: number }> = [];
    for (const paragraph of run) {
      const level = Number(/level(\d+)/.exec(styleDeclarations(paragraph.getAttribute('style')).get('mso-list')!)![1]);
      const marker = elementsIn(paragraph).find((element) => styleDeclarations(element.getAttribute('style')).get('mso-list') === 'ignore');
      const ordered = /^\(?[0-9a-z]{1,4}[.)]/i.test((marker?.textContent ?? '').trim());
      marker?.remove();
      while (open.length > 0 && open[open.length - 1]!.level > level) open.pop();
      let top = open[open.length - 1];
      if (!top || top.level < level) {
        const list = document.createElement(ordered ? 'ol' : 'ul');
        const parentItem = top?.list.lastElementChild;
        (parentItem ?? anchor).appendChild(list);
        top = { list, level };
        open.push(top);
      }
      const item = document.createElement('li');
      const content = document.createElement('p');
      while (paragraph.firstChild) content.appendChild(paragraph.firstChild);
      item.appendChild(content);
      top.list.appendChild(item);
      paragraph.remove();
    }
    unwrap(anchor);
  }
  // Markers of list paragraphs Word did not mark as such.
  for (const element of elementsIn(body)) if (styleDeclarations(element.getAttribute('style')).get('mso-list') === 'ignore') element.remove();
}

/** Word's paragraph styles that mean a block of ours. */
function wordBlocks(body: Element): void {
  for (const element of elementsIn(body)) {
    if (nameOf(element) !== 'p') continue;
    const classes = (element.getAttribute('class') ?? '').split(/\s+/);
    if (classes.includes('MsoTitle')) rename(element, 'h1');
    else if (classes.includes('MsoSubtitle')) rename(element, 'h2');
    else if (classes.includes('MsoQuote') || classes.includes('MsoIntenseQuote')) {
      const quote = element.ownerDocument.createElement('blockquote');
      element.parentNode!.insertBefore(quote, element);
      quote.appendChild(rename(element, 'p'));
    }
  }
}

/** Formatting expressed as styles → the elements the parse rules know; then every attribute not kept goes. */
function stylesToElements(body: Element): void {
  const elements = elementsIn(body);
  // Deepest first, so that a wrapper's unwrapping never moves a child still to be visited.
  for (let i = elements.length - 1; i >= 0; i--) {
    const element = elements[i]!;
    const name = nameOf(element);
    const style = styleDeclarations(element.getAttribute('style'));
    const inline = !BLOCKS.has(name) && name !== 'li';
    const inLink = element.closest('a') !== null;
    const inCode = element.closest('pre, code') !== null;
    const inHeading = element.closest('h1, h2, h3, h4, h5, h6') !== null;
    const bold = isBold(style.get('font-weight'));
    // Google Docs wraps the whole clipboard in <b style="font-weight:normal" id="docs-internal-guid-…">.
    if ((name === 'b' || name === 'strong') && bold === false) {
      unwrap(element);
      continue;
    }
    const decoration = `${style.get('text-decoration') ?? ''} ${style.get('text-decoration-line') ?? ''}`;
    const background = style.get('background-color') ?? style.get('background') ?? style.get('mso-highlight');
    // Headings are bold by their style in most documents: that is not emphasis.
    if (name !== 'b' && name !== 'strong' && !inHeading && bold === true) wrapChildren(element, 'strong');
    if (name !== 'i' && name !== 'em' && style.get('font-style') === 'italic') wrapChildren(element, 'em');
    if (/line-through/.test(decoration)) wrapChildren(element, 's');
    if (/underline/.test(decoration) && !inLink && name !== 'a') wrapChildren(element, 'u');
    if (inline && background !== undefined && !TRANSPARENT.test(background) && name !== 'mark') wrapChildren(element, 'mark');
    const family = style.get('font-family') ?? (name === 'font' ? element.getAttribute('face') ?? '' : '');
    if (inline && !inCode && MONOSPACE.test(family) && (element.textContent ?? '').trim() !== '') wrapChildren(element, 'code');
    const align = style.get('text-align');
    const keep = KEPT_ATTRIBUTES[name] ?? [];
    for (const attribute of Array.from(element.attributes).map((a) => a.name)) if (!keep.includes(attribute)) element.removeAttribute(attribute);
    if (ALIGNABLE.has(name) && (align === 'center' || align === 'right' || align === 'justify')) element.setAttribute('style', `text-align: ${align}`);
  }
}

/** Removes what is never content, and the bullets Word writes as text. */
function dropJunk(body: Element): void {
  // Comments (Word's conditional comments among them), iteratively.
  const stack: Node[] = [body];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (let child = node.firstChild; child; ) {
      const next = child.nextSibling;
      if (child.nodeType === 8) node.removeChild(child);
      else if (child.nodeType === ELEMENT) stack.push(child);
      child = next;
    }
  }
  for (const element of elementsIn(body)) {
    if (!body.contains(element)) continue; // inside something removed already
    const name = nameOf(element);
    const style = styleDeclarations(element.getAttribute('style'));
    if (DROPPED.has(name) || style.get('display') === 'none') element.remove();
    // Word's namespaced elements: <o:p> (an empty paragraph's non-breaking space), VML shapes.
    else if (name.startsWith('o:') || name.startsWith('v:')) element.remove();
  }
}

/** Unwraps every element not kept (spans, fonts, namespaced wrappers), deepest first. */
function unwrapUnknown(body: Element): void {
  const elements = elementsIn(body);
  for (let i = elements.length - 1; i >= 0; i--) {
    const element = elements[i]!;
    const name = nameOf(element);
    if (!KEPT.has(name)) unwrap(element);
    // An image the schema cannot hold (data:, Word's file:///C:/… copies) would leave its paragraph empty.
    else if (name === 'img' && imageSrcProblem((element.getAttribute('src') ?? '').trim()) !== null) element.remove();
    // A link without an address (Word's bookmarks: <a name="_Toc…">) is just its text.
    else if (name === 'a' && !element.hasAttribute('href')) unwrap(element);
  }
}

/** Google Docs nests a sub-list directly in its list (<ul><li>…</li><ul>…</ul></ul>): it belongs in the item before it. */
function nestLists(body: Element): void {
  for (const list of elementsIn(body)) {
    const name = nameOf(list);
    const parent = list.parentElement;
    if ((name !== 'ul' && name !== 'ol') || !parent || (nameOf(parent) !== 'ul' && nameOf(parent) !== 'ol')) continue;
    let item = list.previousElementSibling;
    if (!item || nameOf(item) !== 'li') {
      item = list.ownerDocument.createElement('li');
      parent.insertBefore(item, list);
    }
    item.appendChild(list);
  }
}

/** Notion puts each list item in a list of its own: adjacent lists of one kind are one list. */
function mergeLists(body: Element): void {
  for (const list of elementsIn(body)) {
    const name = nameOf(list);
    if ((name !== 'ul' && name !== 'ol') || !list.parentNode) continue;
    let next = list.nextSibling;
    while (next && next.nodeType === TEXT && isBlank(next.textContent)) next = next.nextSibling;
    if (!next || nameOf(next) !== name) continue;
    const into = next as Element;
    // Numbered lists continue: Notion writes <ol start="1">…</ol><ol start="2">…</ol>.
    const expected = (Number(list.getAttribute('start')) || 1) + Array.from(list.children).filter((child) => nameOf(child) === 'li').length;
    if (into.hasAttribute('start') && Number(into.getAttribute('start')) !== expected) continue;
    // Merge `list` into the next one (which the walk visits later, so runs of any length merge).
    while (list.lastChild) into.insertBefore(list.lastChild, into.firstChild);
    if (list.getAttribute('start')) into.setAttribute('start', list.getAttribute('start')!);
    else into.removeAttribute('start');
    list.remove();
  }
}

/** The nearest sibling in `direction` that is not white space only. */
function siblingSkippingBlank(node: Node, direction: 'previousSibling' | 'nextSibling'): Node | null {
  let sibling = node[direction];
  while (sibling && sibling.nodeType === TEXT && isBlank(sibling.textContent)) sibling = sibling[direction];
  return sibling;
}

const isBlank = (text: string | null): boolean => (text ?? '').replace(/[\s\u00a0\u200b\ufeff]/g, '') === '';

/** Empty paragraphs (spacing in Word and Google Docs), <br>s between blocks, empty inline wrappers. */
function dropEmpty(body: Element): void {
  const elements = elementsIn(body);
  for (let i = elements.length - 1; i >= 0; i--) {
    const element = elements[i]!;
    const name = nameOf(element);
    if (name === 'br') {
      const parentName = nameOf(element.parentElement!);
      if (parentName === 'pre' || element.closest('pre') !== null) continue;
      const previous = siblingSkippingBlank(element, 'previousSibling');
      const next = siblingSkippingBlank(element, 'nextSibling');
      const inContainer = element.parentElement === body || (BLOCKS.has(parentName) && !ALIGNABLE.has(parentName));
      // Between blocks it is spacing; at the end of a block, browsers show nothing for it.
      if ((inContainer && [previous, next].every((node) => !node || BLOCKS.has(nameOf(node)))) || (next === null && (BLOCKS.has(parentName) || element.parentElement === body))) element.remove();
      continue;
    }
    if (EMPTY_ALLOWED.has(name) || element.querySelector('img, hr, input, table') !== null) continue;
    // Only line breaks and white space inside: an empty line.
    if (isBlank(element.textContent)) element.remove();
  }
}

/** Non-breaking spaces Word and Google Docs use for spacing become plain spaces (not in code). */
function plainSpaces(body: Element): void {
  const stack: Node[] = [body];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === TEXT && child.textContent?.includes('\u00a0') && (child.parentElement?.closest('pre, code') ?? null) === null) {
        child.textContent = child.textContent.replace(/\u00a0/g, ' ');
      } else if (child.nodeType === ELEMENT) {
        stack.push(child);
      }
    }
  }
}

/**
 * Pasted HTML → clean HTML of the same content (see the top of this file). The result is what
 * ProseMirror then parses with the schema.
 */
export function cleanPastedHtml(html: string, parse: ParseHtml): string {
  const document = parse(html);
  const body = document.body;
  if (!body) return '';
  dropJunk(body);
  wordLists(body);
  wordBlocks(body);
  stylesToElements(body);
  unwrapUnknown(body);
  nestLists(body);
  mergeLists(body);
  dropEmpty(body);
  plainSpaces(body);
  return body.innerHTML;
}

/** Tags whose presence shows HTML with structure of its own (not a code editor's coloured copy of plain text). */
const STRUCTURE = 'p, h1, h2, h3, h4, h5, h6, ul, ol, li, a, b, strong, em, i, img, table, blockquote, pre';

/**
 * Whether clipboard HTML is only a styled rendering of its plain text: code editors (VS Code and
 * the like) put coloured <div>s and <span>s next to the text. Markdown copied from them should be
 * read as Markdown, not as those spans.
 */
export function isStyledPlainText(html: string, parse: ParseHtml): boolean {
  const body = parse(html).body;
  return body !== null && body.querySelector(STRUCTURE) === null;
}
