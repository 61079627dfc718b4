/** The two ways the fallback socket reaches a server. */
export type TransportKind = 'websocket' | 'http';

/** Remembers, per server, which transport worked last, so that the next visit starts with it. */
export interface TransportMemory {
  get(server: string): TransportKind | null;
  set(server: string, transport: TransportKind): void;
}

const STORAGE_PREFIX = 'collab.transport:';

/** The part of the browser's Storage used here (no DOM types needed: the class runs in Node too). */
interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** In this process only (Node, or a browser whose storage is unavailable). */
export function memoryTransportMemory(): TransportMemory {
  const known = new Map<string, TransportKind>();
  return {
    get: (server) => known.get(server) ?? null,
    set: (server, transport) => void known.set(server, transport),
  };
}

/**
 * In the browser's localStorage (`collab.transport:<host>`), kept across visits; falls back to
 * this page's memory where storage is refused (some sandboxed frames, private modes).
 */
export function defaultTransportMemory(): TransportMemory {
  const fallback = memoryTransportMemory();
  const storage = (): KeyValueStorage | null => {
    try {
      return (globalThis as { localStorage?: KeyValueStorage }).localStorage ?? null;
    } catch {
      return null;
    }
  };
  return {
    get(server) {
      try {
        const value = storage()?.getItem(STORAGE_PREFIX + server);
        if (value === 'websocket' || value === 'http') return value;
      } catch {
        // storage refused
      }
      return fallback.get(server);
    },
    set(server, transport) {
      fallback.set(server, transport);
      try {
        storage()?.setItem(STORAGE_PREFIX + server, transport);
      } catch {
        // storage refused or full: this page remembers it
      }
    },
  };
}
