import type { RevocationList } from './revocation.js';
import type { Access } from './tokens.js';

/** Close code for a token that expired or was revoked while its connection was open. */
export const TOKEN_ENDED_CLOSE_CODE = 4401;

interface Session {
  access: Access;
  end(code: number, reason: string): void;
  timer: NodeJS.Timeout | null;
}

/** What `track` returns for a connection it does not watch: one function for all of them. */
const untracked = (): void => {};

/** setTimeout fires at once for delays beyond this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Live authenticated connections: each ends when its token expires (a timer at `exp`) or is
 * revoked (checked whenever the revocation list changes).
 */
export class SessionTracker {
  private readonly sessions = new Set<Session>();
  private readonly unsubscribe: () => void;

  constructor(private readonly revocations: RevocationList | null) {
    this.unsubscribe = revocations?.onChange(() => this.sweep()) ?? (() => {});
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Watches one connection; `end` is called at most once. Returns the function to call when the
   * connection is gone.
   */
  track(access: Access, end: (code: number, reason: string) => void): () => void {
    if (!access.authenticated) return untracked;
    const session: Session = { access, end, timer: null };
    this.sessions.add(session);
    this.arm(session);
    return () => this.untrack(session);
  }

  /** Ends every session whose token is now revoked. */
  sweep(): void {
    if (!this.revocations) return;
    for (const session of [...this.sessions]) {
      const reason = this.revocations.reasonFor(session.access);
      if (reason) this.finish(session, reason);
    }
  }

  stop(): void {
    this.unsubscribe();
    for (const session of this.sessions) if (session.timer) clearTimeout(session.timer);
    this.sessions.clear();
  }

  private arm(session: Session): void {
    if (session.access.expiresAt === null) return;
    const remaining = session.access.expiresAt * 1000 - Date.now();
    if (remaining <= 0) {
      this.finish(session, 'token expired');
      return;
    }
    session.timer = setTimeout(() => {
      session.timer = null;
      this.arm(session);
    }, Math.min(remaining, MAX_TIMER_MS));
    session.timer.unref();
  }

  private finish(session: Session, reason: string): void {
    if (!this.sessions.has(session)) return;
    this.untrack(session);
    session.end(TOKEN_ENDED_CLOSE_CODE, reason);
  }

  private untrack(session: Session): void {
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    this.sessions.delete(session);
  }
}
