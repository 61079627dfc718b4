import * as Y from 'yjs';
import { MAX_NESTING_DEPTH, TEXT, attributeProblem, childProblem, formatProblem, type ContentRules } from '../../shared/content-rules.js';

/** Root types a document may have (an editor document uses two: the fragment and the meta map). */
export const MAX_ROOT_TYPES = 64;

/** Where a shared type sits: its kind and how deep. */
interface Place {
  /** The root type's name. */
  root: string;
  /** 0 for a root type, 1 for its children, ... */
  depth: number;
  /** The element's node name, TEXT for a Y.XmlText, '' for a root, null for other types. */
  kind: string | null;
  /** For a Y.XmlText: the node name of the element it is in (its marks must be allowed there). */
  container: string | null;
}

type Struct = Y.Item | Y.GC | Y.Skip;

/** New items of an update by client, sorted by clock, for lookups of IDs inside them. */
class NewItems {
  private readonly byClient = new Map<number, Y.Item[]>();

  constructor(structs: readonly Struct[]) {
    for (const struct of structs) {
      if (!(struct instanceof Y.Item)) continue;
      let list = this.byClient.get(struct.id.client);
      if (!list) this.byClient.set(struct.id.client, (list = []));
      list.push(struct);
    }
    for (const list of this.byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock);
  }

  find(id: Y.ID): Y.Item | null {
    const list = this.byClient.get(id.client);
    if (!list) return null;
    let low = 0;
    let high = list.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const item = list[mid]!;
      if (id.clock < item.id.clock) high = mid - 1;
      else if (id.clock >= item.id.clock + item.length) low = mid + 1;
      else return item;
    }
    return null;
  }
}

const MISSING = Symbol('missing');
type Missing = typeof MISSING;
/** What an item is inserted into: a type already in the document (its place) or one this update creates. */
type ParentRef = { parent: Place | Y.Item; parentSub: string | null };

function typeKind(type: Y.AbstractType<any>): string | null {
  if (type instanceof Y.XmlElement) return type.nodeName;
  if (type instanceof Y.XmlText) return TEXT;
  return null;
}

const rootPlace = (root: string): Place => ({ root, depth: 0, kind: '', container: null });

/**
 * Checks the new content of a decoded update against a document before it is applied: nesting
 * depth, and, inside the editor's fragment, the schema's rules (see ContentRules). Every walk is
 * iterative and bounded (by MAX_NESTING_DEPTH upwards, by the update's size sideways), whatever
 * the update holds.
 *
 * Items whose parent cannot be known yet (a dependency is missing: Yjs will hold them back as
 * pending) are not checked here; `unresolved` counts them, and the caller checks them again,
 * together with the update that completes them, before that one is applied.
 */
export class UpdateStructureCheck {
  private readonly typePlaces = new Map<Y.AbstractType<any>, Place>();
  private readonly newTypePlaces = new Map<Y.Item, Place | Missing>();
  private readonly parentRefs = new Map<Y.Item, ParentRef | Missing>();
  private readonly items: NewItems;
  unresolved = 0;

  constructor(
    private readonly doc: Y.Doc,
    private readonly structs: readonly Struct[],
    private readonly fragmentName: string,
    private readonly rules: ContentRules,
  ) {
    this.items = new NewItems(structs);
  }

  /** Why the update may not be applied, or null. */
  problem(): string | null {
    const newRoots = new Set<string>();
    for (const struct of this.structs) {
      if (!(struct instanceof Y.Item)) continue;
      if (typeof struct.parent === 'string' && !this.doc.share.has(struct.parent)) newRoots.add(struct.parent);
      const ref = this.parentRef(struct);
      if (typeof ref === 'string') return ref;
      const place = ref === MISSING ? MISSING : this.placeOf(ref.parent);
      if (typeof place === 'string') return place;
      if (ref === MISSING || place === MISSING) {
        this.unresolved++;
        continue;
      }
      const problem = this.itemProblem(struct, place, ref.parentSub);
      if (problem) return problem;
    }
    if (newRoots.size > 0 && this.doc.share.size + newRoots.size > MAX_ROOT_TYPES) return `more than ${MAX_ROOT_TYPES} root types`;
    return null;
  }

  private itemProblem(item: Y.Item, parent: Place, parentSub: string | null): string | null {
    const content = item.content;
    if (content instanceof Y.ContentType && parent.depth + 1 > MAX_NESTING_DEPTH) return `content nested deeper than ${MAX_NESTING_DEPTH} levels`;
    if (parent.root !== this.fragmentName || content instanceof Y.ContentDeleted) return null;
    const kind = parent.kind;
    if (kind === TEXT) {
      if (parentSub !== null) return 'text has no attributes';
      if (content instanceof Y.ContentString) return null;
      if (content instanceof Y.ContentFormat) return formatProblem(this.rules, parent.container ?? this.rules.topNode, content.key, content.value);
      return 'text may hold only characters and marks';
    }
    if (kind === null) return 'the document fragment may hold only editor content';
    const node = kind === '' ? this.rules.topNode : kind;
    if (parentSub !== null) {
      if (kind === '') return 'the document fragment has no attributes';
      if (!(content instanceof Y.ContentAny)) return `attribute "${parentSub}" of ${node} is not a plain value`;
      return attributeProblem(this.rules, node, parentSub, content.arr[content.arr.length - 1]);
    }
    const child = content instanceof Y.ContentType ? typeKind(content.type) : null;
    if (child === null) return `${node} may hold only elements and text`;
    return childProblem(this.rules, node, child);
  }

