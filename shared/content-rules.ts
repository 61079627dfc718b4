import type { AttributeSpec, ContentMatch, MarkType, NodeType, Schema } from 'prosemirror-model';

/**
 * What the Yjs encoding of a ProseMirror document may hold, derived from a schema: one set of rules
 * for the server (which checks each update's structs before applying them, server/content/) and the
 * editor (which checks what it is about to show, shared/content-check.ts).
 *
 * How y-prosemirror (1.3.x, src/plugins/sync-plugin.js) stores a document: the doc node is the
 * Y.XmlFragment itself; every other node is a Y.XmlElement named after its node type, with the
 * node's attrs as element attributes (null attrs left out); each run of text is a Y.XmlText whose
 * formatting attributes are its marks (key: the mark name, suffixed `--<8 chars>` when overlapping
 * marks of one type need distinct keys; value: the mark's attrs).
 *
 * The rules are local (which child may appear in which parent at all), so an update can be checked
 * struct by struct. Order and counts (`list_item` starts with a paragraph) are not: concurrent edits
 * legitimately merge into orders the content expression does not accept, and ProseMirror repairs
 * those by filling, never by deleting.
 */

/**
 * Deepest nesting accepted: of elements in the editor's fragment (its children are at depth 1),
 * and of shared types in any root type (the server's bound). Documents people
 * write stay far below (a list in a quote in a list is 6); Yjs deletes, garbage-collects and encodes
 * nested types recursively and the editor renders them recursively, so this bound is what keeps
 * ~4,500 nested elements from overflowing a stack.
 */
export const MAX_NESTING_DEPTH = 100;

/** Member of a `children` set meaning "a Y.XmlText (inline text) may be here". */
export const TEXT = '#text';

export interface ContentRules {
  /** The top node type: the name the Y.XmlFragment itself stands for. */
  readonly topNode: string;
  /** Node name → element names (and TEXT) allowed anywhere in that node's content. */
  readonly children: ReadonlyMap<string, ReadonlySet<string>>;
  readonly nodes: ReadonlyMap<string, NodeType>;
  readonly marks: ReadonlyMap<string, MarkType>;
}

/** Node types that can appear anywhere in a content expression (a walk over its ContentMatch states). */
function typesAllowedIn(start: ContentMatch): Set<NodeType> {
  const found = new Set<NodeType>();
  const seen = new Set([start]);
  const queue = [start];
  for (let match = queue.pop(); match; match = queue.pop()) {
    for (let i = 0; i < match.edgeCount; i++) {
      const { type, next } = match.edge(i);
      found.add(type);
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return found;
}

const cache = new WeakMap<Schema, ContentRules>();

/** The rules of a schema, computed once per schema. */
export function contentRules(schema: Schema): ContentRules {
  let rules = cache.get(schema);
  if (rules) return rules;
  const children = new Map<string, Set<string>>();
  for (const [name, type] of Object.entries(schema.nodes)) {
    if (type.isText) continue;
    children.set(name, new Set([...typesAllowedIn(type.contentMatch)].map((child) => (child.isText ? TEXT : child.name))));
  }
  rules = { topNode: schema.topNodeType.name, children, nodes: new Map(Object.entries(schema.nodes)), marks: new Map(Object.entries(schema.marks)) };
  cache.set(schema, rules);
  return rules;
}

/** y-prosemirror's suffix for overlapping marks (`hashedMarkNameRegex` in sync-plugin.js). */
const HASHED_MARK_NAME = /^(.*)--[a-zA-Z0-9+/=]{8}$/;

/** The mark type name of a Y.XmlText formatting key (drops y-prosemirror's `--<hash>` suffix). */
export function markNameOf(formatKey: string): string {
  return HASHED_MARK_NAME.exec(formatKey)?.[1] ?? formatKey;
}

export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Why an element named `child` (or TEXT) may not be in node `parent`, or null. */
export function childProblem(rules: ContentRules, parent: string, child: string): string | null {
  if (!rules.children.has(parent)) return `unknown node "${clip(parent)}"`;
  if (child !== TEXT && !rules.children.has(child)) return `unknown node "${clip(child)}"`;
  if (rules.children.get(parent)!.has(child)) return null;
  return child === TEXT ? `${parent} may not hold text` : `${parent} may not hold ${child}`;
}

/**
 * Why `value` is not acceptable for an attribute with this spec ("must be …"), or null. The
 * schema's validators are the bounds: e.g. an image's `src` must be a file of this server or an
 * http(s) URL of at most 2,048 characters, its `alt` at most 1,000 characters, its `width` 16–4,000
 * or null (shared/images.ts), so an update carrying anything else is refused before it is applied.
 */
function attributeValueProblem(spec: AttributeSpec, value: unknown): string | null {
  const validate = spec.validate;
  if (typeof validate === 'string') {
    const kind = value === null ? 'null' : typeof value;
    return validate.split('|').includes(kind) ? null : `must be ${validate}`;
  }
  if (typeof validate === 'function') {
    try {
      validate(value);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : 'is invalid';
    }
  }
  // No validator: plain JSON scalars only (objects could smuggle anything into toDOM).
  return value === null || ['string', 'number', 'boolean'].includes(typeof value) ? null : 'must be a string, number, boolean or null';
}

/** Why attribute `name` = `value` may not be on a `node` element, or null. */
export function attributeProblem(rules: ContentRules, node: string, name: string, value: unknown): string | null {
  const type = rules.nodes.get(node);
  if (!type) return `unknown node "${clip(node)}"`;
  const spec = type.spec.attrs?.[name];
  if (!spec) return `unknown attribute "${clip(name)}" on ${node}`;
  const problem = attributeValueProblem(spec, value);
  return problem ? `attribute "${name}" of ${node} ${problem}` : null;
}

/**
 * Why formatting `key` → `value` may not be on text inside a `parent` node, or null. `null` as the
 * value ends a mark and is fine for any known mark allowed there.
 */
export function formatProblem(rules: ContentRules, parent: string, key: string, value: unknown): string | null {
  const mark = rules.marks.get(markNameOf(key));
  if (!mark) return `unknown mark "${clip(key)}"`;
  if (!rules.nodes.get(parent)?.allowsMarkType(mark)) return `mark "${mark.name}" is not allowed in ${parent}`;
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return `mark "${mark.name}" must have an object of attributes`;
  const specs = mark.spec.attrs ?? {};
  for (const [name, attribute] of Object.entries(value as Record<string, unknown>)) {
    const spec = specs[name];
    if (!spec) return `unknown attribute "${clip(name)}" of mark "${mark.name}"`;
    const problem = attributeValueProblem(spec, attribute);
    if (problem) return `attribute "${name}" of mark "${mark.name}" ${problem}`;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (!('default' in spec) && !(name in value)) return `mark "${mark.name}" lacks its "${name}" attribute`;
  }
  return null;
}
