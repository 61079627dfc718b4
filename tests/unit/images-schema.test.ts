import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseContent, serializeContent } from '../../server/content/conversion.js';
import { changedContentProblem, fragmentProblem } from '../../shared/content-check.js';
import { fileUrl, imageSrcProblem, parseFileUrl, parsedImageWidth } from '../../shared/images.js';
import { PROSEMIRROR_FRAGMENT } from '../../shared/protocol.js';
import { schema } from '../../shared/schema.js';

const ID = 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg';
const OWN = fileUrl('team/notes', ID);
const image = (src: string, alt = '', width: number | null = null) => ({ type: 'image', attrs: { src, alt, width } });
const paragraph = (...content: unknown[]) => ({ type: 'paragraph', attrs: { align: null }, content });
const text = (value: string) => ({ type: 'text', text: value });
const docOf = (...content: unknown[]) => ({ type: 'doc', content });

describe('image node: sources', () => {
  it('accepts own file URLs and http(s) URLs, nothing else', () => {
    expect(OWN).toBe(`/api/documents/team%2Fnotes/files/${ID}`);
    expect(parseFileUrl(OWN)).toEqual({ document: 'team/notes', id: ID });
    for (const ok of [OWN, 'https://example.com/a.png', 'http://example.com:8080/x?y=1#z']) expect(imageSrcProblem(ok), ok).toBeNull();
    for (const bad of [
      'javascript:alert(1)',
      'data:image/png;base64,AAAA',
      'data:image/svg+xml,<svg onload=alert(1)>',
      '//evil.example/x.png',
      '/api/documents/x/files/short',
      '/api/documents/team/notes/files/' + ID, // not encoded: another path
      '/somewhere/else.png',
      'https://user@evil.example/x.png',
      'https://exa mple.com/x.png',
      'https:\\\\evil.example/x.png',
      'file:///etc/passwd',
      'https://example.com/' + 'a'.repeat(2100),
    ]) {
      expect(imageSrcProblem(bad), bad).not.toBeNull();
    }
    expect(parsedImageWidth('300')).toBe(300);
    expect(parsedImageWidth(' 240px ')).toBe(240);
    expect(parsedImageWidth('50%')).toBeNull();
    expect(parsedImageWidth('999999')).toBeNull();
  });

  it('cannot be created with a source, alt text or width the rules refuse', () => {
    expect(() => schema.nodes.image!.create({ src: 'javascript:alert(1)' })).toThrow(/src|file of this server/);
    expect(() => schema.nodes.image!.create({ src: OWN, alt: 'x'.repeat(1001) })).toThrow(/at most 1000/);
    expect(() => schema.nodes.image!.create({ src: OWN, width: 3 })).toThrow(/pixels/);
    expect(() => schema.nodes.image!.create({ src: OWN, width: '300' })).toThrow(/whole number/);
    expect(schema.nodes.image!.create({ src: OWN, alt: 'ok', width: 320 }).attrs).toEqual({ src: OWN, alt: 'ok', width: 320 });
  });
});