  /**
   * What `start` is inserted into. An item that names no parent has its neighbour's (origin or
   * right origin): those chains are followed iteratively and remembered, so an update's items are
   * each visited once however they chain.
   */
  private parentRef(start: Y.Item): ParentRef | Missing | string {
    const chain: Y.Item[] = [];
    let item = start;
    let answer: ParentRef | Missing | string;
    for (;;) {
      const known = this.parentRefs.get(item);
      if (known !== undefined) {
        answer = known;
        break;
      }
      if (item.parent !== null) {
        answer = this.namedParent(item.parent as Y.ID | string, item.parentSub);
        break;
      }
      const neighbour = item.origin ?? item.rightOrigin;
      if (!neighbour) {
        answer = 'malformed update: an item without parent or neighbours';
        break;
      }
      const next = this.lookup(neighbour);
      if (!(next instanceof Y.Item)) {
        answer = MISSING; // not there yet, or garbage-collected (then Yjs drops the item)
        break;
      }
      if (this.isIntegrated(next)) {
        answer = next.parent instanceof Y.AbstractType ? { parent: this.placeOfType(next.parent), parentSub: next.parentSub } : MISSING;
        break;
      }
      chain.push(item);
      if (chain.length > this.structs.length) {
        answer = 'malformed update: circular references';
        break;
      }
      item = next;
    }
    if (typeof answer === 'string') return answer;
    for (const link of chain) this.parentRefs.set(link, answer);
    this.parentRefs.set(item, answer);
    return answer;
  }

  private namedParent(parent: Y.ID | string, parentSub: string | null): ParentRef | Missing {
    if (typeof parent === 'string') return { parent: this.doc.share.has(parent) ? this.placeOfType(this.doc.share.get(parent)!) : rootPlace(parent), parentSub };
    const owner = this.lookup(parent);
    // A parent that is missing, garbage-collected or not a type: Yjs holds the item back or drops it.
    if (!(owner instanceof Y.Item) || !(owner.content instanceof Y.ContentType)) return MISSING;
    return { parent: this.isIntegrated(owner) ? this.placeOfType(owner.content.type) : owner, parentSub };
  }

  /** The place of a parent: known already, or a type this update creates (walked up iteratively). */
  private placeOf(parent: Place | Y.Item): Place | Missing | string {
    const chain: Y.Item[] = [];
    let base: Place | Missing | undefined;
    let next: Place | Y.Item = parent;
    while (base === undefined) {
      if (!(next instanceof Y.Item)) {
        base = next;
        break;
      }
      const known = this.newTypePlaces.get(next);
      if (known !== undefined) {
        base = known;
        break;
      }
      chain.push(next);
      if (chain.length > MAX_NESTING_DEPTH + 1) return `content nested deeper than ${MAX_NESTING_DEPTH} levels`;
      const ref = this.parentRef(next);
      if (typeof ref === 'string') return ref;
      if (ref === MISSING) base = MISSING;
      else next = ref.parent;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const owner = chain[i]!;
      if (base !== MISSING) {
        const type = (owner.content as Y.ContentType).type;
        base = { root: base.root, depth: base.depth + 1, kind: typeKind(type), container: base.kind === '' ? null : base.kind };
      }
      this.newTypePlaces.set(owner, base);
    }
    return base;
  }

  private lookup(id: Y.ID): Y.Item | Y.GC | null {
    const fresh = this.items.find(id);
    if (fresh) return fresh;
    if (id.clock >= Y.getState(this.doc.store, id.client)) return null;
    try {
      return Y.getItem(this.doc.store, id) as Y.Item | Y.GC;
    } catch {
      return null;
    }
  }

  private isIntegrated(item: Y.Item): boolean {
    return this.items.find(item.id) !== item;
  }

  /** Where an integrated type sits; walks up at most MAX_NESTING_DEPTH + 1 levels. */
  private placeOfType(type: Y.AbstractType<any>): Place {
    const cached = this.typePlaces.get(type);
    if (cached) return cached;
    let depth = 0;
    let top = type;
    while (top._item && depth <= MAX_NESTING_DEPTH + 1) {
      const parent = top._item.parent;
      if (!(parent instanceof Y.AbstractType)) break;
      top = parent;
      depth++;
    }
    // A chain deeper than the bound (stored before it existed) is no root's: nothing more goes in.
    const root = top._item ? '' : Y.findRootTypeKey(top);
    const parent = type._item?.parent;
    const place: Place = {
      root,
      depth: top._item ? MAX_NESTING_DEPTH + 1 : depth,
      kind: type._item ? typeKind(type) : '',
      container: parent instanceof Y.XmlElement ? parent.nodeName : null,
    };
    this.typePlaces.set(type, place);
    return place;
  }
}
