/**
 * A load-client process: opens the connections of its plan, writes Yjs edits and cursor moves at
 * the planned rates once told to start, and measures what it receives by scanning bytes for
 * markers (it never decodes a document). Driven by the runner over IPC.
 */
import * as Y from 'yjs';
import { random, readUpdates } from '../lib/fixtures.js';
import { Histogram } from '../lib/histogram.js';
import { MiniWebSocket } from '../lib/mini-ws.js';
import type { ConnectionPlan, LoadCommand, LoadEvent, ConnectionReport, SeqRanges } from '../lib/load-protocol.js';
import { Framer, classify, encodeAwareness, EMPTY_UPDATE, marker, MARKER_CURSOR, MARKER_EDIT, nowMicros, scanMarkers } from '../lib/wire.js';

const editLatency = new Histogram();
const cursorLatency = new Histogram();
let measuring = false;
let framesIn = 0;
let awarenessFramesIn = 0;
let bytesIn = 0;
let unexpectedCloses = 0;
const errors: string[] = [];

function send(event: LoadEvent): void {
  process.send!(event);
}

function note(error: string): void {
  if (errors.length < 10) errors.push(error);
}

/** Seed updates by file, read once per process (many documents share one). */
const seeds = new Map<string, Uint8Array>();
function seedOf(file: string): Uint8Array {
  let seed = seeds.get(file);
  if (!seed) {
    seed = readUpdates(file)[0]!;
    seeds.set(file, seed);
  }
  return seed;
}

class Client {
  readonly framer: Framer;
  ws: MiniWebSocket | null = null;
  synced = false;
  /** Distinct edits seen per writer: a bitmap by sequence number. */
  private readonly seen = new Map<number, Uint8Array>();
  private seenCount = 0;
  /** Latest cursor sequence seen per cursor owner. */
  readonly cursors = new Map<number, number>();
  private readonly doc: Y.Doc | null;
  private readonly text: Y.Text | null;
  private lastUpdate: Uint8Array | null = null;
  private readonly awarenessClientId: number;
  editSeq = 0;
  cursorSeq = 0;
  nextEditAt = 0;
  nextCursorAt = 0;
  private closing = false;
  /** Set between sending the seed (and a step 1 after it) and the server's answer to that step 1. */
  private seeding = false;
  private seeded = false;
  /** Typing in bursts: characters left in the current burst, and this typist's random sequence. */
  private burstLeft = 0;
  private readonly chance: (() => number) | null;

  constructor(readonly plan: ConnectionPlan) {
    this.framer = new Framer(plan.flavor, plan.doc);
    if (plan.writerId !== null) {
      this.doc = new Y.Doc();
      this.text = this.doc.getText('t');
      this.doc.on('update', (update: Uint8Array) => {
        this.lastUpdate = update;
      });
      this.awarenessClientId = this.doc.clientID;
    } else {
      this.doc = null;
      this.text = null;
      this.awarenessClientId = Math.floor(Math.random() * 0xffffffff);
    }
    this.chance = plan.typing ? random(plan.typing.seed) : null;
  }

