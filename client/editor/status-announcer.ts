import { statusLabel, type EditorStatus } from './status.js';

/**
 * How long a status must hold before it is read out. Typing flips the status between "Saving…" and
 * "All changes saved" on every keystroke (a commit takes a few milliseconds): 40 characters typed
 * changed it 74 times, each one an announcement. Announcing only a state that held this long, and
 * only when it differs from the last one announced, leaves one announcement (or none) per burst.
 */
export const ANNOUNCE_SETTLE_MS = 1500;

/**
 * What a screen reader is told about a status, or null for nothing: passing states (connecting,
 * syncing, saving) are not news, and refusals are told by the editor's alert (status-view.ts).
 */
export function announcementFor(status: EditorStatus): string | null {
  if (status.connection === 'denied' || status.connection === 'refused' || status.connection === 'connecting') return null;
  if (status.connection === 'connected' && (!status.synced || (!status.saved && !status.readOnly))) return null;
  return statusLabel(status);
}

/**
 * Debounces status changes into announcements: `say` is called with a settled state's text when it
 * differs from the last one said. `destroy` cancels a pending announcement.
 */
export function createStatusAnnouncer(say: (text: string) => void, settleMs = ANNOUNCE_SETTLE_MS): { update(status: EditorStatus): void; destroy(): void } {
  let pending: string | null = null;
  let spoken: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    update(status) {
      const text = announcementFor(status);
      if (text === pending && timer !== null) return;
      pending = text;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        if (pending === null || pending === spoken) return;
        spoken = pending;
        say(pending);
      }, settleMs);
    },
    destroy() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
