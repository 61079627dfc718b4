import { LoadGroup } from '../lib/load-group.js';
import type { ConnectionPlan } from '../lib/load-protocol.js';
import { ProcessSampler, rssBytes } from '../lib/proc.js';
import { freshDataDir, interleave, launchFor, removeDataDir, round2, sleep, waitForQuiet, type MetricSpec, type Metrics, type RunSettings, type Scenario } from '../lib/scenario.js';
import { FLAVORS, SERVER_KINDS, type RunningServer } from '../lib/servers.js';

interface LoadShape {
  rooms: number;
  clientsPerRoom: number;
  /** The first `writersPerRoom` clients of each room write edits. */
  writersPerRoom: number;
  updatesPerSecond: number;
  /** The first `cursorsPerRoom` clients of each room move a cursor. */
  cursorsPerRoom: number;
  cursorsPerSecond: number;
  processes: number;
  openConcurrency: number;
}

function plans(server: RunningServer, shape: LoadShape, roomName: (room: number) => string): ConnectionPlan[] {
  const flavor = FLAVORS[server.kind];
  const list: ConnectionPlan[] = [];
  let writer = 0;
  let cursor = 0;
  for (let room = 0; room < shape.rooms; room++) {
    const doc = roomName(room);
    for (let client = 0; client < shape.clientsPerRoom; client++) {
      const writes = client < shape.writersPerRoom;
      const moves = client < shape.cursorsPerRoom;
      list.push({
        url: server.url(doc),
        doc,
        flavor,
        writerId: writes ? writer++ : null,
        updatesPerSecond: writes ? shape.updatesPerSecond : 0,
        cursorId: moves ? ++cursor : null,
        cursorsPerSecond: moves ? shape.cursorsPerSecond : 0,
      });
    }
  }
  return list;
}

const LOAD_METRICS: MetricSpec[] = [
  { key: 'cpu', label: 'server CPU', unit: 'cores', ratio: true },
  { key: 'peakRssMB', label: 'peak RSS', unit: 'MB', ratio: true, digits: 0 },
  { key: 'p50', label: 'latency p50', unit: 'ms', ratio: true },
  { key: 'p95', label: 'latency p95', unit: 'ms', ratio: true },
  { key: 'p99', label: 'latency p99', unit: 'ms', ratio: true },
  { key: 'max', label: 'latency max', unit: 'ms', ratio: true },
  { key: 'delivered', label: 'edits delivered', unit: '', digits: 0 },
  { key: 'lost', label: 'edits lost', unit: '', digits: 0 },
  { key: 'cursorP99', label: 'cursor latency p99', unit: 'ms', ratio: true },
  { key: 'framesToClients', label: 'frames to clients (all)', unit: '', ratio: true, digits: 0 },
  { key: 'awarenessFramesToClients', label: 'awareness frames to clients', unit: '', ratio: true, digits: 0 },
  { key: 'staleCursors', label: 'stale cursors at end', unit: '', digits: 0 },
];

/** Runs the shape against one server: open, settle, measure a window of steady load, drain. */
async function loadTrial(settings: RunSettings, server: RunningServer, shape: LoadShape, roomName: (room: number) => string): Promise<Metrics> {
  const group = new LoadGroup(plans(server, shape, roomName), shape.processes);
  const rss = new ProcessSampler(server.pid, 100);
  rss.start();
  try {
    await group.open(shape.openConcurrency);
    if (group.opening.failures > 0) throw new Error(`${group.opening.failures} connections failed to open: ${group.opening.errors.join('; ')}`);
    await sleep(500);
    const cpu = new ProcessSampler(server.pid, 100);
    cpu.start();
    group.start();
    await sleep(settings.windowSeconds * 1000);
    await group.stop();
    const usage = cpu.stop();
    await sleep(1500);
    const result = await group.report();
    const peak = rss.stop();
    if (result.errors.length > 0) settings.log(`      ${server.kind}: ${result.errors.slice(0, 3).join('; ')}`);
    if (process.env.BENCH_SERVER_LOG) settings.log(server.output());
    return {
      cpu: round2(usage.cpuCores, 3),
      peakRssMB: round2(peak.peakRssBytes / 1048576, 1),
      p50: result.editLatency?.p50 ?? null,
      p95: result.editLatency?.p95 ?? null,
      p99: result.editLatency?.p99 ?? null,
      max: result.editLatency?.max ?? null,
      delivered: result.editsDelivered,
      expected: result.editsExpected,
      lost: result.editsLost,
      cursorP99: result.cursorLatency?.p99 ?? null,
      framesToClients: result.framesToClients,
      awarenessFramesToClients: result.awarenessFramesToClients,
      staleCursors: result.staleCursors,
      cursorsSent: result.cursorsSent,
      unexpectedCloses: result.unexpectedCloses,
      openMs: round2(result.openMs, 0),
    };
  } finally {
    rss.stop();
    await group.close();
  }
}

