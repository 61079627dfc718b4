import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type * as Y from 'yjs';

export interface EditingTrace {
  startContent: string;
  endContent: string;
  txns: Array<{ patches: Array<[number, number, string]> }>;
}

/** The real editing traces ship with the repository as test fixtures (attribution in their README.md). */
export const TRACES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function loadTrace(name = 'automerge-paper'): EditingTrace {
  const file = path.join(TRACES_DIR, `${name}.json.gz`);
  if (!fs.existsSync(file)) throw new Error(`editing trace ${file} is missing (it ships with the repository in tests/fixtures)`);
  return JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as EditingTrace;
}

/**
 * Applies every transaction of the trace to `text`, one Yjs transaction each (so a provider sends
 * one update per edit, as live typing does), yielding to the event loop every `chunk` transactions.
 */
export async function replayTrace(doc: Y.Doc, text: Y.Text, trace: EditingTrace, chunk = 500): Promise<void> {
  for (let i = 0; i < trace.txns.length; i++) {
    const { patches } = trace.txns[i]!;
    doc.transact(() => {
      for (const [position, deleted, inserted] of patches) {
        if (deleted > 0) text.delete(position, deleted);
        if (inserted.length > 0) text.insert(position, inserted);
      }
    });
    if (i % chunk === chunk - 1) await new Promise((resolve) => setImmediate(resolve));
  }
}
