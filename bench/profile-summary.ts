/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: the N functions with the most self time
 * in a V8 CPU profile (from `npm run bench -- --ours-prof DIR`), then the N with the most total time
 * (self plus everything they called), as plain text.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, count = '30'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const timeById = new Map<number, number>();
profile.samples.forEach((id, i) => timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const nameOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
};
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));

const selfTime = new Map<string, number>();
const totalTime = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const time = timeById.get(node.id) ?? 0;
  if (time === 0) continue;
  total += time;
  selfTime.set(nameOf(node), (selfTime.get(nameOf(node)) ?? 0) + time);
  // Each function on the stack gets the sample once, however often it recurses.
  const onStack = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) onStack.add(nameOf(nodeById.get(id)!));
  for (const name of onStack) totalTime.set(name, (totalTime.get(name) ?? 0) + time);
}

const print = (title: string, times: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [key, time] of [...times.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
    process.stdout.write(`${(time / 1000).toFixed(1).padStart(8)} ${((100 * time) / total).toFixed(1).padStart(5)}% ${key}\n`);
  }
};
process.stdout.write(`total ms ${(total / 1000).toFixed(0)}\n`);
print('\nby self time', selfTime);
print('\nby total time (self + callees)', totalTime);