function loadScenario(id: string, title: string, description: string, shape: LoadShape, quickShape: Partial<LoadShape> = {}): Scenario {
  return {
    id,
    title,
    description,
    servers: SERVER_KINDS,
    metrics: LOAD_METRICS,
    async run(settings: RunSettings) {
      const used = settings.quick ? { ...shape, ...quickShape } : shape;
      const rounds = await interleave(settings, SERVER_KINDS, async (kind, round) => {
        const dataDir = freshDataDir(`${id}-${kind}`);
        const server = await launchFor(settings, { kind, dataDir, persist: false });
        try {
          const metrics = await loadTrial(settings, server, used, (room) => (used.rooms === 1 ? id : `${id}-${room}`));
          settings.log(`    round ${round + 1} ${kind.padEnd(10)} cpu ${metrics.cpu} p99 ${metrics.p99} ms lost ${metrics.lost} frames ${metrics.framesToClients}`);
          return metrics;
        } finally {
          await server.stop();
          removeDataDir(dataDir);
        }
      });
      return { rounds, notes: [] };
    },
  };
}

export const fanOut20 = loadScenario(
  'fanout-20',
  'Fan-out, 20 updates/s',
  'One room, 50 clients; 5 of them write 20 edits/s each and move their cursor once a second. Latency is from the writer sending an edit to each other client receiving it.',
  { rooms: 1, clientsPerRoom: 50, writersPerRoom: 5, updatesPerSecond: 20, cursorsPerRoom: 5, cursorsPerSecond: 1, processes: 2, openConcurrency: 50 },
);

export const fanOut300 = loadScenario(
  'fanout-300',
  'Fan-out, 300 updates/s per writer',
  'One room, 50 clients; 5 writers at 300 edits/s each (1,500/s into the room, 73,500 deliveries/s), cursors once a second.',
  { rooms: 1, clientsPerRoom: 50, writersPerRoom: 5, updatesPerSecond: 300, cursorsPerRoom: 5, cursorsPerSecond: 1, processes: 2, openConcurrency: 50 },
);

export const awarenessStorm = loadScenario(
  'awareness-storm',
  'Awareness storm',
  'One room, 200 clients, every one moving its cursor twice a second; 5 of them also write 20 edits/s. Frames to clients counts every WebSocket message the clients received; stale cursors counts (client, other client) pairs where the client did not end with the other\'s latest cursor.',
  { rooms: 1, clientsPerRoom: 200, writersPerRoom: 5, updatesPerSecond: 20, cursorsPerRoom: 200, cursorsPerSecond: 2, processes: 2, openConcurrency: 100 },
);

export const manyRooms = loadScenario(
  'many-rooms',
  'Many rooms',
  '500 rooms × 2 clients (1,000 connections); each client writes one edit per second and moves its cursor every two seconds.',
  { rooms: 500, clientsPerRoom: 2, writersPerRoom: 2, updatesPerSecond: 1, cursorsPerRoom: 2, cursorsPerSecond: 0.5, processes: 2, openConcurrency: 100 },
  {},
);

interface IdleShape {
  connections: number;
  rooms: number;
}

export const idleConnections: Scenario = {
  id: 'idle',
  title: 'Idle connections',
  description:
    '2,000 connections over 200 rooms (10 each), opened 100 at a time per load process, each completing the sync handshake and then staying idle. Memory per connection is the server\'s RSS growth from before the first connection to 2 s after the last, divided by the connections.',
  servers: SERVER_KINDS,
  metrics: [
    { key: 'kbPerConnection', label: 'memory per connection', unit: 'KB', ratio: true, digits: 1 },
    { key: 'openMs', label: 'time to open all', unit: 'ms', ratio: true, digits: 0 },
    { key: 'rssMB', label: 'RSS with all open', unit: 'MB', ratio: true, digits: 0 },
  ],
  async run(settings) {
    const shape: IdleShape = settings.quick ? { connections: 500, rooms: 50 } : { connections: 2000, rooms: 200 };
    const rounds = await interleave(settings, SERVER_KINDS, async (kind, round) => {
      const dataDir = freshDataDir(`idle-${kind}`);
      const server = await launchFor(settings, { kind, dataDir, persist: false });
      const perRoom = shape.connections / shape.rooms;
      const group = new LoadGroup(
        plans(server, { rooms: shape.rooms, clientsPerRoom: perRoom, writersPerRoom: 0, updatesPerSecond: 0, cursorsPerRoom: 0, cursorsPerSecond: 0, processes: 2, openConcurrency: 200 }, (room) => `idle-${room}`),
        2,
      );
      try {
        // Measured once the process has finished starting (on a busy machine that takes longer than a
        // fixed pause, and RSS still grows while it does).
        await waitForQuiet(server.pid);
        const before = rssBytes(server.pid);
        await group.open(200);
        if (group.opening.failures > 0) throw new Error(`${group.opening.failures} connections failed: ${group.opening.errors.join('; ')}`);
        await sleep(2000);
        const after = rssBytes(server.pid);
        const metrics = {
          kbPerConnection: round2((after - before) / 1024 / shape.connections, 2),
          openMs: round2(group.opening.openMs, 0),
          rssMB: round2(after / 1048576, 1),
        };
        settings.log(`    round ${round + 1} ${kind.padEnd(10)} ${metrics.kbPerConnection} KB/conn, open ${metrics.openMs} ms`);
        return metrics;
      } finally {
        await group.close();
        await server.stop();
        removeDataDir(dataDir);
      }
    });
    return { rounds, notes: [] };
  },
};
