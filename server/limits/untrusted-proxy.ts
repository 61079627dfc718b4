import type { Logger } from '../logger.js';

/** Appended to a per-address refusal of a request that came through a proxy we do not trust. */
export const UNTRUSTED_PROXY_HINT = 'requests carry X-Forwarded-For: set TRUST_PROXY=1 behind a reverse proxy';

/**
 * Behind a reverse proxy without TRUST_PROXY, every client has the proxy's address, so the
 * per-address limits (MAX_CONNECTIONS_PER_ADDRESS: 500 connections by default; an open server's
 * document creations) hold for all of them together and cap the whole server, with no hint why.
 * Requests that carry X-Forwarded-For while TRUST_PROXY is off are the sign: the first one is
 * logged as a warning (once per process: a header lookup per request costs nothing, a log line
 * per request would), and per-address refusals of such requests say what to do.
 */
export class UntrustedProxyCheck {
  private warned = false;

  constructor(
    private readonly trustProxy: boolean,
    private readonly logger: Logger,
  ) {}

  /** For a request with this X-Forwarded-For: the hint for its per-address refusals, or null. */
  forwardedForProblem(forwardedFor: string | undefined): string | null {
    if (this.trustProxy || !forwardedFor) return null;
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        'requests carry X-Forwarded-For but TRUST_PROXY is off: if a reverse proxy is in front, every client shares its address, ' +
          'and MAX_CONNECTIONS_PER_ADDRESS limits them all together; set TRUST_PROXY=1 behind a reverse proxy (and only there)',
      );
    }
    return UNTRUSTED_PROXY_HINT;
  }
}