  /** Milliseconds from one edit to the next: steady, or within a burst, or a pause between bursts. */
  editGap(): number {
    const typing = this.plan.typing;
    if (!typing) return 1000 / this.plan.updatesPerSecond;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      return 1000 / typing.burstCharsPerSecond;
    }
    // A pause whose mean keeps the long-run rate at updatesPerSecond: a burst of L characters takes
    // L / burst rate, the whole cycle L / average rate.
    const meanBurst = (typing.burstMin + typing.burstMax) / 2;
    const meanPauseMs = 1000 * (meanBurst / this.plan.updatesPerSecond - meanBurst / typing.burstCharsPerSecond);
    this.burstLeft = typing.burstMin + Math.floor(this.chance!() * (typing.burstMax - typing.burstMin + 1)) - 1;
    return Math.max(0, meanPauseMs * (0.5 + this.chance!()));
  }

  /** Where in its schedule this client starts typing and moving its cursor (a random phase). */
  schedule(now: number): void {
    const { updatesPerSecond, cursorsPerSecond } = this.plan;
    if (updatesPerSecond > 0) this.nextEditAt = now + (this.plan.typing ? this.editGap() * Math.random() : Math.random() * (1000 / updatesPerSecond));
    if (cursorsPerSecond > 0) this.nextCursorAt = now + Math.random() * (1000 / cursorsPerSecond);
  }

  /** Edits of `writer` with sequence numbers in (after, upto] this client never received. */
  missing(writer: number, after: number, upto: number): number {
    const bits = this.seen.get(writer);
    let missing = 0;
    for (let seq = after + 1; seq <= upto; seq++) if (!bits || seq >> 3 >= bits.length || !(bits[seq >> 3]! & (1 << (seq & 7)))) missing++;
    return missing;
  }

  private sendSeed(): void {
    this.seeded = true;
    this.ws!.send(this.framer.update(seedOf(this.plan.seedFile!)));
    if (this.plan.flavor === 'raw') return;
    // Answered once the server handled the seed: then the document is that large for whoever joins next.
    this.seeding = true;
    this.ws!.send(this.framer.syncStep1());
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new MiniWebSocket(this.plan.url);
      this.ws = ws;
      let settled = false;
      const done = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      ws.opened.then(
        () => {
          if (this.plan.flavor === 'raw') {
            this.synced = true;
            if (this.plan.seedFile) this.sendSeed();
            done();
            return;
          }
          for (const hello of this.framer.hello()) ws.send(hello);
          ws.send(this.framer.syncStep1());
        },
        (error: Error) => {
          note(`${this.plan.doc}: ${error.message}`);
          done(error);
        },
      );
      ws.onMessage = (data) => {
        this.receive(data);
        if (this.synced && !this.seeding) done();
      };
      ws.onClose((code, reason) => {
        if (!this.closing) {
          unexpectedCloses++;
          note(`${this.plan.doc}: closed ${code} ${reason}`);
        }
        done(new Error(`closed ${code} before the handshake`));
      });
    });
  }

  private receive(bytes: Buffer): void {
    if (measuring) {
      framesIn++;
      bytesIn += bytes.length;
    }
    const { kind, offset } = classify(this.plan.flavor, bytes);
    switch (kind) {
      case 'step1':
        // A provider answers with what it has; our writers have sent everything already.
        this.ws!.send(this.framer.syncStep2(EMPTY_UPDATE));
        break;
      case 'step2':
        if (this.seeding) this.seeding = false;
        else if (!this.synced) {
          this.synced = true;
          if (this.plan.seedFile && !this.seeded) this.sendSeed();
        }
        break;
      case 'ping':
        this.ws!.send(this.framer.pong());
        break;
      case 'update':
        if (measuring) scanMarkers(bytes, offset, this.onMarker);
        break;
      case 'awareness':
        if (measuring) {
          awarenessFramesIn++;
          scanMarkers(bytes, offset, this.onMarker);
        }
        break;
      default:
        break;
    }
  }

  private readonly onMarker = (kind: number, source: number, seq: number, sentMicros: number): void => {
    if (kind === MARKER_EDIT) {
      if (source === this.plan.writerId) return;
      let bits = this.seen.get(source);
      if (!bits || bits.length <= seq >> 3) {
        const grown = new Uint8Array(Math.max(64, (seq >> 3) * 2));
        if (bits) grown.set(bits);
        bits = grown;
        this.seen.set(source, bits);
      }
      const mask = 1 << (seq & 7);
      if (bits[seq >> 3]! & mask) return;
      bits[seq >> 3]! |= mask;
      this.seenCount++;
      editLatency.record(nowMicros() - sentMicros);
    } else if (kind === MARKER_CURSOR) {
      if (source === this.plan.cursorId) return;
      const last = this.cursors.get(source) ?? 0;
      if (seq <= last) return;
      this.cursors.set(source, seq);
      cursorLatency.record(nowMicros() - sentMicros);
    }
  };

  writeEdit(): void {
    const t = nowMicros();
    this.editSeq++;
    this.text!.insert(this.text!.length, marker('w', this.plan.writerId!, this.editSeq, t));
    this.ws!.send(this.framer.update(this.lastUpdate!));
  }

  moveCursor(): void {
    const t = nowMicros();
    this.cursorSeq++;
    const position = this.cursorSeq * 7;
    const state = `{"user":{"name":"User ${this.plan.cursorId}","color":"#30bced"},"cursor":{"anchor":${position},"head":${position}},"m":"${marker('a', this.plan.cursorId!, this.cursorSeq, t)}"}`;
    this.ws!.send(this.framer.awareness(encodeAwareness(this.awarenessClientId, this.cursorSeq, state)));
  }

  report(): ConnectionReport {
    return { editsReceived: this.seenCount, cursors: Object.fromEntries(this.cursors) };
  }

  close(): void {
    this.closing = true;
    this.ws?.terminate();
  }
}

