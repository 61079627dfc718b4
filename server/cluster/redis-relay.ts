import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { ClusterMetrics } from '../metrics.js';
import type { Room } from '../sync/room.js';
import { withTimeout } from '../with-timeout.js';
import { ClusterMessageType, decodeClusterMessage, encodeClusterMessage, type ClusterMessage } from './messages.js';

/** What the relay needs of the room registry. */
export interface ClusterRooms {
  /** The loaded room of a document, or null. */
  peek(name: string): Room | null;
  rooms(): Room[];
}

export interface RedisRelayOptions {
  url: string;
  logger: Logger;
  metrics: ClusterMetrics;
  /** Heartbeat interval; an instance silent for three of them is taken as gone (its cursors drop). */
  heartbeatMs?: number;
  /** Every loaded room re-reads storage this often, in case a message was lost. */
  catchUpMs?: number;
  /** ...and this often while the Redis subscription is down. */
  degradedCatchUpMs?: number;
}

const KIND: Record<number, string> = {
  [ClusterMessageType.Update]: 'update',
  [ClusterMessageType.Awareness]: 'awareness',
  [ClusterMessageType.AwarenessQuery]: 'awareness-query',
  [ClusterMessageType.Heartbeat]: 'heartbeat',
  [ClusterMessageType.Bye]: 'bye',
  [ClusterMessageType.Deleted]: 'deleted',
};

const SUBSCRIBE_BATCH = 500;
/** Channels: `collab:cluster` for heartbeats, `collab:doc:<document name>` per document. */
const CHANNEL_PREFIX = 'collab:';

/**
 * Relays committed updates and awareness between server instances through Redis pub/sub: one
 * channel per document, subscribed while the document is loaded here, and one cluster channel for
 * heartbeats. Redis is only a fast path: every update is in storage before it is published, and
 * rooms fill any gap (a lost message, a Redis restart) from storage, so Redis being down slows
 * relaying between instances to the catch-up interval and loses nothing.
 */
export class RedisRelay {
  readonly instanceId = randomBytes(6).toString('base64url');
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix = CHANNEL_PREFIX;
  private readonly clusterChannel: string;
  private readonly heartbeatMs: number;
  private readonly catchUpMs: number;
  private readonly degradedCatchUpMs: number;
  private rooms: ClusterRooms = { peek: () => null, rooms: () => [] };
  /** Documents whose channel we want (rooms loaded here). */
  private readonly documents = new Set<string>();
  /** Other instances and when we last heard from them. */
  private readonly peers = new Map<string, number>();
  private subscribed = false;
  private lastFullCatchUp = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private lostLogged = false;

  constructor(private readonly options: RedisRelayOptions) {
    this.clusterChannel = `${this.prefix}cluster`;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.catchUpMs = options.catchUpMs ?? 5_000;
    this.degradedCatchUpMs = options.degradedCatchUpMs ?? 1_000;
    const common: RedisOptions = {
      // Nothing is queued while disconnected: a message that cannot go now is stale by the time
      // Redis is back, and storage catch-up covers it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
      // Reconnects forever; we subscribe again ourselves once the connection is ready.
      autoResubscribe: false,
      lazyConnect: true,
    };
    this.pub = new Redis(options.url, { ...common, connectionName: `collab-pub-${this.instanceId}` });
    this.sub = new Redis(options.url, { ...common, connectionName: `collab-sub-${this.instanceId}` });
    for (const [role, client] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      client.on('error', (error: Error) => this.connectionLost(role, error));
    }
    this.sub.on('ready', () => void this.onSubscriberReady());
    this.sub.on('close', () => this.onSubscriberClosed());
    this.sub.on('messageBuffer', (channel: Buffer, data: Buffer) => this.onMessage(channel, data));
  }

  /** Connects (without waiting for Redis: an instance starts and serves while Redis is down). */
  start(rooms: ClusterRooms): void {
    this.rooms = rooms;
    this.pub.connect().catch(() => {});
    this.sub.connect().catch(() => {});
    this.every(this.heartbeatMs, () => this.heartbeat());
    this.every(Math.min(this.degradedCatchUpMs, this.catchUpMs), () => this.periodicCatchUp());
  }

  roomLoaded(room: Room): void {
    this.documents.add(room.name);
    if (!this.subscribed) return; // subscribed with all the others once Redis is ready
    this.sub
      .subscribe(this.channel(room.name))
      .then(() => this.afterSubscribe(room))
      .catch(() => {}); // the connection dropped: 'ready' subscribes again
  }

  roomUnloaded(room: Room): void {
    this.documents.delete(room.name);
    if (this.subscribed) this.sub.unsubscribe(this.channel(room.name)).catch(() => {});
  }

  /** Publishes an update this instance committed. */
  committed(room: Room, update: Uint8Array, seq: number): void {
    this.publish(this.channel(room.name), { type: ClusterMessageType.Update, from: this.instanceId, sentAt: Date.now(), seq, update });
  }

  /**
   * Tells the other instances that a document was deleted (after storage committed it), so that
   * they close and unload their room of it at once. Without Redis they find out from storage: the
   * periodic catch-up and any commit of the room fail with DocumentDeletedError.
   */
  deleted(name: string): void {
    this.publish(this.channel(name), { type: ClusterMessageType.Deleted, from: this.instanceId });
  }

  /** Publishes awareness changes of this instance's connections. */
  awareness(room: Room, update: Uint8Array): void {
    this.publish(this.channel(room.name), { type: ClusterMessageType.Awareness, from: this.instanceId, update });
  }

  /** For /healthz: throws unless Redis answers now. */
  async check(): Promise<void> {
    if (this.pub.status !== 'ready') throw new Error(`Redis unreachable (${this.pub.status})`);
    if (!this.subscribed) throw new Error('Redis subscription not ready');
    await withTimeout(this.pub.ping(), 2_000, 'Redis');
  }