describe('image node: conversions', () => {
  const withImages = docOf(
    paragraph(text('Before '), image(OWN, 'Quarterly chart'), text(' after')),
    paragraph(image('https://example.com/logo.png', 'Logo [brand] (2024)')),
  );
  const withWidth = docOf(paragraph(image(OWN, 'Sized', 320)));

  it.each(['json', 'html', 'markdown'] as const)('round-trips src and alt through %s', (format) => {
    const doc = schema.nodeFromJSON(withImages);
    expect(parseContent(format, serializeContent(format, doc)).toJSON()).toEqual(withImages);
  });

  it('round-trips the width through JSON and HTML; Markdown has no syntax for it', () => {
    const doc = schema.nodeFromJSON(withWidth);
    expect(parseContent('json', serializeContent('json', doc)).toJSON()).toEqual(withWidth);
    expect(serializeContent('html', doc)).toMatch(/^<p><img [^>]*width="320"[^>]*><\/p>$/);
    expect(parseContent('html', serializeContent('html', doc)).toJSON()).toEqual(withWidth);
    expect(serializeContent('markdown', doc)).toBe(`![Sized](${OWN})`);
    expect(parseContent('markdown', serializeContent('markdown', doc)).toJSON()).toEqual(docOf(paragraph(image(OWN, 'Sized'))));
  });

  it('writes Markdown images as ![alt](src), escaping what Markdown would read otherwise', () => {
    expect(serializeContent('markdown', schema.nodeFromJSON(withImages))).toBe(
      `Before ![Quarterly chart](${OWN}) after\n\n![Logo \\[brand\\] (2024)](https://example.com/logo.png)`,
    );
  });

  it('imports HTML images: width from the attribute or the style; unsafe sources dropped', () => {
    const parsed = parseContent(
      'html',
      `<p><img src="https://example.com/a.png" alt="A" style="width: 200px; height: 100px"><img src="data:image/png;base64,AAAA" alt="inline data">` +
        `<img src="javascript:alert(1)"><img src="https://example.com/b.png" width="50%"></p>`,
    );
    expect(parsed.toJSON()).toEqual(docOf(paragraph(image('https://example.com/a.png', 'A', 200), image('https://example.com/b.png'))));
  });

  it('imports lenient JSON: an image with a bad source is left out, one with a bad width keeps its source', () => {
    const parsed = parseContent('json', JSON.stringify(docOf(paragraph(text('x'), image('javascript:alert(1)'), { type: 'image', attrs: { src: OWN, width: 'huge' } }))));
    expect(parsed.toJSON()).toEqual(docOf(paragraph(text('x'), image(OWN))));
  });
});

describe('image node: what the server accepts in updates (content rules)', () => {
  const withImage = (attrs: Record<string, unknown>) => {
    const doc = new Y.Doc();
    const fragment = doc.getXmlFragment(PROSEMIRROR_FRAGMENT);
    const p = new Y.XmlElement('paragraph');
    const img = new Y.XmlElement('image');
    for (const [name, value] of Object.entries(attrs)) img.setAttribute(name, value as string);
    p.insert(0, [img]);
    fragment.insert(0, [p]);
    return fragment;
  };

  it('accepts what y-prosemirror writes for an image, refuses bad sources and oversized attributes', () => {
    expect(fragmentProblem(withImage({ src: OWN, alt: 'Chart', width: 320 }), schema)).toBeNull();
    expect(fragmentProblem(withImage({ src: OWN }), schema)).toBeNull();
    expect(fragmentProblem(withImage({ src: 'javascript:alert(1)' }), schema)).toMatch(/attribute "src" of image must be/);
    expect(fragmentProblem(withImage({ src: 'data:image/png;base64,AAAA' }), schema)).toMatch(/src/);
    expect(fragmentProblem(withImage({ src: OWN, alt: 'x'.repeat(5000) }), schema)).toMatch(/alt/);
    expect(fragmentProblem(withImage({ src: OWN, width: 1e9 }), schema)).toMatch(/width/);
    expect(fragmentProblem(withImage({ src: OWN, onerror: 'alert(1)' }), schema)).toMatch(/unknown attribute "onerror"/);
  });

  it('refuses an image with a bad source set later, in the transaction that sets it', () => {
    const fragment = withImage({ src: OWN });
    const img = (fragment.get(0) as Y.XmlElement).get(0) as Y.XmlElement;
    let problem: string | null = null;
    fragment.doc!.on('beforeObserverCalls', (transaction: Y.Transaction) => {
      problem = changedContentProblem(transaction, fragment, schema);
    });
    img.setAttribute('src', 'https://example.com/ok.png');
    expect(problem).toBeNull();
    img.setAttribute('src', 'vbscript:msgbox(1)');
    expect(problem).toMatch(/src/);
  });
});
