/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 (port 0 unless given) that
 * verifies every request's Standard Webhooks signature with the `standardwebhooks` package and
 * records what arrived. What it answers is up to the test (`respond`), per request.
 */
import http from 'node:http';
import type net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../helpers/wait.js';

export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: { document: string; title: string; seq: number | null; editors: string[]; user?: string };
}

export interface Received {
  id: string;
  event: WebhookEvent;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Whether `standardwebhooks` accepted the signature. */
  verified: boolean;
  /** What the receiver answered: a status, or `hang` (never answers) / `drop` (closes the socket). */
  answer: number | 'hang' | 'drop';
}

export type Answer = number | 'hang' | 'drop';

export interface Receiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly received: Received[];
  /** Requests answered 2xx: what the server counts as delivered. */
  acknowledged(): Received[];
  /** Decides each answer; `attempt` counts this event id's requests so far (1 for the first). */
  respond: (request: { id: string; event: WebhookEvent; attempt: number }) => Answer;
  /** Waits until some acknowledged event satisfies `predicate`; returns it. */
  waitFor(predicate: (event: WebhookEvent, received: Received) => boolean, what: string, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export const TEST_SECRET = 'whsec_' + Buffer.from('webhook test secret, 32 bytes ok').toString('base64');

export async function startReceiver(options: { secret?: string; port?: number; host?: string } = {}): Promise<Receiver> {
  const verifier = new Webhook(options.secret ?? TEST_SECRET);
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = request.headers;
      let verified = false;
      try {
        verifier.verify(body, {
          'webhook-id': String(headers['webhook-id']),
          'webhook-timestamp': String(headers['webhook-timestamp']),
          'webhook-signature': String(headers['webhook-signature']),
        });
        verified = true;
      } catch {
        verified = false;
      }
      const id = String(headers['webhook-id']);
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const event = JSON.parse(body) as WebhookEvent;
      const answer = receiver.respond({ id, event, attempt });
      received.push({ id, event, body, headers, verified, answer });
      if (answer === 'hang') {
        hanging.add(response);
        return;
      }
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const acknowledged = () => received.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300);
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    acknowledged,
    respond: () => 204,
    async waitFor(predicate, what, timeoutMs = 20_000) {
      let found: Received | undefined;
      await waitFor(
        () => {
          found = acknowledged().find((r) => predicate(r.event, r));
          return found !== undefined;
        },
        what,
        timeoutMs,
        20,
      );
      return found!;
    },
    async close() {
      for (const response of hanging) response.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}

/** A JSON API call (Bearer token optional); resolves with the status and the parsed body. */
export async function api(httpUrl: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(httpUrl + path, {
    method,
    headers: {
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** The server settings every webhook test shares: fast debounce, short timeouts, private addresses allowed. */
export function webhookEnv(receiver: Pick<Receiver, 'url'> | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(receiver && { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: TEST_SECRET }),
    WEBHOOK_ALLOW_PRIVATE: '1',
    WEBHOOK_DEBOUNCE_MS: '200',
    WEBHOOK_MAX_WAIT_MS: '1000',
    WEBHOOK_TIMEOUT_MS: '1000',
    WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,300ms',
    ...extra,
  };
}
