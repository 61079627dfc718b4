import { afterAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { addParagraph, named, paragraphs, typeInto, versionsApi } from './history-harness.js';
import { SECRET, token } from './security-harness.js';

const clients: TestClient[] = [];
const client = async (syncUrl: string, document: string, name?: string) => {
  const created = connectClient(syncUrl, document);
  clients.push(created);
  if (name) named(created, name);
  await synced(created);
  return created;
};
afterAll(() => {
  for (const c of clients.splice(0)) c.destroy();
});

describe('automatic versions (VERSION_INTERVAL_MS=800)', () => {
  const server = useServer({ env: { VERSION_INTERVAL_MS: '800' } });
  const api = versionsApi(() => server().httpUrl);

  it('records a version after edits, naming both editors, and none while nothing changes', async () => {
    const ada = await client(server().syncUrl, 'auto/plan', 'Ada');
    const bob = await client(server().syncUrl, 'auto/plan', 'Bob');
    addParagraph(ada.doc, 'Ada writes the plan');
    await waitFor(() => paragraphs(bob.doc).length === 1, 'Bob to see Ada’s paragraph');
    typeInto(bob.doc, 0, ', Bob adds to it');
    await waitFor(async () => (await api.list('auto/plan')).length > 0, 'an automatic version');
    await waitFor(async () => (await api.list('auto/plan')).some((v) => v.authors.includes('Bob')), 'a version naming Bob');
    const versions = await api.list('auto/plan');
    expect(versions.every((v) => v.kind === 'automatic' && v.label === null)).toBe(true);
    expect([...new Set(versions.flatMap((v) => v.authors))].sort()).toEqual(['Ada', 'Bob']);
    expect(await api.content('auto/plan', versions[0]!.id)).toBe('Ada writes the plan, Bob adds to it');
    expect(versions[0]!.bytes).toBeGreaterThan(0);

    // Cursor moves are no edits. An edit of another document made after them gets its version
    // after one interval: by then this one would have one too, had anything been scheduled.
    ada.provider.awareness.setLocalStateField('cursor', { anchor: 3, head: 3 });
    const other = await client(server().syncUrl, 'auto/other', 'Cy');
    addParagraph(other.doc, 'Something else');
    await waitFor(async () => (await api.count('auto/other')) === 1, 'the other document’s version');
    expect(await api.list('auto/plan')).toEqual(versions);

    // An edit that undoes itself commits twice but changes no content: no new version.
    typeInto(ada.doc, 0, '!');
    const paragraph = ada.doc.getXmlFragment('prosemirror').get(0) as import('yjs').XmlElement;
    const text = paragraph.get(0) as import('yjs').XmlText;
    text.delete(text.length - 1, 1);
    addParagraph(other.doc, 'and more');
    await waitFor(async () => (await api.count('auto/other')) === 2, 'the other document’s second version');
    expect(await api.list('auto/plan')).toEqual(versions);
  });
});

describe('versions and restore (VERSION_INTERVAL_MS=10 min)', () => {
  const server = useServer({ env: { VERSION_INTERVAL_MS: '600000' } });
  const api = versionsApi(() => server().httpUrl);

  it('records a version when the last editor leaves', async () => {
    const ada = await client(server().syncUrl, 'leave/notes', 'Ada');
    addParagraph(ada.doc, 'Written before leaving');
    await waitFor(async () => (await api.current('leave/notes')) === 'Written before leaving', 'the edit to be committed');
    expect(await api.list('leave/notes')).toEqual([]);
    ada.provider.disconnect();
    await waitFor(async () => (await api.list('leave/notes')).length === 1, 'a version once Ada left');
    const [version] = await api.list('leave/notes');
    expect(version).toMatchObject({ kind: 'automatic', authors: ['Ada'], label: null });
    expect(await api.content('leave/notes', version!.id, 'markdown')).toBe('Written before leaving');
  });

  it('restores while two clients are connected and one types: both end with the version plus what was typed after', async () => {
    const name = 'restore/live';
    const ada = await client(server().syncUrl, name, 'Ada');
    const bob = await client(server().syncUrl, name, 'Bob');
    addParagraph(ada.doc, 'The plan');
    addParagraph(ada.doc, 'Step one');
    await waitFor(() => paragraphs(bob.doc).length === 2, 'Bob to have the plan');
    await waitFor(async () => (await api.current(name)) === 'The plan\nStep one', 'the plan to be committed');
    const sent = await api.save(name, 'Sent to legal');
    expect(sent).toMatchObject({ label: 'Sent to legal', kind: 'manual', authors: ['Ada', 'anonymous'] });

    // Someone pastes over the plan; Bob keeps typing into a paragraph of his own.
    ada.doc.transact(() => {
      const fragment = ada.doc.getXmlFragment('prosemirror');
      fragment.delete(0, fragment.length);
    });
    addParagraph(ada.doc, 'PASTED GARBAGE');
    addParagraph(bob.doc, 'typing:');
    await waitFor(() => paragraphs(ada.doc).length === 2 && paragraphs(bob.doc).length === 2, 'both to see the paste and Bob’s paragraph');
    let typing = true;
    let typed = 0;
    const typer = (async () => {
      while (typing) {
        const index = paragraphs(bob.doc).indexOf(`typing:${'x'.repeat(typed)}`);
        if (index >= 0) {
          typeInto(bob.doc, index, 'x');
          typed++;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitFor(() => typed >= 20, 'Bob to have typed a little');
    const garbage = await api.current(name);
    const result = await api.restore(name, sent.id);
    typing = false;
    await typer;
    expect(result.restored.id).toBe(sent.id);
    expect(result.before.kind).toBe('restore');
    expect(await api.content(name, result.before.id)).toMatch(/^PASTED GARBAGE\ntyping:x+$/);
    expect(garbage).toMatch(/^PASTED GARBAGE\ntyping:x+$/);

    // Both see the restore live. Keystrokes of Bob's that were on their way while the server
    // computed the restore land where they were typed: the diff turned his paragraph into
    // "Step one" (a minimal edit, as the editor's), so they stay with it (before or after the new
    // text: Yjs orders concurrent inserts at one place by client id). Then Bob types after it.
    const restoredPlan = /^The plan\n(x*)Step one(x*)$/;
    await waitFor(() => restoredPlan.test(paragraphs(bob.doc).join('\n')), 'Bob to see the restored plan');
    await waitFor(() => paragraphs(ada.doc).join('\n') === paragraphs(bob.doc).join('\n'), 'Ada to see what Bob sees');
    const [, before = '', after = ''] = restoredPlan.exec(paragraphs(bob.doc).join('\n'))!;
    expect(before.length + after.length).toBeLessThan(typed);
    const restoredLine = paragraphs(bob.doc)[1]!;
    typeInto(bob.doc, 1, ', then two');
    const expected = `The plan\n${restoredLine}, then two`;
    await waitFor(() => paragraphs(ada.doc).join('\n') === expected && paragraphs(bob.doc).join('\n') === expected, 'both to have the plan and Bob’s typing');
    await waitFor(async () => (await api.current(name)) === expected, 'the server to have it committed');

    // The version before the restore brings the garbage back: a restore can be undone.
    const undo = await api.restore(name, result.before.id);
    expect(undo.before.kind).toBe('restore');
    const restoredBefore = await api.content(name, result.before.id);
    await waitFor(() => paragraphs(ada.doc).join('\n') === restoredBefore && paragraphs(bob.doc).join('\n') === restoredBefore, 'both to have the text before the restore back');
    expect(await api.current(name)).toBe(restoredBefore);
    const kinds = (await api.list(name)).map((v) => v.kind);
    expect(kinds.filter((k) => k === 'restore').length).toBeGreaterThanOrEqual(2);
    expect(kinds).toContain('manual');
  });

  it('merges an offline client’s edits after a restore it did not see: nothing is lost', async () => {
    const name = 'restore/offline';
    const ada = await client(server().syncUrl, name, 'Ada');
    addParagraph(ada.doc, 'Alpha');
    addParagraph(ada.doc, 'Beta');
    await waitFor(async () => (await api.current(name)) === 'Alpha\nBeta', 'Alpha and Beta committed');
    const version = await api.save(name, 'Two paragraphs');
    addParagraph(ada.doc, 'Garbage');
    await waitFor(async () => (await api.current(name)) === 'Alpha\nBeta\nGarbage', 'the garbage committed');

    const offline = await client(server().syncUrl, name, 'Otto');
    expect(paragraphs(offline.doc)).toEqual(['Alpha', 'Beta', 'Garbage']);
    offline.provider.disconnect();
    typeInto(offline.doc, 0, ' (checked offline)');
    addParagraph(offline.doc, 'Otto’s note');

    await api.restore(name, version.id);
    await waitFor(() => paragraphs(ada.doc).join('\n') === 'Alpha\nBeta', 'Ada to see the restore');

    offline.provider.connect();
    const expected = 'Alpha (checked offline)\nBeta\nOtto’s note';
    await waitFor(() => paragraphs(offline.doc).join('\n') === expected, 'the offline client to have the restore and its own edits');
    await waitFor(() => paragraphs(ada.doc).join('\n') === expected, 'Ada to get the offline edits');
    await waitFor(async () => (await api.current(name)) === expected, 'the server to have them committed');
  });

  it('deletes versions with their document', async () => {
    await api.put('gone/doc', 'Soon deleted');
    await api.save('gone/doc', 'Keep me?');
    expect(await api.list('gone/doc')).toHaveLength(1);
    expect((await fetch(`${server().httpUrl}/api/documents/gone%2Fdoc`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${server().httpUrl}/api/documents/gone%2Fdoc/versions`)).status).toBe(404);
    await api.put('gone/doc', 'Created again');
    expect(await api.list('gone/doc')).toEqual([]);
  });
});

describe('versions API access and bad input (AUTH_SECRET)', () => {
  const server = useServer({ env: { AUTH_SECRET: SECRET } });
  const url = (path: string) => `${server().httpUrl}/api/documents/team%2Fplan${path}`;
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    return fetch(url(path), { ...init, headers });
  };
  const jsonPost = (label: unknown, token: string | null) => ({ method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label }) });

  it('reads with a read token, writes with a read-write one only, 404s unknown ids, 400s bad labels', async () => {
    const writer = await token({ documents: ['team/*'] });
    const reader = await token({ documents: ['team/*'], canWrite: false, subject: 'rita' });
    const stranger = await token({ documents: ['other/*'], subject: 'sam' });
    expect((await call('/content', { method: 'PUT', token: writer, headers: { 'content-type': 'text/plain' }, body: 'Plan' })).status).toBe(201);

    const saved = await call('/versions', jsonPost('Sent to legal', writer));
    expect(saved.status).toBe(201);
    const version = (await saved.json()) as { id: string; authors: string[] };
    expect(version.authors).toEqual(['alice']);

    // Reading: any token granting the document; nothing without one, nothing for a stranger.
    expect((await call('/versions', { token: reader })).status).toBe(200);
    expect(await (await call(`/versions/${version.id}/content?format=text`, { token: reader })).text()).toBe('Plan');
    expect(await (await call(`/versions/${version.id}`, { token: reader })).json()).toMatchObject({ id: version.id, label: 'Sent to legal', kind: 'manual' });
    expect((await call('/versions', { token: null })).status).toBe(401);
    expect((await call('/versions', { token: stranger })).status).toBe(403);
    expect((await call(`/versions/${version.id}/content`, { token: stranger })).status).toBe(403);

    // Writing: read-write tokens only.
    for (const token of [reader, stranger]) {
      expect((await call('/versions', jsonPost('Mine', token))).status).toBe(403);
      expect((await call(`/versions/${version.id}/restore`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);
      expect((await call(`/versions/${version.id}`, { ...jsonPost('Renamed', token), method: 'PATCH' })).status).toBe(403);
    }
    expect((await call(`/versions/${version.id}/restore`, { method: 'POST', token: writer, headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    // A restore is a write: a form or text body (what other sites can send unasked) is refused.
    expect((await call(`/versions/${version.id}/restore`, { method: 'POST', token: writer, headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);

    // Unknown ids and documents: 404 with a JSON error.
    for (const path of ['/versions/v_AAAAAAAAAAAAAAAA/content', '/versions/nonsense', '/versions/v_AAAAAAAAAAAAAAA%2F/content']) {
      const response = await call(path, { token: writer });
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: string }).error).toBeTruthy();
    }
    expect((await call('/versions/v_AAAAAAAAAAAAAAAA/restore', { method: 'POST', token: writer, headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await fetch(`${server().httpUrl}/api/documents/team%2Fnone/versions`, { headers: { authorization: `Bearer ${writer}` } })).status).toBe(404);

    // Bad labels, formats and limits: 400 saying why.
    for (const label of ['', '   ', 42, null, 'x'.repeat(201), 'tab\there']) {
      const response = await call('/versions', jsonPost(label, writer));
      expect(response.status, JSON.stringify(label)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/label/);
    }
    expect((await call('/versions', { method: 'POST', token: writer, headers: { 'content-type': 'application/json' }, body: 'not json' })).status).toBe(400);
    expect((await call(`/versions/${version.id}/content?format=pdf`, { token: writer })).status).toBe(400);
    expect((await call('/versions?limit=0', { token: writer })).status).toBe(400);
    const renamed = await call(`/versions/${version.id}`, { ...jsonPost('  Final  ', writer), method: 'PATCH' });
    expect(await renamed.json()).toMatchObject({ id: version.id, label: 'Final' });
  });
});
