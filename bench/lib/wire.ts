import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/**
 * How a load client frames its messages for one kind of server.
 * - `y`: plain y-websocket (this project's server and the reference server);
 * - `hocuspocus`: every message prefixed with the document name (varString), plus an auth handshake;
 * - `raw`: the raw relay, which forwards bytes between clients and never answers anything.
 */
export type Flavor = 'y' | 'hocuspocus' | 'raw';

const SYNC = 0;
const AWARENESS = 1;
const AUTH = 2;
/** Hocuspocus 4.x keep-alive: the server's Ping and the provider's answer, one byte each, no document name. */
const HP_PING = 9;
const HP_PONG = 10;
/** The provider version a 4.x provider announces in its Auth message. */
const HP_PROVIDER_VERSION = '4.8.0';
/** Hocuspocus: a Sync message that answers our step 1 (it won't ask for another step 1). */
const HP_SYNC_REPLY = 4;
const STEP1 = 0;
const STEP2 = 1;
const UPDATE = 2;

/** An empty Yjs update (no structs, empty delete set). */
export const EMPTY_UPDATE = new Uint8Array([0, 0]);
/** An empty state vector: "send me everything". */
export const EMPTY_STATE_VECTOR = new Uint8Array([0]);

function frame(prefix: string | null, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  if (prefix !== null) encoding.writeVarString(encoder, prefix);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** Encodes client → server messages for one document in one flavor. */
export class Framer {
  private readonly prefix: string | null;

  constructor(readonly flavor: Flavor, readonly documentName: string) {
    this.prefix = flavor === 'hocuspocus' ? documentName : null;
  }

  /** Hocuspocus needs an auth message before anything else; the others need nothing. */
  hello(): Uint8Array[] {
    if (this.flavor !== 'hocuspocus') return [];
    // Auth/Token with an empty token, as @hocuspocus/provider 4.x sends it (with its version);
    // neither server has an authentication hook here, so both accept it.
    return [
      frame(this.prefix, (e) => {
        encoding.writeVarUint(e, AUTH);
        encoding.writeVarUint(e, 0);
        encoding.writeVarString(e, '');
        encoding.writeVarString(e, HP_PROVIDER_VERSION);
      }),
    ];
  }

  /** The answer to a Hocuspocus Ping. */
  pong(): Uint8Array {
    return Uint8Array.of(HP_PONG);
  }

  syncStep1(stateVector: Uint8Array = EMPTY_STATE_VECTOR): Uint8Array {
    return frame(this.prefix, (e) => {
      encoding.writeVarUint(e, SYNC);
      encoding.writeVarUint(e, STEP1);
      encoding.writeVarUint8Array(e, stateVector);
    });
  }

  syncStep2(update: Uint8Array): Uint8Array {
    return frame(this.prefix, (e) => {
      encoding.writeVarUint(e, SYNC);
      encoding.writeVarUint(e, STEP2);
      encoding.writeVarUint8Array(e, update);
    });
  }

  update(update: Uint8Array): Uint8Array {
    return frame(this.prefix, (e) => {
      encoding.writeVarUint(e, SYNC);
      encoding.writeVarUint(e, UPDATE);
      encoding.writeVarUint8Array(e, update);
    });
  }

  awareness(awarenessUpdate: Uint8Array): Uint8Array {
    return frame(this.prefix, (e) => {
      encoding.writeVarUint(e, AWARENESS);
      encoding.writeVarUint8Array(e, awarenessUpdate);
    });
  }
}

/** One client's awareness update holding one state, encoded as y-protocols/awareness does. */
export function encodeAwareness(clientId: number, clock: number, stateJson: string): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, clientId);
  encoding.writeVarUint(encoder, clock);
  encoding.writeVarString(encoder, stateJson);
  return encoding.toUint8Array(encoder);
}

export type ServerMessageKind = 'step1' | 'step2' | 'update' | 'awareness' | 'auth' | 'ping' | 'other';

/**
 * Classifies a server → client message by its first bytes only (no Yjs decoding) and returns
 * where its payload starts; for `hocuspocus` the document-name prefix is skipped.
 */
export function classify(flavor: Flavor, bytes: Uint8Array): { kind: ServerMessageKind; offset: number } {
  let pos = 0;
  if (flavor === 'hocuspocus') {
    if (bytes.length === 1 && bytes[0] === HP_PING) return { kind: 'ping', offset: 1 };
    // varString: varUint length then bytes; document names here are short (< 128 bytes).
    const length = bytes[0]!;
    if (length >= 0x80) return { kind: 'other', offset: 0 };
    pos = 1 + length;
  }
  const type = bytes[pos];
  if (type === AWARENESS) return { kind: 'awareness', offset: pos + 1 };
  if (type === AUTH) return { kind: 'auth', offset: pos + 1 };
  if (type === SYNC || type === HP_SYNC_REPLY) {
    const sub = bytes[pos + 1];
    if (sub === STEP1) return { kind: 'step1', offset: pos + 2 };
    if (sub === STEP2) return { kind: 'step2', offset: pos + 2 };
    if (sub === UPDATE) return { kind: 'update', offset: pos + 2 };
  }
  return { kind: 'other', offset: pos };
}

/** Reads the Yjs update carried by a step2/update message (for the few clients that decode). */
export function readPayload(bytes: Uint8Array, offset: number): Uint8Array {
  const decoder = decoding.createDecoder(bytes);
  decoder.pos = offset;
  return decoding.readVarUint8Array(decoder);
}

/**
 * Markers written into document text and awareness states so receivers can measure latency by
 * scanning bytes: `@@<kind><source>.<seq>.<sentMicros>|`, kind `w` for a document edit, `a` for a
 * cursor move. Yjs writes strings verbatim (UTF-8) into updates, so the marker survives merging.
 */
export function marker(kind: 'w' | 'a', source: number, seq: number, sentMicros: number): string {
  return `@@${kind}${source}.${seq}.${sentMicros}|`;
}

const AT = 0x40;
const DOT = 0x2e;
const BAR = 0x7c;
const ZERO = 0x30;

/** Calls `found` for every marker in `bytes` from `offset`. Pure byte scanning. */
export function scanMarkers(bytes: Uint8Array, offset: number, found: (kind: number, source: number, seq: number, sentMicros: number) => void): void {
  const end = bytes.length - 8;
  let i = offset;
  while (i < end) {
    if (bytes[i] !== AT || bytes[i + 1] !== AT) {
      i++;
      continue;
    }
    const kind = bytes[i + 2]!;
    let j = i + 3;
    const numbers = [0, 0, 0];
    let n = 0;
    let ok = true;
    for (; j < bytes.length; j++) {
      const c = bytes[j]!;
      if (c === BAR) break;
      if (c === DOT) {
        n++;
        if (n > 2) {
          ok = false;
          break;
        }
        continue;
      }
      const digit = c - ZERO;
      if (digit < 0 || digit > 9) {
        ok = false;
        break;
      }
      numbers[n] = numbers[n]! * 10 + digit;
    }
    if (ok && n === 2 && j < bytes.length) found(kind, numbers[0]!, numbers[1]!, numbers[2]!);
    i = j + 1;
  }
}

export const MARKER_EDIT = 0x77; // 'w'
export const MARKER_CURSOR = 0x61; // 'a'

/** Microseconds on CLOCK_MONOTONIC, which every process on the machine shares. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
