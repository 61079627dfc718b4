/** The editor's status names the HTTP fallback when it carries the connection (client/editor/status.ts). */
import { describe, expect, it } from 'vitest';
import { sameStatus, statusLabel, type EditorStatus } from '../../client/editor/status.js';

const connected: EditorStatus = { connection: 'connected', synced: true, saved: true, unsavedChanges: false, readOnly: false, transport: 'websocket' };

describe('status with a transport', () => {
  it('says "(HTTP)" after the label over the fallback, nothing more over WebSocket', () => {
    expect(statusLabel(connected)).toBe('All changes saved');
    expect(statusLabel({ ...connected, transport: 'http' })).toBe('All changes saved (HTTP)');
    expect(statusLabel({ ...connected, transport: 'http', saved: false })).toBe('Saving… (HTTP)');
    expect(statusLabel({ ...connected, transport: 'http', synced: false })).toBe('Syncing… (HTTP)');
    expect(statusLabel({ ...connected, transport: 'http', readOnly: true })).toBe('Read-only (HTTP)');
    expect(statusLabel({ ...connected, connection: 'offline', transport: undefined })).toBe('Offline');
  });

  it('tells observers when only the transport changed', () => {
    expect(sameStatus(connected, { ...connected, transport: 'http' })).toBe(false);
    expect(sameStatus(connected, { ...connected })).toBe(true);
  });
});
