/**
 * What the version history tests share: the editor's content as stock clients edit it (paragraphs
 * of the ProseMirror fragment), and the versions API.
 */
import * as Y from 'yjs';
import type { TestClient } from '../helpers/clients.js';

export const FRAGMENT = 'prosemirror';

export interface VersionJson {
  id: string;
  createdAt: number;
  label: string | null;
  kind: 'automatic' | 'manual' | 'restore';
  authors: string[];
  bytes: number;
  seq: number;
}

/** The text of a document, a line per top-level block. */
export const paragraphs = (doc: Y.Doc): string[] =>
  doc
    .getXmlFragment(FRAGMENT)
    .toArray()
    .map((block) => (block instanceof Y.XmlElement ? block.toArray().map((child) => (child instanceof Y.XmlText ? child.toString() : '')).join('') : ''));

/** Appends a paragraph holding `text`, as the editor would. */
export function addParagraph(doc: Y.Doc, text: string): void {
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [new Y.XmlText(text)]);
  doc.getXmlFragment(FRAGMENT).push([paragraph]);
}

/** Types `text` at the end of paragraph `index`. */
export function typeInto(doc: Y.Doc, index: number, text: string): void {
  const paragraph = doc.getXmlFragment(FRAGMENT).get(index) as Y.XmlElement;
  const content = paragraph.get(0) as Y.XmlText;
  content.insert(content.length, text);
}

export interface VersionsApi {
  list(name: string, headers?: Record<string, string>): Promise<VersionJson[]>;
  /** How many versions the document has; 0 also while it does not exist yet (404). */
  count(name: string): Promise<number>;
  save(name: string, label: string, headers?: Record<string, string>): Promise<VersionJson>;
  content(name: string, id: string, format?: string): Promise<string>;
  restore(name: string, id: string, headers?: Record<string, string>): Promise<{ restored: VersionJson; before: VersionJson }>;
  /** The document's content now; null while it does not exist (yet). */
  current(name: string, format?: string): Promise<string | null>;
  put(name: string, markdown: string): Promise<void>;
}

export function versionsApi(baseUrl: () => string): VersionsApi {
  const path = (name: string, rest = '') => `${baseUrl()}/api/documents/${encodeURIComponent(name)}${rest}`;
  const ok = async (response: Response, status = 200) => {
    if (response.status !== status) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
    return response;
  };
  const json = { 'content-type': 'application/json' };
  return {
    list: async (name, headers = {}) => ((await (await ok(await fetch(path(name, '/versions'), { headers }))).json()) as { versions: VersionJson[] }).versions,
    count: async (name) => {
      const response = await fetch(path(name, '/versions'));
      if (response.status === 404) return 0;
      return ((await (await ok(response)).json()) as { versions: VersionJson[] }).versions.length;
    },
    save: async (name, label, headers = {}) =>
      (await (await ok(await fetch(path(name, '/versions'), { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify({ label }) }), 201)).json()) as VersionJson,
    content: async (name, id, format = 'text') => (await ok(await fetch(path(name, `/versions/${id}/content?format=${format}`)))).text(),
    restore: async (name, id, headers = {}) =>
      (await (await ok(await fetch(path(name, `/versions/${id}/restore`), { method: 'POST', headers: { ...json, ...headers }, body: '{}' }))).json()) as {
        restored: VersionJson;
        before: VersionJson;
      },
    current: async (name, format = 'text') => {
      const response = await fetch(path(name, `/content?format=${format}`));
      return response.status === 404 ? null : (await ok(response)).text();
    },
    put: async (name, markdown) => {
      const response = await fetch(path(name, '/content'), { method: 'PUT', headers: { 'content-type': 'text/markdown' }, body: markdown });
      if (response.status !== 200 && response.status !== 201) throw new Error(`PUT ${name}: ${response.status} ${await response.text()}`);
    },
  };
}

/** A stock client that announces `name` in its awareness, as an editor does. */
export function named(client: TestClient, name: string): TestClient {
  client.provider.awareness.setLocalStateField('user', { name });
  return client;
}
