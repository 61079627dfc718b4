import type { ThreadWriteOp, WriteResult } from './sqlite-write-ops.js';

export interface CommitThreadOptions {
  file: string;
  synchronous: 'full' | 'normal';
}

/** Event loop → commit thread. */
export type CommitRequest = { kind: 'commit'; id: number; batch: ThreadWriteOp[] } | { kind: 'close' };

/** Commit thread → event loop; `error` is the message of what the transaction threw. */
export type CommitReply =
  | { kind: 'committed'; id: number; results: WriteResult[] }
  | { kind: 'failed'; id: number; error: string }
  | { kind: 'closed' };

/*
 * Messages cross the thread boundary by structured clone (the update bytes are copied once, a few
 * dozen bytes per keystroke). Writers fix the shape; readers check the kind, the one field the
 * other side switches on, so a message of another shape fails loudly instead of hanging a commit.
 */
export const writeCommitRequest = (request: CommitRequest): CommitRequest => request;
export const writeCommitReply = (reply: CommitReply): CommitReply => reply;

function kindOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null ? (message as { kind?: unknown }).kind : undefined;
}

export function readCommitRequest(message: unknown): CommitRequest {
  const kind = kindOf(message);
  if (kind === 'commit' || kind === 'close') return message as CommitRequest;
  throw new Error(`commit thread: unknown request ${String(kind)}`);
}

export function readCommitReply(message: unknown): CommitReply {
  const kind = kindOf(message);
  if (kind === 'committed' || kind === 'failed' || kind === 'closed') return message as CommitReply;
  throw new Error(`commit thread: unknown reply ${String(kind)}`);
}
