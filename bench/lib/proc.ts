import fs from 'node:fs';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export interface UsageWindow {
  /** CPU seconds per wall second (1.0 = one core busy). */
  cpuCores: number;
  cpuSeconds: number;
  wallSeconds: number;
  peakRssBytes: number;
  startRssBytes: number;
  endRssBytes: number;
}

/**
 * Samples one process from /proc: CPU time between start() and stop(), and RSS every
 * `intervalMs` in between (the peak is the largest sample).
 */
export class ProcessSampler {
  private startCpu = 0;
  private startWall = 0;
  private peak = 0;
  private startRss = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: number, private readonly intervalMs = 50) {}

  start(): void {
    this.startCpu = cpuSeconds(this.pid);
    this.startWall = performance.now();
    this.startRss = rssBytes(this.pid);
    this.peak = this.startRss;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** The largest RSS sampled so far. */
  get peakBytes(): number {
    return this.peak;
  }

  /** RSS now, also counted toward the peak. */
  sample(): number {
    try {
      const rss = rssBytes(this.pid);
      if (rss > this.peak) this.peak = rss;
      return rss;
    } catch {
      return 0;
    }
  }

  stop(): UsageWindow {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const endRss = this.sample();
    const cpu = cpuSeconds(this.pid) - this.startCpu;
    const wall = (performance.now() - this.startWall) / 1000;
    return { cpuCores: cpu / wall, cpuSeconds: cpu, wallSeconds: wall, peakRssBytes: this.peak, startRssBytes: this.startRss, endRssBytes: endRss };
  }
}
