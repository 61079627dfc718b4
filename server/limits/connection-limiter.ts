export interface ConnectionLimits {
  /** Open connections in total; 0 disables the limit. */
  maxConnections: number;
  /** Open connections per client address; 0 disables the limit. */
  maxConnectionsPerAddress: number;
}

export type Admission = { ok: true; release(): void } | { ok: false; status: 429 | 503; reason: string };

/** Counts open connections in total and per client address, and refuses those beyond the limits. */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  get open(): number {
    return this.total;
  }

  /** Number of addresses with open connections (the map never keeps zero entries). */
  get addresses(): number {
    return this.perAddress.size;
  }

  /** Admits one more connection from `address`; the caller must call release() once it is gone. */
  admit(address: string): Admission {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (maxConnections > 0 && this.total >= maxConnections) {
      return { ok: false, status: 503, reason: `the server is at its limit of ${maxConnections} connections; try again later` };
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (maxConnectionsPerAddress > 0 && fromAddress >= maxConnectionsPerAddress) {
      return { ok: false, status: 429, reason: `too many connections from your address (limit ${maxConnectionsPerAddress})` };
    }
    this.total++;
    this.perAddress.set(address, fromAddress + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.perAddress.delete(address);
        else this.perAddress.set(address, left);
      },
    };
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
