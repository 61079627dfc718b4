import { DOMSerializer, Mark, type MarkType, type Node as PMNode, type NodeType, type Schema } from 'prosemirror-model';
import { MAX_NESTING_DEPTH } from '../../shared/content-rules.js';
import { safeHref } from '../../shared/schema.js';
import { ContentError } from './fit.js';
import { emptyDocument, type DomNode, type HtmlConverter } from './html.js';

/**
 * JSON nesting accepted before anything is built: each document level is an object in a
 * `content` array (two JSON levels), plus marks and attrs below the deepest text. ProseMirror's
 * Node.fromJSON and check() recurse once per level.
 */
const MAX_JSON_DEPTH = 2 * MAX_NESTING_DEPTH + 8;

/** How deep a parsed JSON value nests (iterative). */
function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push({ value: child, depth: depth + 1 });
  }
  return deepest;
}

type JsonNode = { type?: unknown; attrs?: unknown; content?: unknown; marks?: unknown; text?: unknown };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * ProseMirror JSON → document. JSON that fits the schema is taken exactly (Node.fromJSON and
 * check()); anything else becomes the nearest thing the schema has: the JSON is drawn as DOM
 * (known nodes and marks with the schema's toDOM, unknown nodes as plain containers, unknown
 * marks left out) and read back with the schema's parse rules, white space kept, as HTML import does.
 */
export function parseProseMirrorJson(schema: Schema, text: string, html: HtmlConverter): PMNode {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ContentError('the body is not valid JSON');
  }
  if (!isObject(json)) throw new ContentError('expected a ProseMirror document: an object { "type": "doc", "content": [...] }');
  if (jsonDepth(json) > MAX_JSON_DEPTH) throw new ContentError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (json.type === schema.topNodeType.name) {
    try {
      const doc = schema.nodeFromJSON(json);
      doc.check();
      return doc;
    } catch {
      // Does not fit the schema: read it leniently below.
    }
  }
  return html.parseDom(jsonToDom(schema, json as JsonNode), { preserveWhitespace: 'full' });
}

/** Draws lenient ProseMirror JSON as DOM, iteratively. */
function jsonToDom(schema: Schema, json: JsonNode): DomNode {
  const document = emptyDocument();
  const serializer = DOMSerializer.fromSchema(schema);
  const root = document.createElement('div');
  const stack: Array<{ json: unknown; parent: { appendChild(node: unknown): unknown } }> = [];
  const pushChildren = (content: unknown, parent: { appendChild(node: unknown): unknown }) => {
    if (!Array.isArray(content)) return;
    for (let i = content.length - 1; i >= 0; i--) stack.push({ json: content[i], parent });
  };
  // The top node itself is a container whatever it claims to be.
  pushChildren(json.content, root);
  while (stack.length > 0) {
    const { json: item, parent } = stack.pop()!;
    if (!isObject(item)) continue;
    const node = item as JsonNode;
    if (node.type === 'text') {
      if (typeof node.text !== 'string' || node.text === '') continue;
      parent.appendChild(markedText(schema, serializer, document, node.text, node.marks));
      continue;
    }
    const type = typeof node.type === 'string' ? schema.nodes[node.type] : undefined;
    const drawn = type && !type.isText && type !== schema.topNodeType ? drawNode(serializer, document, type, node.attrs) : null;
    if (drawn) {
      parent.appendChild(drawn.dom);
      if (drawn.contentDOM) pushChildren(node.content, drawn.contentDOM);
    } else if (type?.isLeaf) {
      // A known leaf (an image) whose attributes do not fit: nothing of it to keep, and a
      // container in its place would split the paragraph around it.
      continue;
    } else {
      const container = document.createElement('div');
      parent.appendChild(container);
      pushChildren(node.content, container);
    }
  }
  return root;
}

type Appendable = DomNode & { appendChild(node: unknown): unknown };

function drawNode(serializer: DOMSerializer, document: ReturnType<typeof emptyDocument>, type: NodeType, attrs: unknown): { dom: Appendable; contentDOM: Appendable | null } | null {
  try {
    const node = type.create(validAttrs(type.spec.attrs, attrs));
    const toDOM = serializer.nodes[type.name];
    if (!toDOM) return null;
    const rendered = DOMSerializer.renderSpec(document as never, toDOM(node));
    return { dom: rendered.dom as unknown as Appendable, contentDOM: (rendered.contentDOM ?? null) as unknown as Appendable | null };
  } catch {
    return null;
  }
}

function markedText(schema: Schema, serializer: DOMSerializer, document: ReturnType<typeof emptyDocument>, text: string, marks: unknown): DomNode {
  let inner: DomNode = document.createTextNode(text);
  if (!Array.isArray(marks)) return inner;
  for (let i = marks.length - 1; i >= 0; i--) {
    const spec = marks[i];
    if (!isObject(spec) || typeof spec.type !== 'string') continue;
    const markType: MarkType | undefined = schema.marks[spec.type];
    const toDOM = markType && serializer.marks[markType.name];
    if (!markType || !toDOM) continue;
    // A link the editor would not render is left out here (its toDOM would draw it as "#").
    if (markType.name === 'link' && safeHref(typeof (spec.attrs as { href?: unknown } | undefined)?.href === 'string' ? (spec.attrs as { href: string }).href : '') === null) continue;
    try {
      const mark: Mark = markType.create(validAttrs(markType.spec.attrs, spec.attrs));
      const rendered = DOMSerializer.renderSpec(document as never, toDOM(mark, true));
      const wrapper = rendered.dom as unknown as Appendable;
      ((rendered.contentDOM ?? rendered.dom) as unknown as Appendable).appendChild(inner);
      inner = wrapper;
    } catch {
      // a mark that cannot be drawn is left out
    }
  }
  return inner;
}

/** Attributes the spec knows with plain values; the rest is left to the defaults (and the parse rules). */
function validAttrs(specs: NodeType['spec']['attrs'], attrs: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!specs || !isObject(attrs)) return out;
  for (const [name, spec] of Object.entries(specs)) {
    const value = attrs[name];
    if (value === undefined) continue;
    if (typeof spec.validate === 'string' && !spec.validate.split('|').includes(value === null ? 'null' : typeof value)) continue;
    if (typeof spec.validate === 'function') {
      try {
        spec.validate(value);
      } catch {
        continue;
      }
    }
    if (value !== null && typeof value === 'object') continue;
    out[name] = value;
  }
  return out;
}

/**
 * Document → ProseMirror JSON. Attributes added to existing node types after documents were
 * written (paragraph and heading `align`) are left out while they hold their default (null), so
 * a document without them exports exactly as it did before they existed. Iterative.
 */
export function serializeProseMirrorJson(doc: PMNode): string {
  const json = doc.toJSON() as JsonNode;
  const stack: unknown[] = [json];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isObject(node)) continue;
    if (isObject(node.attrs) && node.attrs.align === null && (node.type === 'paragraph' || node.type === 'heading')) {
      const { align: _align, ...rest } = node.attrs;
      if (Object.keys(rest).length > 0) node.attrs = rest;
      else delete node.attrs;
    }
    if (Array.isArray(node.content)) for (const child of node.content) stack.push(child);
  }
  return JSON.stringify(json);
}
