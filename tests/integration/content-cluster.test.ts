import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { synced, type TestClient } from '../helpers/clients.js';
import { waitFor } from '../helpers/wait.js';
import { clientPool, startCluster, type Cluster } from './cluster-harness.js';

// Two instances on PostgreSQL + Redis: content written through one is read through the other, and
// a deletion through one closes the document's clients on both and keeps it deleted for both.
let cluster: Cluster;
const clients = clientPool();

beforeAll(async () => {
  cluster = await startCluster(2);
});
afterAll(async () => {
  clients.destroyAll();
  await cluster?.stop();
});

const api = (instance: number, path: string, init?: RequestInit) => fetch(`${cluster.servers[instance]!.httpUrl}${path}`, init);
const putText = (instance: number, name: string, text: string) =>
  api(instance, `/api/documents/${encodeURIComponent(name)}/content`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: text });
const textOn = async (instance: number, name: string) => {
  const response = await api(instance, `/api/documents/${encodeURIComponent(name)}/content?format=text`);
  return response.status === 200 ? response.text() : `(${response.status})`;
};
const nextClose = (client: TestClient) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    const onClose = (event: { code: number; reason: string } | null) => {
      if (!event) return;
      client.provider.off('connection-close', onClose as never);
      resolve({ code: event.code, reason: event.reason });
    };
    client.provider.on('connection-close', onClose as never);
  });

describe('content API on several instances (PostgreSQL + Redis)', () => {
  it('reads on one instance what was written on the other at once, and searches PostgreSQL', async () => {
    expect((await putText(0, 'cluster/doc', 'Written on the first instance')).status).toBe(201);
    expect(await textOn(1, 'cluster/doc')).toBe('Written on the first instance');
    const etag = (await api(1, '/api/documents/cluster%2Fdoc/content')).headers.get('etag');
    expect((await api(0, '/api/documents/cluster%2Fdoc/content')).headers.get('etag')).toBe(etag);
    const appended = await api(1, '/api/documents/cluster%2Fdoc/content?mode=append', { method: 'PUT', headers: { 'content-type': 'text/markdown', 'if-match': etag! }, body: '**and on the second**' });
    expect(appended.status).toBe(200);
    expect(await textOn(0, 'cluster/doc')).toBe('Written on the first instance\nand on the second');
    // The first instance's ETag is stale now: its If-Match fails there too.
    expect((await api(0, '/api/documents/cluster%2Fdoc/content', { method: 'PUT', headers: { 'content-type': 'text/plain', 'if-match': etag! }, body: 'x' })).status).toBe(412);
    const found = await api(1, '/api/documents?q=second');
    expect(((await found.json()) as { documents: Array<{ name: string }> }).documents.map((d) => d.name)).toEqual(['cluster/doc']);
  });

  it('deletes on every instance: clients of both closed with 4404, none brings it back, gone after a restart', async () => {
    expect((await putText(0, 'cluster/doomed', 'Doomed in the cluster')).status).toBe(201);
    const onFirst = clients.connect(cluster.servers[0]!.syncUrl, 'cluster/doomed');
    const onSecond = clients.connect(cluster.servers[1]!.syncUrl, 'cluster/doomed');
    await Promise.all([synced(onFirst), synced(onSecond)]);
    await waitFor(() => onSecond.doc.getXmlFragment('prosemirror').length === 1, 'the second client to hold the document');
    const closes = [nextClose(onFirst), nextClose(onSecond)];
    expect((await api(0, '/api/documents/cluster%2Fdoomed', { method: 'DELETE' })).status).toBe(204);
    for (const closed of await Promise.all(closes)) expect(closed).toEqual({ code: 4404, reason: 'document deleted' });

    // Both reconnect, with edits of their own, each to the other instance: refused, nothing stored.
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText('resurrection attempt')]);
    onSecond.doc.getXmlFragment('prosemirror').push([paragraph]);
    const again = [nextClose(onFirst), nextClose(onSecond)];
    onFirst.provider.connect();
    onSecond.provider.connect();
    for (const closed of await Promise.all(again)) expect(closed).toEqual({ code: 4404, reason: 'document deleted' });
    for (const instance of [0, 1]) {
      expect(await textOn(instance, 'cluster/doomed')).toBe('(404)');
      const list = (await (await api(instance, '/api/documents')).json()) as { documents: Array<{ name: string }> };
      expect(list.documents.map((d) => d.name)).not.toContain('cluster/doomed');
      expect(((await (await api(instance, '/api/documents?q=doomed')).json()) as { documents: unknown[] }).documents).toEqual([]);
    }
    expect((await api(1, '/api/documents/cluster%2Fdoomed', { method: 'DELETE' })).status).toBe(404);

    // A new instance (as after a restart) finds it deleted too.
    const third = await cluster.addInstance();
    const late = clients.connect(third.syncUrl, 'cluster/doomed');
    expect(await nextClose(late)).toEqual({ code: 4404, reason: 'document deleted' });
    expect((await fetch(`${third.httpUrl}/api/documents/cluster%2Fdoomed/content`)).status).toBe(404);
  });
});
