import type { Node as PMNode } from 'prosemirror-model';
import type { Logger } from '../logger.js';
import type { FileStore } from '../storage/file-store.js';
import { referencedFileIds } from './references.js';

export interface FileSweeperOptions {
  files: FileStore;
  /** The document's content as its room has it, everything committed (null: no such document). */
  read(document: string): Promise<PMNode | null>;
  /** How long a file may stay unreferenced (from its upload, or from the first sweep that found it unused). */
  graceMs: number;
  /** The clock (tests pass their own). */
  now?: () => number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface FileSweepTotals {
  documents: number;
  deleted: number;
}

export interface FileSweeper {
  /** One pass over every document with files. */
  sweep(): Promise<FileSweepTotals>;
  /** Sweeps every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void;
  stop(): void;
}

/** Documents read per page of the walk. */
const PAGE = 100;

/**
 * Deletes uploads nobody uses: a file is deleted once it has been unreferenced for `graceMs`,
 * counted from its upload (an upload not inserted, e.g. the tab closed meanwhile) or from the first
 * sweep that found it no longer in the document (an image deleted: undo within the grace period
 * brings it back intact). Each document's content is read through its room, as the content API
 * reads it, so edits held by a live room are seen. Cost per pass: one content read per document
 * with files (a room load for documents not open: ~1 ms for a page of text, ~50 ms for the
 * 105,000-character benchmark document).
 *
 * Known limit: an image copied into another document still points at the first document's file
 * and does not keep it; once removed there and past the grace period, the copy shows nothing.
 */
export function createFileSweeper(options: FileSweeperOptions): FileSweeper {
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<FileSweepTotals> | null = null;

  const pass = async (): Promise<FileSweepTotals> => {
    const totals = { documents: 0, deleted: 0 };
    let after = '';
    for (;;) {
      const page = await options.files.documentsWithFiles(after, PAGE);
      for (const document of page) {
        try {
          const doc = await options.read(document);
          // A document that is gone had its files deleted with it; one not yet readable is skipped.
          if (!doc) continue;
          const at = now();
          const result = await options.files.sweep(document, referencedFileIds(doc, document), at, at - options.graceMs);
          totals.documents++;
          totals.deleted += result.deleted.length;
        } catch (error) {
          // E.g. MAX_ROOMS reached: this document waits for the next pass.
          options.logger?.warn({ err: error, document }, 'could not sweep the files of a document');
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!;
    }
    if (totals.deleted > 0) options.logger?.info({ documents: totals.documents, deleted: totals.deleted }, 'deleted unreferenced files');
    return totals;
  };

  return {
    sweep() {
      // One pass at a time: a slow pass is not overlapped by the next tick.
      running ??= pass().finally(() => {
        running = null;
      });
      return running;
    },
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(() => void this.sweep().catch((error: unknown) => options.logger?.warn({ err: error }, 'file sweep failed')), intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
