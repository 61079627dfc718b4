import { getToken } from './token.js';

export interface DocumentInfo {
  name: string;
  title: string;
  createdAt: number | string;
  updatedAt: number | string;
}

/** An HTTP API error with the server's message. `needsToken` for 401/403. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
  get needsToken(): boolean {
    return this.status === 401 || this.status === 403;
  }
  /** The request never reached the server (offline, server down). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError('Cannot reach the server. Check your connection.', 0);
  }
  let payload: unknown = null;
  const text = await response.text();
  if (response.ok && accept !== 'application/json') return text as T;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (!response.ok) {
    const message =
      payload && typeof payload === 'object' && typeof (payload as { error?: unknown }).error === 'string'
        ? (payload as { error: string }).error
        : `${response.status} ${response.statusText || 'error'}`;
    throw new ApiError(message, response.status);
  }
  return payload as T;
}

/** What the workspace asks the API for (the editor reads and writes titles through the document itself). */
export const api = {
  list: (limit = 200) => request<{ documents: DocumentInfo[] }>('GET', `/api/documents?limit=${limit}`).then((r) => r.documents),
  /** Documents matching the words of `query` (title and text), best first. */
  search: (query: string, limit = 50) =>
    request<{ documents: DocumentInfo[] }>('GET', `/api/documents?q=${encodeURIComponent(query)}&limit=${limit}`).then((r) => r.documents),
  /** The document's title and times; 404 (ApiError) if it does not exist (yet). */
  info: (name: string) => request<DocumentInfo>('GET', `/api/documents/${encodeURIComponent(name)}`),
  create: (body: { name?: string; title?: string }) => request<DocumentInfo>('POST', '/api/documents', body),
  /** Creates a document from a file's text; the server titles it by its first heading. */
  import: (content: string, format: ImportFormat) => request<DocumentInfo>('POST', '/api/documents', { content, format }),
  rename: (name: string, title: string) => request<DocumentInfo>('PATCH', `/api/documents/${encodeURIComponent(name)}`, { title }),
  remove: (name: string) => request<null>('DELETE', `/api/documents/${encodeURIComponent(name)}`),
  /** The document converted on the server (Markdown or an HTML fragment). */
  content: (name: string, format: ExportFormat) =>
    request<string>('GET', `/api/documents/${encodeURIComponent(name)}/content?format=${format}`, undefined, format === 'html' ? 'text/html' : 'text/markdown'),
};

export type ImportFormat = 'markdown' | 'html' | 'text';
export type ExportFormat = 'markdown' | 'html';

export function documentUrl(name: string): string {
  return `/d/${encodeURIComponent(name)}`;
}

/** A version of a document (server/http/versions.ts). */
export interface VersionInfo {
  id: string;
  createdAt: number;
  label: string | null;
  kind: 'automatic' | 'manual' | 'restore';
  authors: string[];
  bytes: number;
}

const versionsPath = (name: string, rest = '') => `/api/documents/${encodeURIComponent(name)}/versions${rest}`;

/** Version history of a document. */
export const versionsApi = {
  list: (name: string) => request<{ versions: VersionInfo[] }>('GET', versionsPath(name)).then((r) => r.versions),
  /** Saves the current content as a version named `label`. */
  save: (name: string, label: string) => request<VersionInfo>('POST', versionsPath(name), { label }),
  rename: (name: string, id: string, label: string) => request<VersionInfo>('PATCH', versionsPath(name, `/${id}`), { label }),
  /** The version's content as ProseMirror JSON. */
  content: (name: string, id: string) => request<unknown>('GET', versionsPath(name, `/${id}/content?format=json`)),
  restore: (name: string, id: string) => request<{ restored: VersionInfo; before: VersionInfo }>('POST', versionsPath(name, `/${id}/restore`), {}),
};
