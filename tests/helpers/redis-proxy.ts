/**
 * A TCP proxy in front of a real Redis that can lose chosen pub/sub messages on their way to the
 * clients behind it: what a Redis restart or a network blip does to pub/sub (which has no
 * delivery guarantee), but aimed at one message, so a test can say which one went missing.
 *
 * Replies from Redis are parsed (RESP2 and RESP3: ioredis 6 may negotiate either) only to find
 * message boundaries; every byte not dropped is forwarded unchanged. Commands from clients pass untouched.
 */
import net from 'node:net';

export interface PubSubMessage {
  channel: string;
  data: Buffer;
}

export interface RedisProxy {
  readonly url: string;
  /** Drops the next pub/sub message for which `match` holds (once); resolves when it was dropped. */
  dropNext(match: (message: PubSubMessage) => boolean): Promise<PubSubMessage>;
  close(): Promise<void>;
}

/** Byte length of the complete RESP2/RESP3 value at `offset`, or -1 if the buffer ends before it does. */
function valueLength(buffer: Buffer, offset: number): number {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return -1;
  const type = String.fromCharCode(buffer[offset]!);
  const header = lineEnd + 2 - offset;
  // Simple strings, errors, integers; RESP3 null, boolean, double, big number.
  if ('+-:_#,('.includes(type)) return header;
  const count = Number(buffer.toString('latin1', offset + 1, lineEnd));
  // Bulk string; RESP3 blob error, verbatim string.
  if ('$!='.includes(type)) {
    if (count < 0) return header;
    return lineEnd + 2 + count + 2 <= buffer.length ? header + count + 2 : -1;
  }
  // Array; RESP3 push, set; map and attribute (pairs).
  if ('*>~%|'.includes(type)) {
    const elements = '%|'.includes(type) ? 2 * count : count;
    let length = header;
    // Replies nest a few levels at most (Redis writes them, not a client), so this recursion is bounded.
    for (let i = 0; i < Math.max(elements, 0); i++) {
      const element = valueLength(buffer, offset + length);
      if (element < 0) return -1;
      length += element;
    }
    // An attribute annotates the value that follows it: both travel together.
    if (type === '|') {
      const annotated = valueLength(buffer, offset + length);
      return annotated < 0 ? -1 : length + annotated;
    }
    return length;
  }
  throw new Error(`redis-proxy: unexpected RESP type ${JSON.stringify(type)}`);
}

/** The channel and payload if the value is a pub/sub `message` push, else null. */
function pubSubMessage(value: Buffer): PubSubMessage | null {
  const head = value.subarray(0, 20).toString('latin1');
  if (!head.startsWith('*3\r\n$7\r\nmessage\r\n') && !head.startsWith('>3\r\n$7\r\nmessage\r\n')) return null;
  let offset = '*3\r\n$7\r\nmessage\r\n'.length;
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const lineEnd = value.indexOf('\r\n', offset);
    const size = Number(value.toString('latin1', offset + 1, lineEnd));
    parts.push(value.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return { channel: parts[0]!.toString('utf8'), data: parts[1]! };
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<net.Socket>();
  let drops: Array<{ match: (message: PubSubMessage) => boolean; resolve: (message: PubSubMessage) => void }> = [];

  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream);
    let pending: Buffer = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      const forward: Buffer[] = [];
      for (;;) {
        if (offset >= pending.length) break;
        const length = valueLength(pending, offset);
        if (length < 0) break;
        const value = pending.subarray(offset, offset + length);
        offset += length;
        const message = pubSubMessage(value);
        const drop = message ? drops.find((candidate) => candidate.match(message)) : undefined;
        if (drop && message) {
          drops = drops.filter((candidate) => candidate !== drop);
          drop.resolve(message);
          continue;
        }
        forward.push(value);
      }
      pending = Buffer.from(pending.subarray(offset));
      if (forward.length > 0) client.write(Buffer.concat(forward));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    dropNext(match) {
      return new Promise((resolve) => drops.push({ match, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
