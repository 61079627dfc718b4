/**
 * `npm run bench:content`: what the content API costs, on a document built from the
 * automerge-paper trace's end text (104,852 characters, one paragraph per line):
 *
 *   - conversion on the server: Yjs fragment → ProseMirror document, → Markdown, → HTML, → text,
 *     and Markdown / HTML → document (parse), each the median of several runs in this process;
 *   - PUT-replace through the HTTP API of a real server (SQLite, default settings): the whole
 *     document replaced by a version with every 10th line changed, end to end (parse, diff against
 *     the live room, check, commit with fsync, search text), median and max of several runs;
 *   - search latency over 5,000 documents (each ~20 lines of the paper, created through PUT),
 *     GET /api/documents?q=... for common, rare and prefix words: median and p95.
 *
 * Prints a table and writes bench/results/content-<date>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as Y from 'yjs';
import { parseContent, serializeContent } from '../server/content/conversion.js';
import { diffUpdate } from '../server/content/diff.js';
import { editorFragment, fragmentText, fragmentToDocument } from '../server/content/fragment.js';
import { schema } from '../shared/schema.js';
import { TRACE_FILE } from './lib/fixtures.js';
import { ROOT, launch } from './lib/servers.js';

const RUNS = 9;
const PUT_RUNS = 7;
const SEARCH_DOCUMENTS = 5_000;
const SEARCH_QUERIES = 40;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const round = (ms: number) => Math.round(ms * 100) / 100;

function time(fn: () => unknown, runs = RUNS): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function main(): Promise<void> {
  const trace = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString('utf8')) as { endContent: string };
  const text = trace.endContent;
  const lines = text.split('\n');
  const results: Record<string, unknown> = { characters: text.length, lines: lines.length };

  // Conversion, in process.
  const doc = parseContent('text', text);
  const ydoc = new Y.Doc();
  Y.applyUpdate(ydoc, diffUpdate(Y.encodeStateAsUpdate(ydoc), doc)!);
  const fragment = editorFragment(ydoc);
  const markdown = serializeContent('markdown', doc);
  const html = serializeContent('html', doc);
  const conversion = {
    fragmentToDocumentMs: time(() => fragmentToDocument(fragment, schema)),
    toMarkdownMs: time(() => serializeContent('markdown', fragmentToDocument(fragment, schema))),
    toHtmlMs: time(() => serializeContent('html', fragmentToDocument(fragment, schema))),
    toTextMs: time(() => serializeContent('text', fragmentToDocument(fragment, schema))),
    toJsonMs: time(() => serializeContent('json', fragmentToDocument(fragment, schema))),
    searchTextMs: time(() => fragmentText(ydoc)),
    parseMarkdownMs: time(() => parseContent('markdown', markdown)),
    parseHtmlMs: time(() => parseContent('html', html)),
    diffReplaceMs: time(() => diffUpdate(Y.encodeStateAsUpdate(ydoc), parseContent('text', lines.map((line, i) => (i % 10 === 0 ? `${line} (edited)` : line)).join('\n')))),
    markdownBytes: Buffer.byteLength(markdown),
    htmlBytes: Buffer.byteLength(html),
  };
  results.conversion = conversion;

  // PUT-replace and search, against a real server.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-content-'));
  const server = await launch({ kind: 'ours', dataDir, persist: true, env: { MAX_CONTENT_BYTES: String(8 * 1024 * 1024), MAX_DOCUMENT_CREATIONS_PER_MINUTE: '0', LOG_LEVEL: 'warn' } });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const putText = (name: string, body: string) =>
      fetch(`${base}/api/documents/${encodeURIComponent(name)}/content`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body });
    let started = performance.now();
    const created = await putText('paper', text);
    if (created.status !== 201) throw new Error(`PUT create: ${created.status} ${await created.text()}`);
    const createMs = performance.now() - started;
    const replaceTimes: number[] = [];
    for (let run = 0; run < PUT_RUNS; run++) {
      const version = lines.map((line, i) => (i % 10 === run % 10 ? `${line} (edit ${run})` : line)).join('\n');
      started = performance.now();
      const response = await putText('paper', version);
      if (response.status !== 200) throw new Error(`PUT replace: ${response.status} ${await response.text()}`);
      replaceTimes.push(performance.now() - started);
    }
    const getTimes = { markdown: [] as number[], html: [] as number[] };
    for (let run = 0; run < RUNS; run++) {
      for (const format of ['markdown', 'html'] as const) {
        started = performance.now();
        await (await fetch(`${base}/api/documents/paper/content?format=${format}`)).text();
        getTimes[format].push(performance.now() - started);
      }
    }
    results.api = {
      putCreateMs: round(createMs),
      putReplaceMedianMs: round(median(replaceTimes)),
      putReplaceMaxMs: round(Math.max(...replaceTimes)),
      getMarkdownMedianMs: round(median(getTimes.markdown)),
      getHtmlMedianMs: round(median(getTimes.html)),
    };

    // 5,000 documents of ~20 lines each, from the paper (so words repeat as in real text).
    const words = text.toLowerCase().match(/[a-z]{4,}/g) ?? [];
    started = performance.now();
    for (let i = 0; i < SEARCH_DOCUMENTS; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SEARCH_DOCUMENTS - i) }, (_, k) => {
          const n = i + k;
          const from = (n * 37) % Math.max(1, lines.length - 20);
          return putText(`corpus/${n}`, `Document ${n} about ${words[(n * 7919) % words.length]}\n${lines.slice(from, from + 20).join('\n')}\nmarker${n}`);
        }),
      );
    }
    const populateMs = performance.now() - started;
    const counts = new Map<string, number>();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    const byFrequency = [...counts].sort((a, b) => b[1] - a[1]).map(([word]) => word);
    const queries: Array<[string, string]> = [];
    for (let i = 0; i < SEARCH_QUERIES; i++) {
      queries.push(['common word', byFrequency[i % 10]!]);
      queries.push(['rare word', byFrequency[byFrequency.length - 1 - i]!]);
      queries.push(['two words', `${byFrequency[i % 10]} ${byFrequency[20 + i]}`]);
      queries.push(['prefix', byFrequency[i]!.slice(0, 3)]);
      queries.push(['exact marker', `marker${(i * 123) % SEARCH_DOCUMENTS}`]);
    }
    const latencies = new Map<string, number[]>();
    const hits = new Map<string, number[]>();
    for (const [kind, query] of queries) {
      started = performance.now();
      const response = await fetch(`${base}/api/documents?q=${encodeURIComponent(query)}&limit=100`);
      const body = (await response.json()) as { documents: unknown[] };
      latencies.set(kind, [...(latencies.get(kind) ?? []), performance.now() - started]);
      hits.set(kind, [...(hits.get(kind) ?? []), body.documents.length]);
    }
    results.search = {
      documents: SEARCH_DOCUMENTS,
      populateSeconds: round(populateMs / 1000),
      byQuery: Object.fromEntries(
        [...latencies].map(([kind, values]) => [kind, { medianMs: round(median(values)), p95Ms: round(percentile(values, 0.95)), medianHits: median(hits.get(kind)!) }]),
      ),
    };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  results.machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version };
  console.log(JSON.stringify(results, null, 2));
  const dir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `content-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`saved ${path.relative(ROOT, file)}`);
}

await main();
