/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: the N functions with the most self time
 * in a V8 CPU profile (from `npm run bench -- --ours-prof DIR`), as plain text.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
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
const selfTime = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const time = timeById.get(node.id) ?? 0;
  total += time;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
  selfTime.set(key, (selfTime.get(key) ?? 0) + time);
}
process.stdout.write(`total ms ${(total / 1000).toFixed(0)}\n`);
for (const [key, time] of [...selfTime.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  process.stdout.write(`${(time / 1000).toFixed(1).padStart(8)} ${((100 * time) / total).toFixed(1).padStart(5)}% ${key}\n`);
}
