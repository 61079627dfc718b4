import { SYNC_PATH } from '../../shared/protocol.js';

/** Turns 'https://host/base' into 'wss://host/base/sync'. */
export function syncUrl(server: string | undefined): string {
  const base = new URL(server ?? location.origin, location.href);
  if (base.protocol === 'http:') base.protocol = 'ws:';
  else if (base.protocol === 'https:') base.protocol = 'wss:';
  else if (base.protocol !== 'ws:' && base.protocol !== 'wss:') throw new Error(`collab-editor: unsupported server URL "${server}"`);
  const path = base.pathname.replace(/\/+$/, '');
  return `${base.protocol}//${base.host}${path}${SYNC_PATH}`;
}

/** The HTTP base of the same server: 'wss://host/base/sync' → 'https://host/base'. */
export function httpBase(sync: string): string {
  return sync.replace(/^ws/, 'http').slice(0, -SYNC_PATH.length);
}
