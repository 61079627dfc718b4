import { afterAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('HTTP API', () => {
  const server = useServer();
  const clients: TestClient[] = [];
  const api = (path: string, init?: RequestInit) => fetch(`${server().httpUrl}${path}`, init);
  const post = (body: unknown) => api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('reports health and Prometheus metrics', async () => {
    const health = await api('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { storage: 'ok' } });
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toMatch(/^collab_connections \d+/m);
    expect(metrics).toMatch(/collab_persist_seconds_bucket/);
  });

  it('creates documents, refuses bad input with clear errors, and lists most recently edited first', async () => {
    const created = await post({ name: 'Design review', title: 'Design review' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'Design review', title: 'Design review' });

    const generated = await post({});
    expect(generated.status).toBe(201);
    const { name: generatedName } = (await generated.json()) as { name: string };
    expect(generatedName).toMatch(/^[\w-]{8,}$/);

    expect((await post({ name: 'Design review' })).status).toBe(409);
    const badName = await post({ name: ' padded ' });
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { error: string }).error).toMatch(/whitespace/);
    expect((await post({ name: 42 })).status).toBe(400);
    expect((await post({ title: 'x'.repeat(500) })).status).toBe(400);
    const notJson = await api('/api/documents/Design%20review', { method: 'PATCH', body: 'nope', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect((await api('/api/documents?limit=0')).status).toBe(400);
    expect((await api('/api/documents/nobody-here')).status).toBe(404);

    // Editing a document moves it to the top, and its first line becomes its title.
    const editor = connectClient(server().syncUrl, generatedName);
    clients.push(editor);
    await synced(editor);
    const fragment = editor.doc.getXmlFragment('prosemirror');
    const { XmlElement, XmlText } = await import('yjs');
    const paragraph = new XmlElement('paragraph');
    paragraph.insert(0, [new XmlText('Quarterly planning notes')]);
    fragment.insert(0, [paragraph]);
    await waitFor(async () => {
      const { documents } = (await (await api('/api/documents')).json()) as { documents: Array<{ name: string; title: string }> };
      return documents[0]?.name === generatedName && documents[0]?.title === 'Quarterly planning notes';
    }, 'the edited document to be listed first with its derived title', 15_000, 200);
  });

  it('sets a title that editors see live in the document', async () => {
    const watcher = connectClient(server().syncUrl, 'Design review');
    clients.push(watcher);
    await synced(watcher);
    const response = await api('/api/documents/Design%20review', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Design review (final)' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: 'Design review (final)' });
    await waitFor(() => watcher.doc.getMap('meta').get('title') === 'Design review (final)', 'the title to reach the editor');
  });

  it('answers unknown paths with a JSON 404', async () => {
    const response = await api('/no/such/thing');
    expect(response.status).toBe(404);
    expect(await response.json()).toHaveProperty('error');
  });
});
