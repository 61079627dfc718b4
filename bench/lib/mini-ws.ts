import crypto from 'node:crypto';
import net from 'node:net';

/**
 * A deliberately small WebSocket client for load generation. Receiving is what dominates a load
 * client (a storm delivers tens of thousands of frames a second), so frames are parsed in place
 * from each TCP chunk and handed over as views, without per-frame events or copies. Sending masks
 * as RFC 6455 requires. No extensions, no text frames.
 */
export type FrameHandler = (data: Buffer) => void;

const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export class MiniWebSocket {
  private readonly socket: net.Socket;
  private pending: Buffer | null = null;
  private fragments: Buffer[] | null = null;
  private upgraded = false;
  private closedCode: number | null = null;
  private readonly closeListeners: Array<(code: number, reason: string) => void> = [];
  private readonly mask = crypto.randomBytes(4);
  onMessage: FrameHandler = () => {};
  readonly opened: Promise<void>;

  constructor(url: string) {
    const { hostname, port, pathname, search } = new URL(url);
    const key = crypto.randomBytes(16).toString('base64');
    const expectedAccept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    this.socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.socket.write(
          `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        if (this.upgraded) return this.receive(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const response = head.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101/.test(response) || !response.includes(expectedAccept)) {
          reject(new Error(`upgrade refused: ${response.split('\r\n')[0]}`));
          this.socket.destroy();
          return;
        }
        this.upgraded = true;
        resolve();
        const rest = head.subarray(end + 4);
        if (rest.length > 0) this.receive(rest);
      };
      this.socket.on('data', onData);
      this.socket.once('error', (error) => {
        reject(error);
        this.finish(1006, error.message);
      });
      this.socket.once('close', () => {
        reject(new Error('connection closed during the upgrade'));
        this.finish(1006, 'connection lost');
      });
    });
    this.opened.catch(() => {});
  }

  get isOpen(): boolean {
    return this.upgraded && this.closedCode === null;
  }

  /** Bytes handed to the socket but not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  onClose(listener: (code: number, reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  send(data: Uint8Array, opcode = OP_BINARY): void {
    if (!this.isOpen) return;
    const length = data.length;
    const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headerLength + 4 + length);
    frame[0] = 0x80 | opcode;
    if (length < 126) {
      frame[1] = 0x80 | length;
    } else if (length < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      frame.writeUInt32BE(length >>> 0, 6);
    }
    const mask = this.mask;
    mask.copy(frame, headerLength);
    const start = headerLength + 4;
    for (let i = 0; i < length; i++) frame[start + i] = data[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  close(): void {
    if (this.isOpen) this.send(Buffer.from([0x03, 0xe8]), OP_CLOSE);
    this.socket.end();
    this.finish(1000, 'closed by client');
  }

  terminate(): void {
    this.socket.destroy();
    this.finish(1006, 'terminated');
  }

  private finish(code: number, reason: string): void {
    if (this.closedCode !== null) return;
    this.closedCode = code;
    for (const listener of this.closeListeners) listener(code, reason);
  }

  private receive(chunk: Buffer): void {
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    while (data.length - pos >= 2) {
      const b0 = data[pos]!;
      const b1 = data[pos + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - pos < 4) break;
        length = data.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - pos < 10) break;
        length = data.readUInt32BE(pos + 2) * 2 ** 32 + data.readUInt32BE(pos + 6);
        header = 10;
      }
      if (b1 & 0x80) header += 4; // servers never mask, but skip a mask key if one is there
      if (data.length - pos < header + length) break;
      const payload = data.subarray(pos + header, pos + header + length);
      pos += header + length;
      this.frame(b0 & 0x80, b0 & 0x0f, payload);
    }
    if (pos < data.length) this.pending = Buffer.from(data.subarray(pos));
  }

  private frame(fin: number, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_PING:
        this.send(payload, OP_PONG);
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.subarray(2).toString('utf8');
        if (this.isOpen) this.send(payload.subarray(0, 2), OP_CLOSE);
        this.socket.end();
        this.finish(code, reason);
        return;
      }
      case OP_CONTINUATION:
        if (!this.fragments) return;
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.onMessage(whole);
        }
        return;
      default:
        if (fin) this.onMessage(payload);
        else this.fragments = [Buffer.from(payload)];
    }
  }
}
