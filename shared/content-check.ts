import type { Schema } from 'prosemirror-model';
import * as Y from 'yjs';
import { attributeProblem, childProblem, contentRules, formatProblem, MAX_NESTING_DEPTH, TEXT, type ContentRules } from './content-rules.js';

/**
 * Does a Yjs XmlFragment hold only what the ProseMirror schema can show?
 *
 * (How y-prosemirror stores a document, and what the rules are: shared/content-rules.ts.)
 *
 * What goes wrong when the content does not fit (why this check exists): createNodeFromYElement and
 * createTextNodesFromYText DELETE the Y element or text they cannot turn into a node (unknown
 * name, bad attrs, unknown mark), XmlHooks or text at the root throw "Method unimplemented" and
 * leave the editor blank (the next keystroke then replaces the whole document with the blank
 * view), unknown attributes are silently removed on the next edit, and deep nesting overflows the
 * stack of the recursive renderers. So: every element name must be a node of the schema allowed
 * in its parent, text only where inline text is allowed, attributes and marks known with valid
 * values, depth ≤ MAX_NESTING_DEPTH.
 *
 * "Allowed in its parent" means allowed ANYWHERE in the parent's content expression, not "in this
 * order/count": concurrent edits legitimately merge into orders the expression does not accept
 * (two people editing a list item), and ProseMirror repairs those by filling, never by deleting.
 *
 * Pure and iterative (an explicit stack: no recursion over client-controlled structure). Cost: one
 * visit per element plus one toDelta() per text, i.e. O(size of the document); the incremental
 * `changedContentProblem` visits only what a transaction added or changed.
 */


/** Why this element's attributes do not fit its node type, or null. */
function elementAttributesProblem(rules: ContentRules, element: Y.XmlElement): string | null {
  for (const [name, value] of Object.entries(element.getAttributes() as Record<string, unknown>)) {
    const problem = attributeProblem(rules, element.nodeName, name, value);
    if (problem) return problem;
  }
  return null;
}

/** Why this text's content or formatting (marks) cannot be shown inside `parent`, or null. */
function textProblem(rules: ContentRules, parent: string, text: Y.XmlText): string | null {
  for (const run of text.toDelta() as Array<{ insert: unknown; attributes?: Record<string, unknown> }>) {
    if (typeof run.insert !== 'string') return 'text contains an embedded object';
    for (const [key, value] of Object.entries(run.attributes ?? {})) {
      const problem = formatProblem(rules, parent, key, value);
      if (problem) return problem;
    }
  }
  return null;
}

/** An Item of a Yjs list: the fields this file reads (stable across yjs 13). */
interface ListItem {
  id: Y.ID;
  deleted: boolean;
  countable: boolean;
  content: unknown;
  right: ListItem | null;
}

/** The live items of a Y.XmlFragment/XmlElement (including non-XML content a hostile update may put there). */
function* liveItems(list: Y.XmlFragment): Generator<ListItem> {
  for (let item = (list as unknown as { _start: ListItem | null })._start; item !== null; item = item.right) {
    if (!item.deleted && item.countable) yield item;
  }
}

interface Pending {
  item: ListItem;
  parent: string;
  depth: number;
}

/** Checks the subtrees of `start` completely, iteratively. */
function walkProblem(rules: ContentRules, start: Pending[], maxDepth: number): string | null {
  const stack = start;
  while (stack.length > 0) {
    const { item, parent, depth } = stack.pop()!;
    const node = item.content instanceof Y.ContentType ? item.content.type : null;
    if (node instanceof Y.XmlText) {
      const problem = childProblem(rules, parent, TEXT) ?? textProblem(rules, parent, node);
      if (problem) return problem;
    } else if (node instanceof Y.XmlElement) {
      const problem = childProblem(rules, parent, node.nodeName) ?? elementAttributesProblem(rules, node);
      if (problem) return problem;
      if (depth > maxDepth) return `content is nested deeper than ${maxDepth} levels`;
      for (const child of liveItems(node)) stack.push({ item: child, parent: node.nodeName, depth: depth + 1 });
    } else {
      const kind = node ? node.constructor.name : 'a value that is not an element or text';
      return `unsupported content (${kind}) in ${parent}`;
    }
  }
  return null;
}

/**
 * Why `fragment` (a y-prosemirror document) does not fit `schema`, or null when every element,
 * attribute, text and mark in it can be shown. O(size); no recursion.
 */
export function fragmentProblem(fragment: Y.XmlFragment, schema: Schema, maxDepth = MAX_NESTING_DEPTH): string | null {
  const rules = contentRules(schema);
  const start: Pending[] = [];
  for (const item of liveItems(fragment)) start.push({ item, parent: rules.topNode, depth: 1 });
  return walkProblem(rules, start.reverse(), maxDepth);
}

/** Any shared type (Yjs types its content loosely). */
type AnyType = Y.AbstractType<any>;

/** The depth of `type` below `fragment` (fragment = 0), or null if it is not (or no longer) inside it. */
function depthIn(type: AnyType, fragment: Y.XmlFragment, maxDepth: number): number | null {
  let depth = 0;
  for (let current: AnyType | null = type; current !== null; current = current.parent) {
    if (current === fragment) return depth;
    if (current._item?.deleted) return null;
    // Deeper than any accepted content: still find out whether it is ours, cheaply bounded.
    if (++depth > maxDepth + 2) return fragment === findRoot(current) ? depth : null;
  }
  return null;
}

function findRoot(type: AnyType): AnyType {
  let current = type;
  while (current.parent !== null) current = current.parent;
  return current;
}

/** Created by this transaction (or received in it): absent from the state before it. */
function isNew(item: ListItem, transaction: Y.Transaction): boolean {
  return item.id.clock >= (transaction.beforeState.get(item.id.client) ?? 0);
}

/**
 * Like fragmentProblem, but looks only at what `transaction` added or changed inside `fragment`,
 * assuming the content before it was fine. Meant for Y.Doc 'beforeObserverCalls' (the editor) or
 * right after applying an update in a transaction (a server). Types created in a transaction are
 * not in `transaction.changed`; their parent is, so new subtrees are found there and walked whole.
 */
export function changedContentProblem(transaction: Y.Transaction, fragment: Y.XmlFragment, schema: Schema, maxDepth = MAX_NESTING_DEPTH): string | null {
  const rules = contentRules(schema);
  const start: Pending[] = [];
  for (const type of transaction.changed.keys()) {
    const depth = depthIn(type, fragment, maxDepth);
    if (depth === null) continue;
    if (type instanceof Y.XmlText) {
      const parent = type.parent instanceof Y.XmlElement ? type.parent.nodeName : rules.topNode;
      const problem = textProblem(rules, parent, type);
      if (problem) return problem;
      continue;
    }
    if (type instanceof Y.XmlElement) {
      const problem = elementAttributesProblem(rules, type);
      if (problem) return problem;
    } else if (type !== (fragment as AnyType)) {
      continue; // not an XML type (a Y.Map inside an XmlHook, …): its parent was refused already
    }
    const name = type === (fragment as AnyType) ? rules.topNode : (type as Y.XmlElement).nodeName;
    for (const item of liveItems(type as Y.XmlFragment)) {
      if (isNew(item, transaction)) start.push({ item, parent: name, depth: depth + 1 });
    }
  }
  return walkProblem(rules, start, maxDepth);
}
