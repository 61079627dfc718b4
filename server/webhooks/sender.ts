import http from 'node:http';
import https from 'node:https';
import { guardedLookup, literalAddressProblem } from './address-guard.js';

export interface Attempt {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (shutdown). */
  signal?: AbortSignal;
}

export interface AttemptResult {
  /** A 2xx status arrived within the timeout. */
  ok: boolean;
  status: number | null;
  /** Why it failed, for the deliveries list and logs (never the body or headers sent). */
  error: string | null;
  aborted: boolean;
}

// Connections are reused between deliveries to the same endpoint (a TLS handshake costs a round
// trip or two and ~1 ms of CPU); sockets are made through the guarded lookup, so a reused one was
// checked when it was opened.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16, keepAliveMsecs: 10_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16, keepAliveMsecs: 10_000 }),
};

function describe(error: unknown, timeoutMs: number): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return `host not found (${e.code})`;
  if (e?.code === 'EPRIVATEADDRESS') return e.message;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 300) : String(error);
  return e?.code ? `${message} (${e.code})` : message;
}

/**
 * One POST of an event to an endpoint. Redirects are not followed (a 3xx is a failure): the
 * signature was made for this URL, and a redirect could point anywhere, private addresses included.
 * The response body is read and discarded.
 */
export async function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const url = new URL(attempt.url);
  // net.connect does not look IP literals up: they are checked here.
  const literal = attempt.allowPrivate ? null : literalAddressProblem(url.hostname);
  if (literal) return { ok: false, status: null, error: `refused: ${literal}`, aborted: false };
  return new Promise((resolve) => {
    let settled = false;
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'POST',
      agent: agents[url.protocol as 'http:' | 'https:'],
      headers: {
        ...attempt.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(attempt.body),
        'user-agent': 'collab-docs-webhooks/1',
      },
      ...(!attempt.allowPrivate && { lookup: guardedLookup as never }),
    });
    const onAbort = () => {
      request.destroy();
      finish({ ok: false, status: null, error: 'abandoned (server stopping)', aborted: true });
    };
    const timer = setTimeout(() => {
      const error = new Error('timed out');
      error.name = 'TimeoutError';
      request.destroy(error);
    }, attempt.timeoutMs);
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      attempt.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    if (attempt.signal?.aborted) return onAbort();
    attempt.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      const ok = status >= 200 && status < 300;
      finish({ ok, status, error: ok ? null : `HTTP ${status}`, aborted: false });
    });
    request.on('error', (error) => {
      const refused = (error as NodeJS.ErrnoException).code === 'EPRIVATEADDRESS';
      finish({ ok: false, status: null, error: refused ? `refused: ${error.message}` : describe(error, attempt.timeoutMs), aborted: false });
    });
    request.end(attempt.body);
  });
}