/** Every connection of this process, in the order the runner sent their plans (reports follow it). */
const clients: Client[] = [];
/** Clients that write or move a cursor, once started. */
const active: Client[] = [];
let started = false;
let ticker: NodeJS.Timeout | null = null;

function activate(client: Client, now: number): void {
  if (client.plan.updatesPerSecond <= 0 && client.plan.cursorsPerSecond <= 0) return;
  client.schedule(now);
  active.push(client);
}

/** Opens more connections (all of them at first; a ramp adds some at every step). Once started, new ones start typing when open. */
async function openAll(plans: ConnectionPlan[], concurrency: number): Promise<void> {
  const added = plans.map((plan) => new Client(plan));
  clients.push(...added);
  const openedAt = performance.now();
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < added.length) {
      const client = added[next++]!;
      try {
        await client.open();
        if (started) activate(client, performance.now());
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, added.length) }, worker));
  send({ event: 'opened', openMs: performance.now() - openedAt, failures, errors });
}

function start(): void {
  measuring = true;
  started = true;
  const now = performance.now();
  for (const client of clients) if (client.synced) activate(client, now);
  ticker = setInterval(() => {
    const at = performance.now();
    for (const client of active) {
      if (!client.ws?.isOpen) continue;
      const { updatesPerSecond, cursorsPerSecond } = client.plan;
      if (updatesPerSecond > 0) {
        // A stalled process catches up at most one second of backlog.
        if (at - client.nextEditAt > 1000) client.nextEditAt = at - 1000;
        while (client.nextEditAt <= at) {
          client.writeEdit();
          client.nextEditAt += client.editGap();
        }
      }
      if (cursorsPerSecond > 0) {
        const period = 1000 / cursorsPerSecond;
        if (at - client.nextCursorAt > 1000) client.nextCursorAt = at - 1000;
        while (client.nextCursorAt <= at) {
          client.moveCursor();
          client.nextCursorAt += period;
        }
      }
    }
  }, 2);
}

function writtenEdits(): Record<number, number> {
  const edits: Record<number, number> = {};
  for (const client of clients) if (client.plan.writerId !== null) edits[client.plan.writerId] = client.editSeq;
  return edits;
}

function check(ranges: SeqRanges, writersByDoc: Record<string, number[]>): { expected: number; missing: number } {
  let expected = 0;
  let missing = 0;
  for (const client of clients) {
    for (const writer of writersByDoc[client.plan.doc] ?? []) {
      const range = ranges[writer];
      if (writer === client.plan.writerId || !range) continue;
      expected += range[1] - range[0];
      missing += client.missing(writer, range[0], range[1]);
    }
  }
  return { expected, missing };
}

function stop(): void {
  if (ticker) clearInterval(ticker);
  ticker = null;
  started = false;
  const edits: Record<number, number> = {};
  const cursors: Record<number, number> = {};
  for (const client of clients) {
    if (client.plan.writerId !== null) edits[client.plan.writerId] = client.editSeq;
    if (client.plan.cursorId !== null) cursors[client.plan.cursorId] = client.cursorSeq;
  }
  send({ event: 'stopped', edits, cursors });
}

process.on('message', (message: LoadCommand) => {
  switch (message.cmd) {
    case 'open':
      void openAll(message.connections, message.concurrency).catch((error: unknown) => {
        note(String(error));
        send({ event: 'opened', openMs: 0, failures: message.connections.length, errors });
      });
      break;
    case 'start':
      start();
      break;
    case 'mark':
      if (message.reset) {
        editLatency.reset();
        cursorLatency.reset();
        framesIn = 0;
        awarenessFramesIn = 0;
        bytesIn = 0;
      }
      send({ event: 'marked', edits: writtenEdits() });
      break;
    case 'check':
      send({
        event: 'checked',
        ...check(message.ranges, message.writersByDoc),
        editLatency: editLatency.toData(),
        cursorLatency: cursorLatency.toData(),
        framesIn,
        unexpectedCloses,
        errors,
      });
      break;
    case 'stop':
      stop();
      break;
    case 'report':
      measuring = false;
      send({
        event: 'report',
        connections: clients.map((client) => client.report()),
        editLatency: editLatency.toData(),
        cursorLatency: cursorLatency.toData(),
        framesIn,
        awarenessFramesIn,
        bytesIn,
        unexpectedCloses,
        errors,
      });
      break;
    case 'close':
      for (const client of clients) client.close();
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
send({ event: 'ready' });
