export interface ConnectionLimits {
  /** Open connections in total; 0 disables the limit. */
  maxConnections: number;
  /** Open connections per client address; 0 disables the limit. */
  maxConnectionsPerAddress: number;
}

/** An admitted connection's place in the counts; `release()` gives it back (again is harmless). */
export interface Slot {
  readonly ok: true;
  /** The client address it is counted against. */
  readonly address: string;
  release(): void;
}

export type Admission = Slot | { ok: false; status: 429 | 503; reason: string };

/** Open connections in total and per client address (the map never keeps zero entries). */
class Counts {
  total = 0;
  readonly perAddress = new Map<string, number>();

  add(address: string): void {
    this.total++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  remove(address: string): void {
    this.total--;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }
}

/** A class rather than a closure: it lives as long as its connection, so it is kept small. */
class AdmittedSlot implements Slot {
  readonly ok = true;
  private released = false;

  constructor(
    private readonly counts: Counts,
    readonly address: string,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.counts.remove(this.address);
  }
}

/** Counts open connections in total and per client address, and refuses those beyond the limits. */
export class ConnectionLimiter {
  private readonly counts = new Counts();

  constructor(private readonly limits: ConnectionLimits) {}

  get open(): number {
    return this.counts.total;
  }

  /** Number of addresses with open connections. */
  get addresses(): number {
    return this.counts.perAddress.size;
  }

  /** Admits one more connection from `address`; the caller must release the slot once it is gone. */
  admit(address: string): Admission {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (maxConnections > 0 && this.counts.total >= maxConnections) {
      return { ok: false, status: 503, reason: `the server is at its limit of ${maxConnections} connections; try again later` };
    }
    if (maxConnectionsPerAddress > 0 && (this.counts.perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) {
      return { ok: false, status: 429, reason: `too many connections from your address (limit ${maxConnectionsPerAddress})` };
    }
    this.counts.add(address);
    return new AdmittedSlot(this.counts, address);
  }
}

/**
 * The client's address: the TCP peer, or with `trustProxy` the last entry of X-Forwarded-For (the
 * address the proxy in front of us saw; earlier entries can be forged by the client).
 */
export function clientAddress(remoteAddress: string | undefined, forwardedFor: string | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    const last = forwardedFor.split(',').map((entry) => entry.trim()).filter(Boolean).pop();
    if (last) return last;
  }
  return remoteAddress ?? 'unknown';
}
