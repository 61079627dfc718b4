import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type * as Y from 'yjs';

export interface EditingTrace {
  startContent: string;
  endContent: string;
  txns: Array<{ patches: Array<[number, number, string]> }>;
}

/** The real editing traces ship beside the repository, in ../shared/traces. */
export const TRACES_DIR = path.resolve('../shared/traces');

export function loadTrace(name = 'automerge-paper'): EditingTrace {
  const file = path.join(TRACES_DIR, `${name}.json.gz`);
  if (!fs.existsSync(file)) throw new Error(`editing trace ${file} is missing (it is provided beside the repository in shared/traces)`);
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
