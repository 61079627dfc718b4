/**
 * Version history on two instances sharing PostgreSQL (and Redis): both hold the same document
 * while people edit it on each; automatic versions are recorded once per state, never twice;
 * a restore through instance A reaches the clients of instance B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { waitFor } from '../helpers/wait.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { addParagraph, named, paragraphs, typeInto, versionsApi } from './history-harness.js';

const INTERVAL_MS = 700;

describe('version history on two instances (PostgreSQL + Redis)', () => {
  let cluster: Cluster;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    cluster = await startCluster(2, { VERSION_INTERVAL_MS: String(INTERVAL_MS) });
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await cluster?.stop();
  });
  const client = async (instance: number, document: string, name: string) => {
    const created = named(connectClient(cluster.servers[instance]!.syncUrl, document), name);
    clients.push(created);
    await synced(created);
    return created;
  };

  it('records no duplicate automatic versions, and a restore on A is seen on B', async () => {
    const document = 'cluster/plan';
    const a = await client(0, document, 'Ada');
    const b = await client(1, document, 'Bob');
    addParagraph(a.doc, 'Plan');
    await waitFor(() => paragraphs(b.doc).length === 1, 'B to see the plan');
    // Both instances commit edits for several intervals: each runs its own timer for the document.
    for (let round = 0; round < 12; round++) {
      typeInto(round % 2 === 0 ? a.doc : b.doc, 0, round % 2 === 0 ? ' a' : ' b');
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS / 3));
    }
    const api = versionsApi(() => cluster.servers[0]!.httpUrl);
    const final = paragraphs(a.doc).join('\n');
    await waitFor(() => paragraphs(b.doc).join('\n') === final, 'both instances’ clients to converge');
    await waitFor(async () => {
      const versions = await api.list(document);
      return versions.length > 0 && (await api.content(document, versions[0]!.id)) === final;
    }, 'a version of the final text', 20_000);

    const versions = (await api.list(document)).filter((v) => v.kind === 'automatic');
    // One version per state: no two at the same seq, no two with the same content, and never two
    // within half an interval of each other (one instance's attempt gave way to the other's).
    expect(new Set(versions.map((v) => v.seq)).size).toBe(versions.length);
    const contents = await Promise.all(versions.map((v) => api.content(document, v.id)));
    expect(new Set(contents).size).toBe(contents.length);
    const times = versions.map((v) => v.createdAt).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(INTERVAL_MS / 2);
    // Both instances' editors are named (the one that gave way merged its authors in).
    expect([...new Set(versions.flatMap((v) => v.authors))].sort()).toEqual(['Ada', 'Bob']);
    // B answers the same list.
    expect(await versionsApi(() => cluster.servers[1]!.httpUrl).list(document)).toEqual(await api.list(document));

    // Restore the oldest version through A: B's client sees it live.
    const oldest = versions[versions.length - 1]!;
    const oldText = await api.content(document, oldest.id);
    expect(oldText).not.toBe(final);
    await api.restore(document, oldest.id);
    await waitFor(() => paragraphs(b.doc).join('\n') === oldText, 'the client on B to see the restore made through A');
    await waitFor(() => paragraphs(a.doc).join('\n') === oldText, 'the client on A to see it');
    expect(cluster.problems().filter((line) => !line.includes('RUNNING OPEN') && !line.includes('AUTH_SECRET'))).toEqual([]);
  });
});
