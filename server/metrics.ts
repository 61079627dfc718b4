import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface SyncMetrics {
  connections: Gauge;
  rooms: Gauge;
  messagesIn: Counter<'type'>;
  bytesIn: Counter;
  framesOut: Counter;
  bytesOut: Counter;
  protocolErrors: Counter<'reason'>;
  refused: Counter<'reason'>;
  readsPaused: Counter;
  persistSeconds: Histogram;
  persistFailures: Counter;
  roomLoadSeconds: Histogram;
  compactions: Counter;
  catchUpRows: Counter;
}

/** Traffic between server instances (through Redis); all zero when running alone. */
export interface ClusterMetrics {
  messagesOut: Counter<'type'>;
  messagesIn: Counter<'type'>;
  bytesOut: Counter;
  bytesIn: Counter;
  publishFailures: Counter;
  relayLagSeconds: Histogram;
  redisConnected: Gauge;
  peers: Gauge;
}

export interface Metrics {
  registry: Registry;
  sync: SyncMetrics;
  cluster: ClusterMetrics;
}

/** A registry of our own (not prom-client's global one), so several servers can live in one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const sync: SyncMetrics = {
    connections: new Gauge({ name: 'collab_connections', help: 'Open sync connections', registers }),
    rooms: new Gauge({ name: 'collab_rooms', help: 'Documents loaded in memory', registers }),
    messagesIn: new Counter({ name: 'collab_messages_in_total', help: 'Frames received from clients', labelNames: ['type'], registers }),
    bytesIn: new Counter({ name: 'collab_bytes_in_total', help: 'Bytes received from clients', registers }),
    framesOut: new Counter({ name: 'collab_frames_out_total', help: 'Frames sent to clients', registers }),
    bytesOut: new Counter({ name: 'collab_bytes_out_total', help: 'Bytes sent to clients', registers }),
    protocolErrors: new Counter({ name: 'collab_protocol_errors_total', help: 'Malformed frames received', labelNames: ['reason'], registers }),
    refused: new Counter({ name: 'collab_refused_total', help: 'Requests and frames refused', labelNames: ['reason'], registers }),
    readsPaused: new Counter({
      name: 'collab_reads_paused_total',
      help: 'Times a connection over its message or byte rate stopped being read until back within it (backpressure)',
      registers,
    }),
    persistSeconds: new Histogram({
      name: 'collab_persist_seconds',
      help: 'Time to durably commit one batch of updates',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    persistFailures: new Counter({ name: 'collab_persist_failures_total', help: 'Failed commits (retried)', registers }),
    roomLoadSeconds: new Histogram({
      name: 'collab_room_load_seconds',
      help: 'Time to load a document from storage',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    compactions: new Counter({ name: 'collab_compactions_total', help: 'Update logs folded into snapshots', registers }),
    catchUpRows: new Counter({
      name: 'collab_catch_up_rows_total',
      help: 'Committed updates read back from storage because their cross-instance message was missed or late',
      registers,
    }),
  };
  const cluster: ClusterMetrics = {
    messagesOut: new Counter({ name: 'collab_cluster_messages_out_total', help: 'Messages published to other instances', labelNames: ['type'], registers }),
    messagesIn: new Counter({ name: 'collab_cluster_messages_in_total', help: 'Messages received from other instances', labelNames: ['type'], registers }),
    bytesOut: new Counter({ name: 'collab_cluster_bytes_out_total', help: 'Bytes published to other instances', registers }),
    bytesIn: new Counter({ name: 'collab_cluster_bytes_in_total', help: 'Bytes received from other instances', registers }),
    publishFailures: new Counter({ name: 'collab_cluster_publish_failures_total', help: 'Messages not published (Redis unreachable); storage catch-up covers them', registers }),
    relayLagSeconds: new Histogram({
      name: 'collab_cluster_relay_lag_seconds',
      help: 'From publishing a committed update on one instance to receiving it on this one (wall clocks)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    redisConnected: new Gauge({ name: 'collab_cluster_redis_connected', help: '1 while the Redis subscription is live', registers }),
    peers: new Gauge({ name: 'collab_cluster_peers', help: 'Other instances heard from recently', registers }),
  };
  return { registry, sync, cluster };
}
