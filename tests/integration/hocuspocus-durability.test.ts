import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { connectClient, synced } from '../helpers/clients.js';
import { connectHocuspocus, hocuspocusSaved, hocuspocusSynced, type HocuspocusClient } from '../helpers/hocuspocus.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const EDITS = 300;

describe('Hocuspocus SyncStatus means committed', () => {
  const clients: Array<{ destroy(): void }> = [];
  let server: ServerProcess | null = null;
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await server?.kill('SIGKILL');
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('SIGKILL the moment unsyncedChanges reaches 0 loses none of the confirmed edits', async () => {
    server = await startServer();
    const first = server;
    const writer: HocuspocusClient = connectHocuspocus(first.syncUrl, 'durable');
    clients.push(writer);
    await hocuspocusSynced(writer);
    await hocuspocusSaved(writer);

    // The kill is sent from the provider's own event, in the same tick it learns the last edit is saved.
    let killedAt: string | null = null;
    writer.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number !== 0 || killedAt !== null || writer.doc.getText('t').length < EDITS) return;
      killedAt = writer.doc.getText('t').toString();
      first.child.kill('SIGKILL');
    });
    const text = writer.doc.getText('t');
    for (let i = 0; i < EDITS; i++) text.insert(text.length, String.fromCharCode(97 + (i % 26)));
    await waitFor(() => killedAt !== null, 'every edit to be confirmed and the server killed');
    expect(await first.kill()).toBe(null);
    writer.provider.configuration.websocketProvider.disconnect();

    server = await startServer({ dataDir: first.dataDir });
    const reader = connectClient(server.syncUrl, 'durable');
    clients.push(reader);
    await synced(reader);
    expect(reader.doc.getText('t').toString()).toBe(killedAt);
    expect(killedAt!.length).toBe(EDITS);
    const fromProvider = connectHocuspocus(server.syncUrl, 'durable', { doc: new Y.Doc() });
    clients.push(fromProvider);
    await hocuspocusSynced(fromProvider);
    expect(fromProvider.doc.getText('t').toString()).toBe(killedAt);
  });
});
