/** The targets of issues 4 and 18, checked against a run's summaries. */

export interface Stat {
  median: number | null;
  max: number | null;
  /** Median of the per-round ratios to the raw relay. */
  ratio: number | null;
  values: number[];
}

/** Per server, per metric. */
export type Summary = Record<string, Record<string, Stat>>;

export interface TargetResult {
  scenario: string;
  target: string;
  measured: string;
  /** null when the scenario (or a server it compares with) was not run. */
  met: boolean | null;
}

const f = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? '–' : String(Math.round(value * 10 ** digits) / 10 ** digits));

export function evaluateTargets(summaries: Record<string, Summary>): TargetResult[] {
  const results: TargetResult[] = [];
  const ours = (scenario: string, key: string): Stat | undefined => summaries[scenario]?.ours?.[key];
  const peer = (scenario: string, kind: string, key: string): Stat | undefined => summaries[scenario]?.[kind]?.[key];
  const check = (scenario: string, target: string, measured: string, met: boolean | null) => {
    if (summaries[scenario]) results.push({ scenario, target, measured, met });
  };
  const ratioAtMost = (scenario: string, key: string, limit: number, what: string) => {
    const stat = ours(scenario, key);
    check(scenario, `${what} ≤ ${limit}× raw`, `${f(stat?.ratio)}× raw`, stat?.ratio == null ? null : stat.ratio <= limit);
  };
  const noneLost = (scenario: string, key: string, what: string) => {
    const stat = ours(scenario, key);
    check(scenario, `${what}: zero in every round`, `max ${f(stat?.max, 0)} over rounds`, stat?.max == null ? null : stat.max === 0);
  };
  const atMostHalfOfHocuspocus = (scenario: string, key: string, what: string) => {
    const mine = ours(scenario, key)?.median;
    const theirs = peer(scenario, 'hocuspocus', key)?.median;
    check(scenario, `${what} ≤ ½ Hocuspocus`, `${f(mine, 3)} vs ${f(theirs, 3)}`, mine == null || theirs == null ? null : mine <= theirs / 2);
  };

  /** Ours against a peer's median: at most `factor` times it (or, with `more`, strictly more than it). */
  const versusPeer = (scenario: string, key: string, kind: 'reference' | 'hocuspocus', what: string, factor = 1, more = false) => {
    const mine = ours(scenario, key)?.median;
    const theirs = peer(scenario, kind, key)?.median;
    const name = kind === 'reference' ? 'reference server' : 'Hocuspocus';
    const target = more ? `${what} > ${name}` : `${what} ≤ ${factor === 1 ? '' : `${factor}× `}${name}`;
    check(scenario, target, `${f(mine, 3)} vs ${f(theirs, 3)}`, mine == null || theirs == null ? null : more ? mine > theirs : mine <= theirs * factor);
  };

  // Issue 18: capacity, and at light load no more than the reference server.
  versusPeer('workspace-ramp', 'typists', 'reference', 'typists sustained', 1, true);
  versusPeer('workspace-ramp', 'typists', 'hocuspocus', 'typists sustained', 1, true);
  {
    const stat = ours('workspace-ramp', 'typists');
    check('workspace-ramp', 'typists sustained ≥ 0.6× raw', `${f(stat?.ratio)}× raw`, stat?.ratio == null ? null : stat.ratio >= 0.6);
  }
  versusPeer('fanout-20', 'cpu', 'reference', 'server CPU (cores)');
  versusPeer('many-rooms', 'cpu', 'reference', 'server CPU (cores)');
  versusPeer('many-rooms', 'peakRssMB', 'reference', 'peak RSS (MB)');
  versusPeer('many-rooms', 'p99', 'reference', 'p99 latency (ms)', 2);
  versusPeer('idle', 'kbPerConnection', 'reference', 'KB per idle connection');
  versusPeer('idle-docs', 'kbPerDocument', 'reference', 'KB per loaded idle document');

  // Issue 4.
  ratioAtMost('fanout-20', 'cpu', 1.25, 'server CPU');
  ratioAtMost('fanout-20', 'p99', 1.2, 'p99 latency');
  noneLost('fanout-300', 'lost', 'edits lost');
  ratioAtMost('fanout-300', 'p99', 1.5, 'p99 latency');
  atMostHalfOfHocuspocus('awareness-storm', 'p99', 'p99 latency (ms)');
  atMostHalfOfHocuspocus('awareness-storm', 'cpu', 'server CPU (cores)');
  ratioAtMost('awareness-storm', 'awarenessFramesToClients', 0.2, 'awareness frames to clients');
  noneLost('awareness-storm', 'staleCursors', 'clients without the latest cursor of another');
  ratioAtMost('many-rooms', 'cpu', 1.6, 'server CPU');
  ratioAtMost('many-rooms', 'peakRssMB', 1.25, 'peak RSS');
  {
    const stat = ours('idle', 'kbPerConnection');
    check('idle', 'memory ≤ 15 KB per connection', `${f(stat?.median, 1)} KB`, stat?.median == null ? null : stat.median <= 15);
  }
  {
    const stat = ours('cold-load', 'editsContentMs');
    check('cold-load', '50,000-edit document: ≤ 100 ms to full content', `${f(stat?.median, 0)} ms`, stat?.median == null ? null : stat.median <= 100);
    const paper = ours('cold-load', 'paperContentMs');
    check('cold-load', 'automerge-paper: well under a second', `${f(paper?.median, 0)} ms`, paper?.median == null ? null : paper.median < 500);
  }
  noneLost('durability', 'killLost', 'seen-but-lost after a random SIGKILL');
  noneLost('durability', 'burstLost', 'seen-but-lost after SIGKILL right after a burst');
  {
    const mine = ours('durability', 'editsPerSecond')?.median;
    const reference = peer('durability', 'reference', 'editsPerSecond')?.median;
    check('durability', 'edits/s persisted ≥ reference server', `${f(mine, 0)} vs ${f(reference, 0)}`, mine == null || reference == null ? null : mine >= reference);
  }
  return results;
}
