import type { FileInfo } from './file-store.js';

/** The columns of a file without its bytes (lists and answers never read the bytes). */
export const FILE_INFO_COLUMNS = 'document, id, type, size, width, height, created_at, unreferenced_since';

/** A row of either backend (PostgreSQL returns BIGINT columns as strings). */
export interface FileRow {
  document: string;
  id: string;
  type: string;
  size: number;
  width: number;
  height: number;
  created_at: number | string;
  unreferenced_since: number | string | null;
}

export const toFileInfo = (row: FileRow): FileInfo => ({
  document: row.document,
  id: row.id,
  type: row.type,
  size: row.size,
  width: row.width,
  height: row.height,
  createdAt: Number(row.created_at),
  unreferencedSince: row.unreferenced_since === null ? null : Number(row.unreferenced_since),
});
