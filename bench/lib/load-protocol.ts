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
}

export type LoadCommand =
  | { cmd: 'open'; connections: ConnectionPlan[]; concurrency: number }
  | { cmd: 'start' }
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