  /** Says goodbye (so others drop our cursors at once) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.pub.status === 'ready') {
      await this.pub.publish(this.clusterChannel, encodeClusterMessage({ type: ClusterMessageType.Bye, from: this.instanceId })).catch(() => {});
    }
    this.pub.disconnect();
    this.sub.disconnect();
    this.options.metrics.redisConnected.set(0);
  }

  private channel(name: string): string {
    return this.prefix + 'doc:' + name;
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private publish(channel: string, message: ClusterMessage): void {
    const { metrics } = this.options;
    if (this.closed || this.pub.status !== 'ready') {
      metrics.publishFailures.inc();
      return;
    }
    const data = encodeClusterMessage(message);
    metrics.messagesOut.inc({ type: KIND[message.type] });
    metrics.bytesOut.inc(data.byteLength);
    this.pub.publish(channel, data).catch(() => metrics.publishFailures.inc());
  }

  private async onSubscriberReady(): Promise<void> {
    if (this.closed) return;
    // Rooms may load or unload while this runs: go on until every wanted channel is subscribed.
    const done = new Set<string>();
    try {
      await this.sub.subscribe(this.clusterChannel);
      for (;;) {
        const todo = [...this.documents].filter((name) => !done.has(name)).slice(0, SUBSCRIBE_BATCH);
        if (todo.length === 0) break;
        await this.sub.subscribe(...todo.map((name) => this.channel(name)));
        for (const name of todo) done.add(name);
      }
      const unwanted = [...done].filter((name) => !this.documents.has(name));
      if (unwanted.length > 0) await this.sub.unsubscribe(...unwanted.map((name) => this.channel(name)));
    } catch {
      return; // dropped again; the next 'ready' retries
    }
    this.subscribed = true;
    this.options.metrics.redisConnected.set(1);
    if (this.lostLogged) this.options.logger.info('Redis is back: relaying between instances again');
    this.lostLogged = false;
    // Whoever we heard from before may have been silent only because we were cut off.
    const now = Date.now();
    for (const id of this.peers.keys()) this.peers.set(id, now);
    this.heartbeat();
    // Anything published while we were not subscribed is in storage.
    for (const room of this.rooms.rooms()) this.afterSubscribe(room);
  }

  /** Reads what was published while we were not subscribed; swaps cursors with the other instances. */
  private afterSubscribe(room: Room): void {
    if (this.rooms.peek(room.name) !== room) return; // unloaded meanwhile
    void room.catchUp();
    const states = room.localAwareness();
    if (states) this.awareness(room, states);
    this.publish(this.channel(room.name), { type: ClusterMessageType.AwarenessQuery, from: this.instanceId });
  }

  private onSubscriberClosed(): void {
    if (this.subscribed) this.options.metrics.redisConnected.set(0);
    this.subscribed = false;
  }

  private connectionLost(role: string, error: Error): void {
    if (this.closed || this.lostLogged) return;
    this.lostLogged = true;
    this.options.logger.warn(
      { err: error, role },
      'Redis unreachable: instances relay through storage catch-up until it is back (slower, nothing lost)',
    );
  }

  private heartbeat(): void {
    if (this.closed) return;
    this.publish(this.clusterChannel, { type: ClusterMessageType.Heartbeat, from: this.instanceId });
    if (!this.subscribed) return;
    const deadline = Date.now() - 3 * this.heartbeatMs;
    for (const [id, lastHeard] of this.peers) {
      if (lastHeard < deadline) this.dropPeer(id, 'stopped sending heartbeats');
    }
  }

  private dropPeer(id: string, why: string): void {
    if (!this.peers.delete(id)) return;
    this.options.metrics.peers.set(this.peers.size);
    this.options.logger.info({ instance: id, why }, 'instance gone: dropping its cursors');
    for (const room of this.rooms.rooms()) room.dropInstanceAwareness(id);
  }

  private periodicCatchUp(): void {
    const now = Date.now();
    const interval = this.subscribed ? this.catchUpMs : this.degradedCatchUpMs;
    if (now - this.lastFullCatchUp < interval) return;
    this.lastFullCatchUp = now;
    for (const room of this.rooms.rooms()) void room.catchUp();
  }

  private onMessage(channelBytes: Buffer, data: Buffer): void {
    const message = decodeClusterMessage(data);
    if (!message || message.from === this.instanceId) return;
    const { metrics } = this.options;
    metrics.messagesIn.inc({ type: KIND[message.type] });
    metrics.bytesIn.inc(data.byteLength);
    if (message.type === ClusterMessageType.Bye) {
      this.dropPeer(message.from, 'shut down');
      return;
    }
    if (!this.peers.has(message.from)) {
      this.peers.set(message.from, Date.now());
      metrics.peers.set(this.peers.size);
    } else {
      this.peers.set(message.from, Date.now());
    }
    const channel = channelBytes.toString('utf8');
    if (channel === this.clusterChannel || !channel.startsWith(this.prefix + 'doc:')) return;
    const room = this.rooms.peek(channel.slice(this.prefix.length + 4));
    if (!room) return;
    switch (message.type) {
      case ClusterMessageType.Update:
        metrics.relayLagSeconds.observe(Math.max(0, Date.now() - message.sentAt) / 1000);
        room.applyCommitted(message.update, message.seq);
        break;
      case ClusterMessageType.Awareness:
        room.applyRemoteAwareness(message.from, message.update);
        break;
      case ClusterMessageType.Deleted:
        room.markDeleted();
        break;
      case ClusterMessageType.AwarenessQuery: {
        const states = room.localAwareness();
        if (states) this.awareness(room, states);
        break;
      }
    }
  }
}
