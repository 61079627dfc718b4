import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

export type ProxyMode = 'refuse' | 'silent' | 'pass';

export interface BlockingProxy {
  readonly port: number;
  /** `ws://127.0.0.1:<port>/sync`: what a client is given; its WebSockets do not get through. */
  readonly syncUrl: string;
  /** Requests forwarded, by `op` query parameter (or the path for others). */
  readonly forwarded: Map<string, number>;
  /** Points the proxy at another backend port (e.g. a restarted server). */
  target: number;
  /** What happens to WebSocket upgrades from now on (`pass`: they get through, as after a network change). */
  mode: ProxyMode;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a server that WebSockets do not get through, as corporate proxies
 * and middleboxes behave: plain requests are forwarded (streamed both ways), WebSocket upgrades
 * are refused with 403 (`refuse`) or accepted and then never answered (`silent`: the socket
 * opens, and nothing ever arrives).
 */
export async function startBlockingProxy(target: number, mode: ProxyMode = 'refuse'): Promise<BlockingProxy> {
  const sockets = new Set<net.Socket>();
  const forwarded = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const key = new URL(request.url ?? '/', 'http://x').searchParams.get('op') ?? 'other';
    forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
    const upstream = http.request(
      { host: '127.0.0.1', port: proxy.target, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('error', () => response.destroy());
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'Content-Type': 'application/json' }).end('{"error":"bad gateway"}');
      else response.destroy();
    });
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request, socket: net.Socket, head: Buffer) => {
    if (proxy.mode === 'pass') {
      const upstream = net.connect(proxy.target, '127.0.0.1', () => {
        const lines = [`${request.method} ${request.url} HTTP/1.1`];
        for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
        upstream.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        socket.destroy();
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      return;
    }
    if (proxy.mode === 'refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Accepts the handshake as a middlebox that answers for the server would, then holds it.
    const accept = createHash('sha1')
      .update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    const protocol = String(request.headers['sec-websocket-protocol'] ?? '').split(',')[0]?.trim();
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
        '\r\n',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const proxy: BlockingProxy = {
    port,
    syncUrl: `ws://127.0.0.1:${port}/sync`,
    forwarded,
    target,
    mode,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return proxy;
}
