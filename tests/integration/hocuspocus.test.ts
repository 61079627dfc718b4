import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSocket, hocuspocusSynced, type HocuspocusClient } from '../helpers/hocuspocus.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const text = (doc: Y.Doc) => doc.getText('t').toString();

describe('@hocuspocus/provider clients on ws://host/sync', () => {
  const server = useServer();
  const cleanup: Array<{ destroy(): void }> = [];
  afterEach(() => {
    for (const item of cleanup.splice(0).reverse()) item.destroy();
  });
  const hocuspocus = (name: string, options: Parameters<typeof connectHocuspocus>[2] = {}): HocuspocusClient => {
    const client = connectHocuspocus(server().syncUrl, name, options);
    cleanup.push(client);
    return client;
  };
  const yws = (name: string): TestClient => {
    const client = connectClient(server().syncUrl, name);
    cleanup.push(client);
    return client;
  };

  it('two providers converge, and each edit is confirmed once committed', async () => {
    const a = hocuspocus('pair');
    const b = hocuspocus('pair');
    await Promise.all([hocuspocusSynced(a), hocuspocusSynced(b)]);
    a.doc.getText('t').insert(0, 'from a. ');
    b.doc.getText('t').insert(0, 'from b. ');
    await waitFor(() => text(a.doc) === text(b.doc) && text(a.doc).length === 16, 'both providers to hold both edits');
    await Promise.all([hocuspocusSaved(a), hocuspocusSaved(b)]);
    expect(a.provider.authorizedScope).toBe('read-write');
    // A newcomer loads what was committed.
    const c = hocuspocus('pair');
    await hocuspocusSynced(c);
    expect(text(c.doc)).toBe(text(a.doc));
  });

  it('three documents over one shared socket all sync; a document detached and attached again on the live socket catches up', async () => {
    const socket = hocuspocusSocket(server().syncUrl);
    cleanup.push(socket);
    const names = ['multi-1', 'multi-2', 'multi-3'];
    const shared = names.map((name) => hocuspocus(name, { websocket: socket }));
    const others = names.map((name) => hocuspocus(name));
    await Promise.all([...shared, ...others].map((client) => hocuspocusSynced(client)));
    shared.forEach((client, i) => client.doc.getText('t').insert(0, `shared ${i}`));
    others.forEach((client, i) => client.doc.getText('t').insert(0, `other ${i} `));
    for (const [i, name] of names.entries()) {
      await waitFor(() => text(shared[i]!.doc) === text(others[i]!.doc) && text(shared[i]!.doc).length > 12, `${name} to converge`);
      expect(text(shared[i]!.doc)).toContain(`shared ${i}`);
      expect(text(shared[i]!.doc)).not.toContain(`shared ${(i + 1) % 3}`);
    }
    await Promise.all(shared.map((client) => hocuspocusSaved(client)));

    // Detach the second document: edits made meanwhile reach it once it is attached again.
    shared[1]!.provider.detach();
    others[1]!.doc.getText('t').insert(0, 'while detached ');
    await hocuspocusSaved(others[1]!);
    expect(text(shared[1]!.doc)).not.toContain('while detached');
    shared[1]!.provider.attach();
    await waitFor(() => text(shared[1]!.doc).includes('while detached'), 'the re-attached document to catch up');
    // The other documents of the socket were not disturbed.
    shared[0]!.doc.getText('t').insert(0, 'still here ');
    await waitFor(() => text(others[0]!.doc).includes('still here'), 'the first document to keep syncing');
    expect(shared.every((client) => client.closes.length === 0)).toBe(true);
  });

  it('a y-websocket client and a Hocuspocus provider in one document see each other’s edits and cursors', async () => {
    const tiptap = hocuspocus('mixed');
    const stock = yws('mixed');
    await Promise.all([hocuspocusSynced(tiptap), synced(stock)]);
    tiptap.provider.setAwarenessField('user', { name: 'Tia' });
    stock.provider.awareness.setLocalStateField('user', { name: 'Stan' });
    tiptap.doc.getText('t').insert(0, 'tiptap ');
    stock.doc.getText('t').insert(0, 'stock ');
    await waitFor(() => text(tiptap.doc) === text(stock.doc) && text(stock.doc).length === 13, 'the two kinds of client to converge');
    const names = (states: Map<number, Record<string, unknown>>) => [...states.values()].map((state) => (state.user as { name?: string } | undefined)?.name).filter(Boolean).sort();
    await waitFor(() => names(tiptap.provider.awareness!.getStates()).join() === 'Stan,Tia', 'the provider to see the stock client’s cursor');
    await waitFor(() => names(stock.provider.awareness.getStates()).join() === 'Stan,Tia', 'the stock client to see the provider’s cursor');
  });

  it('a provider that resyncs on its own (forceSyncInterval) gets back to no unsynced changes each time', async () => {
    const doc = new Y.Doc();
    const resyncing = connectHocuspocus(server().syncUrl, 'force-sync', { doc, forceSyncInterval: 100 });
    cleanup.push(resyncing);
    await hocuspocusSaved(resyncing);
    let resyncs = 0;
    resyncing.provider.on('outgoingMessage', ({ message }: { message: { description?: string } }) => {
      if (message.description === 'First sync step') resyncs++;
    });
    doc.getText('t').insert(0, 'edit between resyncs');
    await waitFor(() => resyncs >= 3, 'three forced resyncs');
    await hocuspocusSaved(resyncing);
    const reader = hocuspocus('force-sync');
    await hocuspocusSynced(reader);
    expect(text(reader.doc)).toBe('edit between resyncs');
  });

  it('stateless messages are accepted and never break the connection', async () => {
    const a = hocuspocus('stateless');
    const b = hocuspocus('stateless');
    await Promise.all([hocuspocusSynced(a), hocuspocusSynced(b)]);
    for (let i = 0; i < 20; i++) a.provider.sendStateless(JSON.stringify({ ping: i }));
    a.doc.getText('t').insert(0, 'after stateless');
    await waitFor(() => text(b.doc) === 'after stateless', 'an edit sent after stateless messages to arrive');
    await hocuspocusSaved(a);
    expect(a.closes).toEqual([]);
  });

  it('a Tiptap-only document (fragment `default`, StarterKit names) is stored as it is; in `prosemirror` the editor’s schema applies and a refused update ends that document only', async () => {
    const tiptap = hocuspocus('tiptap-only');
    await hocuspocusSynced(tiptap);
    // What y-tiptap writes for a bullet list with a bold word, in Tiptap's own fragment.
    const writeList = (fragment: Y.XmlFragment) => {
      const list = new Y.XmlElement('bulletList');
      const item = new Y.XmlElement('listItem');
      const paragraph = new Y.XmlElement('paragraph');
      const words = new Y.XmlText();
      words.insert(0, 'bold', { bold: true });
      paragraph.insert(0, [words]);
      item.insert(0, [paragraph]);
      list.insert(0, [item]);
      fragment.insert(0, [list]);
    };
    writeList(tiptap.doc.getXmlFragment('default'));
    await hocuspocusSaved(tiptap);
    const reader = hocuspocus('tiptap-only');
    await hocuspocusSynced(reader);
    const list = reader.doc.getXmlFragment('default').get(0) as Y.XmlElement;
    expect(list.nodeName).toBe('bulletList');
    const words = ((list.get(0) as Y.XmlElement).get(0) as Y.XmlElement).get(0) as Y.XmlText;
    expect(words.toDelta()).toEqual([{ insert: 'bold', attributes: { bold: true } }]);

    // The same in the editor's fragment: refused, that document closed with the reason, nothing stored.
    const socket = hocuspocusSocket(server().syncUrl);
    cleanup.push(socket);
    const mixed = hocuspocus('shared-schema', { websocket: socket });
    const neighbour = hocuspocus('shared-schema-neighbour', { websocket: socket });
    await Promise.all([hocuspocusSynced(mixed), hocuspocusSynced(neighbour)]);
    writeList(mixed.doc.getXmlFragment('prosemirror'));
    await waitFor(() => mixed.closes.length > 0, 'the refused document to be closed');
    expect(mixed.closes[0]).toMatch(/^update refused: unknown node "bulletList"/);
    neighbour.doc.getText('t').insert(0, 'unaffected');
    await hocuspocusSaved(neighbour);
    const check = hocuspocus('shared-schema');
    await hocuspocusSynced(check);
    expect(check.doc.getXmlFragment('prosemirror').length).toBe(0);
  });
});

