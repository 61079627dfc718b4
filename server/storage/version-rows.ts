import type { VersionKind, VersionRecord } from './version-store.js';

/** The columns of a version without its state (lists never read the states). */
export const VERSION_COLUMNS = 'id, document, created_at, label, kind, authors, seq, bytes';

/** The order of versions in lists: newest first, the same on both backends. */
export const NEWEST_FIRST = 'created_at DESC, seq DESC, id DESC';

export interface VersionRow {
  id: string;
  document: string;
  created_at: number | string;
  label: string | null;
  kind: string;
  authors: string;
  seq: number | string;
  bytes: number | string;
}

/** A row of either backend (PostgreSQL returns BIGINT columns as strings). */
export const toVersion = (row: VersionRow): VersionRecord => ({
  id: row.id,
  document: row.document,
  createdAt: Number(row.created_at),
  label: row.label,
  kind: row.kind as VersionKind,
  authors: JSON.parse(row.authors) as string[],
  bytes: Number(row.bytes),
  seq: Number(row.seq),
});

