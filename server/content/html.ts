import { Parser } from 'htmlparser2';
import { parseHTML } from 'linkedom';
import { DOMParser, DOMSerializer, type Node as PMNode, type ParseOptions, type Schema } from 'prosemirror-model';
import { ContentError } from './fit.js';

/**
 * Elements nested deeper than this are refused before a DOM is built: ProseMirror's DOM parser
 * walks the tree recursively (~5 stack frames a level), and linkedom's tree building slows down
 * super-linearly with depth (20,000 nested divs: 0.3 s; 80,000: 5.7 s). Real HTML nests a few
 * dozen levels; unknown wrappers (div, span, section) are unwrapped, so the document itself
 * stays within MAX_NESTING_DEPTH or is refused later.
 */
export const MAX_HTML_DEPTH = 256;
/** Elements in one input: linkedom builds ~30,000 a second here (50,000 ≈ 1.5 s). */
export const MAX_HTML_ELEMENTS = 50_000;

/** A DOM node as far as the HTML helpers here need one (linkedom's, typed loosely: the server compiles without the DOM lib). */
export interface DomNode {
  nodeType: number;
  firstChild: DomNode | null;
  nextSibling: DomNode | null;
}
export interface DomDocument {
  createElement(name: string): DomNode & { appendChild(node: unknown): unknown; innerHTML: string; outerHTML: string };
  createTextNode(text: string): DomNode;
  body: DomNode & { appendChild(node: unknown): unknown };
}

/** An empty HTML document to build nodes in. */
export function emptyDocument(): DomDocument {
  return parseHTML('<!doctype html><html><head></head><body></body></html>').document as unknown as DomDocument;
}

/** Counts elements and nesting with a streaming tokenizer (no tree): why the HTML is refused, or null. */
function htmlShapeProblem(html: string): string | null {
  let depth = 0;
  let elements = 0;
  let problem: string | null = null;
  const parser = new Parser(
    {
      onopentag() {
        depth++;
        elements++;
        if (problem === null && depth > MAX_HTML_DEPTH) problem = `HTML nested deeper than ${MAX_HTML_DEPTH} levels`;
        if (problem === null && elements > MAX_HTML_ELEMENTS) problem = `HTML with more than ${MAX_HTML_ELEMENTS} elements`;
        if (problem !== null) parser.pause();
      },
      onclosetag() {
        depth--;
      },
    },
    { decodeEntities: false },
  );
  parser.write(html);
  parser.end();
  return problem;
}

/**
 * The body of an HTML document or fragment. linkedom parses fragments oddly (text outside any
 * element ends up in the first one), so a fragment is parsed inside a document of its own.
 */
function parseBody(html: string): DomNode {
  const full = /<(html|body)[\s>]/i.test(html);
  const { document } = parseHTML(full ? html : `<!doctype html><html><head></head><body>${html}</body></html>`);
  const body = (document as unknown as { body: DomNode | null }).body;
  if (!body) throw new ContentError('HTML without a body');
  return body;
}

export interface HtmlConverter {
  /** HTML → document: unknown tags unwrapped, scripts, styles and event handlers gone, links only with safe hrefs. */
  parse(html: string): PMNode;
  /** A DOM tree (e.g. built from lenient JSON) → document. */
  parseDom(dom: DomNode, options?: ParseOptions): PMNode;
  /** Document → an HTML fragment (the schema's toDOM). */
  serialize(doc: PMNode): string;
}

export function createHtmlConverter(schema: Schema): HtmlConverter {
  const parser = DOMParser.fromSchema(schema);
  const serializer = DOMSerializer.fromSchema(schema);
  const parseDom = (dom: DomNode, options?: ParseOptions) => parser.parse(dom as never, options);
  return {
    parse(html) {
      const problem = htmlShapeProblem(html);
      if (problem) throw new ContentError(problem);
      return parseDom(parseBody(html));
    },
    parseDom,
    serialize(doc) {
      const document = emptyDocument();
      const container = document.createElement('div');
      container.appendChild(serializer.serializeFragment(doc.content, { document: document as never }));
      return container.innerHTML;
    },
  };
}
