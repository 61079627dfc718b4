import WebSocket from 'ws';
import { classify, EMPTY_UPDATE, Framer, type Flavor, type ServerMessageKind } from './wire.js';

export interface SyncedClient {
  readonly ws: WebSocket;
  readonly framer: Framer;
  /** Resolves when the server answered our step 1 (at once for the raw relay). */
  readonly synced: Promise<void>;
  /** Resolves when the socket closes, with its code. */
  readonly closed: Promise<number>;
  /** Waits until the socket's send buffer is below `bytes`. */
  drain(bytes?: number): Promise<void>;
}

export type MessageHandler = (kind: ServerMessageKind, bytes: Buffer, offset: number) => void;

/**
 * Opens a y-websocket (or Hocuspocus) connection the way a provider does: step 1 out, an (empty)
 * step 2 back when the server asks. Every message is also handed to `onMessage`.
 */
export function connectClient(url: string, flavor: Flavor, documentName: string, onMessage: MessageHandler, stateVector?: Uint8Array): SyncedClient {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  const framer = new Framer(flavor, documentName);
  let markSynced: () => void = () => {};
  let failSynced: (error: Error) => void = () => {};
  const synced = new Promise<void>((resolve, reject) => {
    markSynced = resolve;
    failSynced = reject;
  });
  synced.catch(() => {});
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('open', () => {
    if (flavor === 'raw') return markSynced();
    for (const hello of framer.hello()) ws.send(hello);
    ws.send(framer.syncStep1(stateVector));
  });
  ws.on('message', (bytes: Buffer) => {
    const { kind, offset } = classify(flavor, bytes);
    if (kind === 'step1') ws.send(framer.syncStep2(EMPTY_UPDATE));
    onMessage(kind, bytes, offset);
    if (kind === 'step2') markSynced();
  });
  ws.on('error', (error) => failSynced(error));
  ws.on('close', (code) => failSynced(new Error(`closed with ${code} before syncing`)));
  return {
    ws,
    framer,
    synced,
    closed,
    async drain(bytes = 4 * 1024 * 1024) {
      while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > bytes) await new Promise((resolve) => setTimeout(resolve, 2));
    },
  };
}

/** Parent ↔ single-purpose client messages. */
export interface TaskResult {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** Runs one task in a forked client process: receives its input over IPC, sends back its result. */
export function serveTask<I>(run: (input: I) => Promise<TaskResult>): void {
  process.once('message', (input: I) => {
    run(input).then(
      (result) => process.send!(result, () => process.exit(0)),
      (error: unknown) => process.send!({ ok: false, error: error instanceof Error ? error.message : String(error) }, () => process.exit(0)),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
