import { DOMSerializer, type Mark, type Schema } from 'prosemirror-model';
import * as Y from 'yjs';
import { markNameOf, MAX_NESTING_DEPTH } from '../../shared/content-rules.js';
import { h } from '../dom.js';

/**
 * A read-only, best-effort rendering of a y-prosemirror fragment that does not fit the schema
 * (shown while editing is paused; see content-guard.ts). It never writes to the document. Known
 * nodes and marks render with the schema's own toDOM (so links go through safeHref); unknown
 * elements become a labelled box around whatever they contain; text is text. Iterative, and
 * bounded: nesting deeper than MAX_NESTING_DEPTH and anything past MAX_RENDERED_NODES are replaced
 * by a note (a page with more DOM nodes than that is unusable anyway: ~50 ms of layout per 10k).
 */
export const MAX_RENDERED_NODES = 20_000;

interface Pending {
  node: unknown;
  into: HTMLElement;
  depth: number;
}

function note(text: string): HTMLElement {
  return h('span', { class: 'ce-unsupported-note' }, text);
}

/** `text` wrapped in the DOM of each mark the schema knows; unknown marks are left out. */
function markedText(schema: Schema, text: string, attributes: Record<string, unknown> | undefined): Node {
  let node: Node = document.createTextNode(text);
  for (const [key, value] of Object.entries(attributes ?? {})) {
    const type = schema.marks[markNameOf(key)];
    if (!type?.spec.toDOM) continue;
    try {
      const mark: Mark = type.create(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
      const { dom, contentDOM } = DOMSerializer.renderSpec(document, type.spec.toDOM(mark, true));
      (contentDOM ?? dom).appendChild(node);
      node = dom;
    } catch {
      // a mark whose attributes do not fit: show the text without it
    }
  }
  return node;
}

function renderText(schema: Schema, text: Y.XmlText, into: HTMLElement): number {
  let count = 0;
  for (const run of text.toDelta() as Array<{ insert: unknown; attributes?: Record<string, unknown> }>) {
    into.appendChild(typeof run.insert === 'string' ? markedText(schema, run.insert, run.attributes) : note('[embedded object]'));
    count++;
  }
  return count;
}

/** The DOM of a known element (its children go into `content`), or null if it cannot be built. */
function renderElement(schema: Schema, element: Y.XmlElement): { dom: HTMLElement; content: HTMLElement } | null {
  const type = schema.nodes[element.nodeName];
  if (!type || type.isText || !type.spec.toDOM) return null;
  try {
    const node = type.create(element.getAttributes() as Record<string, unknown>);
    const { dom, contentDOM } = DOMSerializer.renderSpec(document, type.spec.toDOM(node));
    if (!(dom instanceof HTMLElement)) return null;
    if (contentDOM instanceof HTMLElement) return { dom, content: contentDOM };
    // a leaf (hr, br) with children anyway: show them after it
    const wrapper = h('span', { class: 'ce-unsupported-leaf' }, dom);
    return { dom: wrapper, content: wrapper };
  } catch {
    return null;
  }
}

export function renderFallback(fragment: Y.XmlFragment, schema: Schema): HTMLElement {
  const root = h('div', { class: 'ce-content ce-fallback', 'aria-readonly': 'true', 'aria-label': 'Document (read-only)' });
  const stack: Pending[] = fragment.toArray().reverse().map((node) => ({ node, into: root, depth: 1 }));
  let rendered = 0;
  while (stack.length > 0) {
    if (rendered >= MAX_RENDERED_NODES) {
      root.appendChild(h('p', {}, note('… the rest of the document is not shown.')));
      break;
    }
    const { node, into, depth } = stack.pop()!;
    rendered++;
    if (node instanceof Y.XmlText) {
      rendered += renderText(schema, node, into);
    } else if (node instanceof Y.XmlElement) {
      if (depth > MAX_NESTING_DEPTH) {
        into.appendChild(note(`[content nested deeper than ${MAX_NESTING_DEPTH} levels is not shown]`));
        continue;
      }
      let target: HTMLElement;
      const known = renderElement(schema, node);
      if (known) {
        into.appendChild(known.dom);
        target = known.content;
      } else {
        const box = h('div', { class: 'ce-unsupported' }, h('span', { class: 'ce-unsupported-label' }, `Unsupported content: ${node.nodeName.slice(0, 40)}`));
        into.appendChild(box);
        target = box;
      }
      const children = node.toArray();
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], into: target, depth: depth + 1 });
    } else {
      into.appendChild(note('[unsupported content]'));
    }
  }
  return root;
}
