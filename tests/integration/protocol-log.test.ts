/**
 * LOG_PROTOCOL=<document patterns>: the server logs a one-line summary of every frame of matching
 * documents, both directions (type and sub-type, size, Yjs client ids and clocks), from the
 * process's own log output; other documents are not logged; content, awareness states and tokens
 * never appear.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient, synced, type TestClient } from '../helpers/clients.js';
import { useServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { SECRET, token } from './security-harness.js';

interface FrameLine {
  msg: string;
  protocol: true;
  document: string;
  connection: number;
  direction: 'in' | 'out';
  type: string;
  subtype?: string;
  bytes: number;
  structs?: Record<string, [number, number]>;
  stateVector?: Record<string, number>;
  awareness?: Record<string, number>;
  deleted?: number;
}

describe('LOG_PROTOCOL', () => {
  const server = useServer({ env: { LOG_PROTOCOL: 'logged/*, exact-name', AUTH_SECRET: SECRET } });
  const clients: TestClient[] = [];
  afterAll(() => clients.forEach((client) => client.destroy()));

  const frames = (): FrameLine[] =>
    server()
      .logs.filter((line) => line.includes('"protocol":true'))
      .map((line) => JSON.parse(line) as FrameLine);

  it('logs a summary of every frame of matching documents, without content', async () => {
    const secretToken = await token({ subject: 'alice' });
    const writer = connectClient(server().syncUrl, 'logged/notes', { params: { token: secretToken } });
    const reader = connectClient(server().syncUrl, 'logged/notes', { params: { token: secretToken } });
    const unlogged = connectClient(server().syncUrl, 'quiet/notes', { params: { token: secretToken } });
    clients.push(writer, reader, unlogged);
    await Promise.all([writer, reader, unlogged].map((client) => synced(client)));
    writer.provider.awareness.setLocalStateField('user', { name: 'Grace Hopperish', color: '#abcdef' });
    writer.doc.getText('t').insert(0, 'classified sentence');
    unlogged.doc.getText('t').insert(0, 'not logged at all');
    await waitFor(() => reader.doc.getText('t').toString() === 'classified sentence', 'the reader to receive the edit');
    const id = writer.doc.clientID;

    // The writer's update in, and relayed out to the reader; both named by client id and clocks.
    await waitFor(() => frames().some((f) => f.direction === 'out' && f.subtype === 'update' && f.structs?.[String(id)] !== undefined), 'the relayed update to be logged');
    const logged = frames();
    expect(logged.every((f) => f.document === 'logged/notes' && f.msg === 'frame')).toBe(true);
    const updateIn = logged.find((f) => f.direction === 'in' && f.type === 'sync' && f.subtype === 'update' && f.structs?.[String(id)]);
    expect(updateIn).toBeDefined();
    expect(updateIn!.structs![String(id)]).toEqual([0, 'classified sentence'.length]);
    expect(updateIn!.deleted).toBe(0);
    expect(updateIn!.bytes).toBeGreaterThan('classified sentence'.length);
    const updateOut = logged.find((f) => f.direction === 'out' && f.subtype === 'update' && f.structs?.[String(id)]);
    expect(updateOut!.connection).not.toBe(updateIn!.connection);
    // The handshake: each client's step 1 in (an empty state vector at first), the server's step 1 and step 2 out.
    expect(logged.filter((f) => f.direction === 'in' && f.subtype === 'step1').length).toBeGreaterThanOrEqual(2);
    expect(logged.some((f) => f.direction === 'out' && f.subtype === 'step1')).toBe(true);
    expect(logged.some((f) => f.direction === 'out' && f.subtype === 'step2')).toBe(true);
    await waitFor(() => frames().some((f) => f.type === 'awareness' && f.direction === 'in' && (f.awareness?.[String(id)] ?? 0) >= 1), "the writer's awareness change to be logged");

    const output = server().logs.join('\n');
    for (const secret of ['classified', 'sentence', 'Grace', 'Hopperish', '#abcdef', secretToken, 'not logged', 'quiet/notes']) expect(output).not.toContain(secret);
    // One line per frame: a pino JSON line each.
    for (const line of server().logs.filter((l) => l.includes('"protocol":true'))) expect(line).not.toContain('\n');
  });
});
