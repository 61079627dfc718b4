import type { HistogramData } from './histogram.js';
import type { Flavor } from './wire.js';

/** One connection a load-client process opens. */
export interface ConnectionPlan {
  url: string;
  doc: string;
  flavor: Flavor;
  /** Global writer number when this connection writes edits, else null. */
  writerId: number | null;
  updatesPerSecond: number;
  /** Global cursor-owner number when this connection moves a cursor, else null. */
  cursorId: number | null;
  cursorsPerSecond: number;
  /** Typing in bursts with pauses instead of a steady rate; `updatesPerSecond` is then the long-run average. */
  typing?: TypingPlan;
  /**
   * A file holding one Yjs update (bench/lib/fixtures.ts `seedFile`) that this connection sends right
   * after its handshake, before it counts as open: the document's history, so that the server holds
   * a document of that size while the others join.
   */
  seedFile?: string;
}

/** Bursts of `burstMin`–`burstMax` characters at `burstCharsPerSecond`, pauses in between. */
export interface TypingPlan {
  burstCharsPerSecond: number;
  burstMin: number;
  burstMax: number;
  /** Seeds this typist's own random sequence (burst lengths and pauses). */
  seed: number;
}

/** Per writer: edits with sequence numbers in (after, upto] should have reached every other client of its room. */
export type SeqRanges = Record<number, [after: number, upto: number]>;

export type LoadCommand =
  | { cmd: 'open'; connections: ConnectionPlan[]; concurrency: number }
  | { cmd: 'start' }
  /** The edits each writer of this process has sent so far; `reset` also starts new latency and frame counts. */
  | { cmd: 'mark'; reset: boolean }
  /** Counts, per connection, the edits of `ranges` from the other writers of its room it never received. */
  | { cmd: 'check'; ranges: SeqRanges; writersByDoc: Record<string, number[]> }
  | { cmd: 'stop' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export interface ConnectionReport {
  /** Distinct edits from other writers seen during the window. */
  editsReceived: number;
  /** Latest cursor sequence seen per cursor owner. */
  cursors: Record<number, number>;
}

export type LoadEvent =
  | { event: 'ready' }
  | { event: 'opened'; openMs: number; failures: number; errors: string[] }
  | { event: 'stopped'; edits: Record<number, number>; cursors: Record<number, number> }
  | { event: 'marked'; edits: Record<number, number> }
  | {
      event: 'checked';
      expected: number;
      missing: number;
      editLatency: HistogramData;
      cursorLatency: HistogramData;
      framesIn: number;
      unexpectedCloses: number;
      errors: string[];
    }
  | {
      event: 'report';
      connections: ConnectionReport[];
      editLatency: HistogramData;
      cursorLatency: HistogramData;
      framesIn: number;
      awarenessFramesIn: number;
      bytesIn: number;
      unexpectedCloses: number;
      errors: string[];
    };
