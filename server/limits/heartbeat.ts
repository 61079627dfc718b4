import type { WebSocket } from 'ws';

export interface Heartbeat {
  /** Starts watching a socket's pongs; call it once, right after the upgrade. */
  watch(ws: WebSocket): void;
  /**
   * A message arrived on the socket, which answers a ping as a pong does. Called by the socket's
   * own `message` listener: a second listener of the heartbeat's would turn the socket's listener
   * slot into an array (about 60 bytes more per connection) and cost a call per message.
   */
  heard(ws: WebSocket): void;
  stop(): void;
}

/**
 * Pings every socket at an interval and terminates those that did not answer the previous ping
 * (with a pong, or any message: see heard()): half-open connections would otherwise hold their
 * room and memory forever. Only sockets still owing an answer are remembered (a closed one until
 * the next ping at most), so idle ones cost nothing here. Sockets we stopped reading
 * (backpressure) are skipped.
 */
export function startHeartbeat(sockets: () => Iterable<WebSocket>, intervalMs: number): Heartbeat {
  let unanswered = new Set<WebSocket>();
  // One listener for every socket, which it gets as `this`: a connection costs no closure.
  function answered(this: WebSocket): void {
    unanswered.delete(this);
  }
  function heard(ws: WebSocket): void {
    unanswered.delete(ws);
  }
  const timer = setInterval(() => {
    const silent = unanswered;
    unanswered = new Set();
    for (const ws of sockets()) {
      // Paused for being over its rate: its pong, if any, waits unread; it is read again within
      // about 10 s (rate-limiter.ts), or closed, and is checked again from the next ping on.
      if (ws.isPaused) continue;
      if (silent.has(ws)) {
        ws.terminate();
        continue;
      }
      unanswered.add(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(ws) {
      ws.on('pong', answered);
    },
    heard,
    stop() {
      clearInterval(timer);
    },
  };
}
