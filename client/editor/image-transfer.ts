/**
 * One upload of an image to the files API (`POST /api/documents/<name>/files`), with progress.
 * XMLHttpRequest, not fetch: fetch reports no upload progress.
 */

export interface UploadedFile {
  id: string;
  /** The `src` to put in the document: `/api/documents/<name>/files/<id>`. */
  url: string;
  type: string;
  width: number;
  height: number;
}

export interface UploadTarget {
  httpBase: string;
  document: string;
  token: () => string | undefined;
}

export interface Transfer {
  readonly done: Promise<UploadedFile>;
  abort(): void;
}

/** Starts uploading `file`; `onProgress` gets the fraction sent (0–1). Rejects with the server's reason. */
export function uploadFile(target: UploadTarget, file: Blob, onProgress: (fraction: number) => void): Transfer {
  const request = new XMLHttpRequest();
  const done = new Promise<UploadedFile>((resolve, reject) => {
    request.open('POST', `${target.httpBase}/api/documents/${encodeURIComponent(target.document)}/files`);
    const token = target.token();
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
    // The server decides by the bytes; a file of unknown type goes as plain bytes.
    request.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    request.responseType = 'json';
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as (Partial<UploadedFile> & { error?: unknown }) | null;
      if (request.status >= 200 && request.status < 300 && body && typeof body.url === 'string') {
        resolve(body as UploadedFile);
        return;
      }
      const reason = body && typeof body.error === 'string' ? body.error : `the server answered ${request.status}`;
      reject(new Error(reason));
    };
    request.onerror = () => reject(new Error('the server could not be reached'));
    request.onabort = () => reject(new Error('the upload was cancelled'));
    request.send(file);
  });
  return { done, abort: () => request.abort() };
}
