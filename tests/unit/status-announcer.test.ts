/**
 * The editor's live region (client/editor/status-announcer.ts): a burst of status changes, as
 * typing makes ("Saving…" / "All changes saved" per keystroke), is read out once it settles, and
 * only if it says something new.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANNOUNCE_SETTLE_MS, announcementFor, createStatusAnnouncer } from '../../client/editor/status-announcer.js';
import type { EditorStatus } from '../../client/editor/status.js';

const saved: EditorStatus = { connection: 'connected', synced: true, saved: true, unsavedChanges: false, readOnly: false };
const saving: EditorStatus = { ...saved, saved: false, unsavedChanges: true };
const offline: EditorStatus = { connection: 'offline', synced: false, saved: false, unsavedChanges: true, readOnly: false };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('status announcements', () => {
  it('reads out a settled state once, not the states it passed through', () => {
    const said: string[] = [];
    const announcer = createStatusAnnouncer((text) => said.push(text));
    announcer.update({ connection: 'connecting', synced: false, saved: false, unsavedChanges: false, readOnly: false });
    announcer.update({ ...saved, synced: false, saved: false });
    announcer.update(saved);
    vi.advanceTimersByTime(ANNOUNCE_SETTLE_MS);
    expect(said).toEqual(['All changes saved']);

    // 40 keystrokes, each one saving then saved, a few milliseconds apart.
    for (let key = 0; key < 40; key++) {
      announcer.update(saving);
      vi.advanceTimersByTime(20);
      announcer.update(saved);
      vi.advanceTimersByTime(60);
    }
    vi.advanceTimersByTime(ANNOUNCE_SETTLE_MS);
    expect(said).toEqual(['All changes saved']); // nothing new to say

    announcer.update(offline);
    vi.advanceTimersByTime(ANNOUNCE_SETTLE_MS - 1);
    expect(said).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(said).toEqual(['All changes saved', 'Offline · changes kept on this device']);
    announcer.destroy();
  });

  it('says nothing for passing states and refusals (the editor’s alert says those), and nothing after destroy', () => {
    expect(announcementFor(saving)).toBeNull();
    expect(announcementFor({ ...saved, connection: 'denied', reason: 'no' })).toBeNull();
    expect(announcementFor({ ...saved, connection: 'refused', closeCode: 4404 })).toBeNull();
    expect(announcementFor({ ...saving, readOnly: true, unsavedChanges: false })).toBe('Read-only');
    const said: string[] = [];
    const announcer = createStatusAnnouncer((text) => said.push(text));
    announcer.update(offline);
    announcer.destroy();
    vi.advanceTimersByTime(ANNOUNCE_SETTLE_MS * 2);
    expect(said).toEqual([]);
  });
});
