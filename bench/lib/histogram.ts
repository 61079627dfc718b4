/**
 * A latency histogram in microseconds: exact below 100 µs, then buckets 1% wide. Cheap to record,
 * small to send between processes, and merged by adding counts.
 */
const LINEAR = 100;
const GROWTH = Math.log(1.01);
/** Enough 1% buckets to reach 10 minutes. */
const BUCKETS = LINEAR + Math.ceil(Math.log(600e6 / LINEAR) / GROWTH) + 1;

export interface HistogramData {
  counts: Record<number, number>;
  total: number;
  maxMicros: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  total = 0;
  maxMicros = 0;

  record(micros: number): void {
    const value = micros < 0 ? 0 : micros;
    const index = value < LINEAR ? Math.floor(value) : Math.min(BUCKETS - 1, LINEAR + Math.floor(Math.log(value / LINEAR) / GROWTH));
    this.counts[index]!++;
    this.total++;
    if (value > this.maxMicros) this.maxMicros = value;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMicros = 0;
  }

  toData(): HistogramData {
    const counts: Record<number, number> = {};
    this.counts.forEach((count, index) => {
      if (count > 0) counts[index] = count;
    });
    return { counts, total: this.total, maxMicros: this.maxMicros };
  }

  merge(data: HistogramData): void {
    for (const [index, count] of Object.entries(data.counts)) this.counts[Number(index)]! += count;
    this.total += data.total;
    this.maxMicros = Math.max(this.maxMicros, data.maxMicros);
  }

  /** The value at quantile q (0..1), in milliseconds; the upper edge of its bucket. */
  quantileMs(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) {
        const upper = index < LINEAR ? index + 1 : LINEAR * Math.exp((index - LINEAR + 1) * GROWTH);
        return Math.min(upper, this.maxMicros) / 1000;
      }
    }
    return this.maxMicros / 1000;
  }

  summary(): LatencySummary | null {
    if (this.total === 0) return null;
    return {
      samples: this.total,
      p50: this.quantileMs(0.5)!,
      p95: this.quantileMs(0.95)!,
      p99: this.quantileMs(0.99)!,
      max: this.maxMicros / 1000,
    };
  }
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
