/**
 * A TCP proxy on 127.0.0.1 that limits throughput in each direction to `bytesPerSecond` (a slow
 * link: DSL, a crowded mobile cell) and counts the bytes that crossed it, i.e. the bytes on the wire
 * including WebSocket and HTTP framing. Bytes are released every TICK_MS in slices of the budget;
 * a source whose queue grows beyond a second's worth is paused (TCP backpressure, as on a real link).
 */
import net from 'node:net';

const TICK_MS = 5;

export interface ThrottledProxy {
  readonly port: number;
  /** Bytes from client to server and from server to client since start (or the last reset). */
  readonly upstreamBytes: number;
  readonly downstreamBytes: number;
  resetCounters(): void;
  close(): Promise<void>;
}

interface Direction {
  bytes: number;
}

function throttle(from: net.Socket, to: net.Socket, bytesPerSecond: number, counter: Direction): void {
  const queue: Buffer[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  let budget = 0;
  const highWater = Math.max(bytesPerSecond, 64 * 1024);

  const release = () => {
    const now = performance.now();
    budget = Math.min(budget + ((now - last) / 1000) * bytesPerSecond, bytesPerSecond * (TICK_MS * 4) / 1000 + 1460);
    last = now;
    while (queue.length > 0 && budget >= 1) {
      const head = queue[0]!;
      const take = Math.min(head.length, Math.floor(budget));
      to.write(take === head.length ? head : head.subarray(0, take));
      if (take === head.length) queue.shift();
      else queue[0] = head.subarray(take);
      queued -= take;
      budget -= take;
      counter.bytes += take;
    }
    if (queued < highWater / 2 && from.isPaused()) from.resume();
    if (queue.length === 0) {
      clearInterval(timer!);
      timer = null;
      budget = 0;
    }
  };

  from.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > highWater) from.pause();
    if (!timer) {
      last = performance.now();
      timer = setInterval(release, TICK_MS);
      release();
    }
  });
  from.on('end', () => {
    const finish = () => (queue.length === 0 ? to.end() : setTimeout(finish, TICK_MS));
    finish();
  });
}

export async function startThrottledProxy(targetPort: number, bytesPerSecond: number): Promise<ThrottledProxy> {
  const sockets = new Set<net.Socket>();
  const up: Direction = { bytes: 0 };
  const down: Direction = { bytes: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
    throttle(client, upstream, bytesPerSecond, up);
    throttle(upstream, client, bytesPerSecond, down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get upstreamBytes() {
      return up.bytes;
    },
    get downstreamBytes() {
      return down.bytes;
    },
    resetCounters() {
      up.bytes = 0;
      down.bytes = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
