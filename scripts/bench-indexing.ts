/**
 * npm run bench:indexing -- [--photos 24] [--models mobilenet_v1_0.75,efficientnet_b0,resnet50] [--long-side 512] [--backend wasm]
 *                           [--json out.json] [--md]
 *
 * Indexing rate against the bare forward-pass rate, in ONE run, through the real app: builds the app (vite build),
 * serves it with vite preview, opens it in headless Chromium (a fresh collection per model), drops N photos of
 * ../shared/data/paris6k-mini-dev and pauses indexing as soon as they are read in (a few may be indexed by then: not
 * timed). Then, in rounds of CHUNK photos, in the app's worker:
 *   1. bare forward passes on the next queued photos (the debug tool forwardTiming: decoding not timed; forward + reading X and
 *      the probabilities back timed), also giving each photo's descriptor as the app formerly computed it
 *      (full-size decode, the network's own resize);
 *   2. indexing (resumeIndexing) until as many more photos are indexed, then paused: the worker's per-photo
 *      intervals (from one photo's write to the next; the first of a round from the loop's start).
 * Alternating keeps load drifts on a shared machine from favouring either side. Rates: bare = N / sum(bare ms) and
 * 1000 / median; indexing = N / sum(intervals) (the wall time of indexing, pipeline fills included) and
 * 1000 / median. The stored descriptors are compared with the full-size-decode ones. Last, IndexedDB writes of
 * indexed photos with 1, 2 or 4 photos per transaction (is batching them worth it?). --md rewrites the
 * "bench:indexing" section of BENCHMARKS.md. Timings are from one run on whatever else the machine does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { replaceMarkedSection } from '../src/bench/report';
import { median } from '../src/util/median';
import type { Browser } from 'playwright-core';

const { values: a } = parseArgs({
  options: {
    photos: { type: 'string', default: '24' },
    models: { type: 'string', default: 'mobilenet_v1_0.75,efficientnet_b0,resnet50' },
    'long-side': { type: 'string', default: '512' },
    backend: { type: 'string', default: 'wasm' },
    json: { type: 'string' },
    md: { type: 'boolean', default: false },
  },
  strict: true,
});

const log = (line: string) => process.stderr.write(`[bench:indexing] ${line}\n`);
const command = `npm run bench:indexing -- ${process.argv.slice(2).join(' ')}`.trim();

interface ModelRun {
  model: string;
  longSide: number;
  photos: number;
  bareMs: number[];
  wallMs: number;
  intervalsMs: number[];
  /** Stored descriptor vs the full-size-decode one, over the photos with both. */
  descriptor: { maxAbsDiff: number; minCosine: number; photos: number };
  backend: string;
}

const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
/** Photos per round of bare passes, then indexing. */
const CHUNK = 4;

async function runModel(server: { url: string }, browser: Browser, model: string, n: number): Promise<ModelRun> {
  const { findDevSet, dropFiles, appPhotos } = await import('./lib/appPage');
  const { callApi, callDebug, waitModelReady, waitPhotos, waitReady } = await import('./lib/appDebug');
  const data = findDevSet();
  if (!data) throw new Error('../shared/data/paris6k-mini-dev is needed');
  const longSide = Number(a['long-side']);
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/?backend=${a.backend}&model=${model}&longSide=${longSide}&debug=1`);
    await waitReady(page);
    await waitModelReady(page, 300_000);
    // Photos spread over the whole set (every landmark, both orientations).
    const step = Math.max(1, Math.floor(data.images.length / n));
    const files = data.images.filter((_, i) => i % step === 0).slice(0, n).map((i) => {
      const p = data.photo(i.name);
      return { name: p.fileName, type: 'image/jpeg', bytes: p.bytes };
    });
    await dropFiles(page, '[data-testid="app"]', files);
    await waitPhotos(page, files.length, 120_000);
    type Stats = { photos: number; queued: number; indexedPhotos: number; indexMs: number[] };
    const until = async (done: (s: Stats) => boolean, timeoutMs: number, pollMs: number) => {
      for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, pollMs))) {
        const s = await callDebug<Stats>(page, 'stats');
        if (done(s)) return s;
        if (Date.now() > deadline) throw new Error(`${model}: timed out; stats ${JSON.stringify({ ...s, indexMs: s.indexMs.length })}`);
      }
    };
    // Dropping photos starts indexing once they are read in: pause it at once (after the photo in the network).
    await until((s) => s.photos === files.length && s.queued + s.indexedPhotos === files.length, 120_000, 100);
    await callApi(page, 'cancelIndexing');
    type Debug = { debug: Record<string, (...args: unknown[]) => Promise<never>> };
    const bench = (list: string[]) =>
      page.evaluate(async (l) => {
        const r = (await (window as unknown as { cwApp: Debug }).cwApp.debug.forwardTiming(l, { fullSize: true })) as { ms: number[]; fullSizeDescriptors: Float32Array[] };
        return { ms: r.ms, fullSizeDescriptors: r.fullSizeDescriptors.map((d) => Array.from(d)) };
      }, list);
    // Rounds: bare passes on the next CHUNK queued photos, then indexing until as many more are indexed (then paused
    // again: it stops after the photo in the network), so load drifts on a shared machine hit both alike. Each
    // indexing round pays the pipeline's fill again (its first photo's decode is not overlapped).
    const bareMs: number[] = [];
    const intervalsMs: number[] = [];
    const fullSize = new Map<string, number[]>();
    const early = (await callDebug<Stats>(page, 'stats')).indexMs.length;
    let timedFrom = early;
    for (let round = 1; ; round++) {
      const queued = (await appPhotos(page)).filter((p) => !p.indexed).map((p) => p.id);
      if (!queued.length) break;
      const chunk = queued.slice(0, CHUNK);
      const bare = await bench(chunk);
      bareMs.push(...bare.ms);
      chunk.forEach((id, k) => fullSize.set(id, bare.fullSizeDescriptors[k]));
      await callApi(page, 'resumeIndexing');
      const s = await until((st) => st.indexMs.length >= timedFrom + chunk.length || st.queued === 0, 1_800_000, 200);
      if (s.queued) await callApi(page, 'cancelIndexing');
      const indexed = (await callDebug<Stats>(page, 'stats')).indexMs.slice(timedFrom);
      intervalsMs.push(...indexed);
      timedFrom += indexed.length;
      log(`${model}: round ${round}: bare median ${median(bare.ms).toFixed(0)} ms (${chunk.length} photos), indexing ${(sum(indexed) / indexed.length).toFixed(0)} ms a photo (${indexed.length})`);
    }
    log(`${model}: ${early} photos indexed before the first pause, ${intervalsMs.length} timed`);
    let maxAbsDiff = 0;
    let minCosine = 1;
    let backend = '';
    for (const [id, old] of fullSize) {
      const stored = await page.evaluate(async (photo) => {
        const d = (await (window as unknown as { cwApp: Debug }).cwApp.debug.photo(photo)) as { descriptor: Float32Array; backend: string };
        return { descriptor: Array.from(d.descriptor), backend: d.backend };
      }, id);
      backend = stored.backend;
      let dot = 0;
      for (let k = 0; k < old.length; k++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(stored.descriptor[k] - old[k]));
        dot += stored.descriptor[k] * old[k];
      }
      minCosine = Math.min(minCosine, dot);
    }
    const wallMs = sum(intervalsMs);
    return { model, longSide, photos: intervalsMs.length, bareMs, wallMs, intervalsMs, descriptor: { maxAbsDiff, minCosine, photos: fullSize.size }, backend };
  } finally {
    await context.close();
  }
}

/**
 * IndexedDB writes of indexed photos (features + maps, and off the queue, as CollectionStore.putIndexed) with 1, 2
 * or 4 photos per transaction, in this browser at the app's origin: ms per photo, median of 3 rounds of 48 photos.
 */
async function idbBatching(browser: Browser, url: string): Promise<Record<string, Record<number, number>>> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${url}/favicon.svg`);
    await page.evaluate('window.__name = (f) => f'); // what tsx's transform of the function below expects
    return await page.evaluate(async () => {
      const request = <T>(r: IDBRequest<T>) => new Promise<T>((ok, no) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => no(r.error))));
      const done = (tx: IDBTransaction) => new Promise<void>((ok, no) => ((tx.oncomplete = () => ok()), (tx.onerror = tx.onabort = () => no(tx.error))));
      const out: Record<string, Record<number, number>> = {};
      const N = 48;
      for (const [model, D] of [['resnet50', 2048], ['efficientnet_b0', 1280], ['mobilenet_v1_0.75', 768]] as const) {
        const mapBytes = 12 * 16 * D;
        const times: Record<number, number[]> = { 1: [], 2: [], 4: [] };
        for (let round = 0; round < 3; round++) {
          for (const batch of [1, 2, 4]) {
            const open = indexedDB.open(`bench-${model}-${batch}-${round}`, 1);
            open.onupgradeneeded = () => ['images', 'queue', 'features', 'maps'].forEach((s) => open.result.createObjectStore(s, { keyPath: 'id' }));
            const db = await request(open);
            const setup = db.transaction(['images', 'queue'], 'readwrite');
            for (let i = 0; i < N; i++) ['images', 'queue'].forEach((s) => setup.objectStore(s).put({ id: `p${i}` }));
            await done(setup);
            const t0 = performance.now();
            for (let i = 0; i < N; i += batch) {
              const tx = db.transaction(['images', 'queue', 'features', 'maps'], 'readwrite');
              const writes: Promise<unknown>[] = [];
              for (let j = i; j < i + batch; j++) {
                const id = `p${j}`;
                writes.push(
                  request(tx.objectStore('images').getKey(id)).then(() =>
                    Promise.all([
                      request(tx.objectStore('features').put({ id, descriptor: new Float32Array(D).fill(j), probabilities: new Float32Array(1000).fill(j) })),
                      request(tx.objectStore('maps').put({ id, maps: new Uint8Array(mapBytes).fill(j) })),
                      request(tx.objectStore('queue').delete(id)),
                    ]),
                  ),
                );
              }
              await Promise.all(writes);
              await done(tx);
            }
            times[batch].push((performance.now() - t0) / N);
            db.close();
          }
        }
        out[model] = Object.fromEntries(Object.entries(times).map(([b, v]) => [b, v.sort((x, y) => x - y)[1]]));
      }
      return out;
    });
  } finally {
    await context.close();
  }
}

function markdown(runs: ModelRun[], meta: Record<string, string>, idb: Record<string, Record<number, number>>): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  const lines = Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`);
  lines.push(
    '',
    '| model | long side | backend | photos indexed (timed) | bare forward, ms: median (min-max, n) | bare photos/s: N / sum, 1000 / median | indexing: wall s, photos/s | indexing photos/s: 1000 / median interval | indexing / bare: by totals, by medians | stored vs full-size-decode descriptor: max abs diff, min cosine |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of runs) {
    const bareMedianRate = 1000 / median(r.bareMs);
    const bareTotalRate = r.bareMs.length / (sum(r.bareMs) / 1000);
    const wallRate = r.photos / (r.wallMs / 1000);
    const intervalRate = 1000 / median(r.intervalsMs);
    lines.push(
      `| ${r.model} | ${r.longSide} | ${r.backend} | ${r.photos} | ${median(r.bareMs).toFixed(0)} (${Math.min(...r.bareMs).toFixed(0)}-${Math.max(...r.bareMs).toFixed(0)}, n=${r.bareMs.length}) | ` +
        `${f(bareTotalRate)}, ${f(bareMedianRate)} | ${f(r.wallMs / 1000, 1)} s, **${f(wallRate)}** | ${f(intervalRate)} | **${f((100 * wallRate) / bareTotalRate, 1)} %**, ${f((100 * intervalRate) / bareMedianRate, 1)} % | ` +
        `${r.descriptor.maxAbsDiff.toExponential(1)}, ${r.descriptor.minCosine.toFixed(6)} (${r.descriptor.photos} photos) |`,
    );
  }
  lines.push(
    '',
    'IndexedDB, ms per photo written (features + maps + off the queue, app-sized records; median of 3 rounds of 48 photos):',
    '',
    '| records of | 1 photo per transaction | 2 per transaction | 4 per transaction |',
    '|---|---|---|---|',
    ...Object.entries(idb).map(([m, t]) => `| ${m} | ${f(t[1])} | ${f(t[2])} | ${f(t[4])} |`),
  );
  return lines.join('\n');
}

async function main() {
  const { startServer, launchBrowser, projectRoot } = await import('./lib/appServer');
  const n = Number(a.photos);
  if (!Number.isInteger(n) || n < 2) throw new Error('--photos must be an integer >= 2');
  const c = cpus();
  const meta: Record<string, string> = {
    date: new Date().toISOString(),
    machine: `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, no GPU`,
    command: `\`${command}\``,
    'load average (1/5/15 min) at the start': loadavg().map((l) => l.toFixed(2)).join(' / '),
  };
  log('building the app (vite build) and starting vite preview');
  const server = await startServer({ mode: 'preview', build: true, outDir: 'test-results/dist-bench-indexing' });
  const browser = await launchBrowser();
  const runs: ModelRun[] = [];
  let idb: Record<string, Record<number, number>>;
  try {
    meta.browser = `Chromium ${browser.version()} (headless, playwright-core), production build served by vite preview`;
    for (const model of a.models!.split(',').map((m) => m.trim())) runs.push(await runModel(server, browser, model, n));
    log('IndexedDB writes: 1, 2 or 4 photos per transaction');
    idb = await idbBatching(browser, server.url);
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
  meta['load average (1/5/15 min) at the end'] = loadavg().map((l) => l.toFixed(2)).join(' / ');
  const md = markdown(runs, meta, idb);
  console.log(`\n${md}\n`);
  if (a.json) await writeFile(a.json, JSON.stringify({ meta, runs, idb }, null, 2));
  if (a.md) {
    const file = join(projectRoot, 'BENCHMARKS.md');
    await writeFile(file, replaceMarkedSection(await readFile(file, 'utf8'), 'indexing', md));
    log(`updated ${file}`);
  }
}

main().catch((e) => {
  console.error(`bench:indexing: ${(e as Error).stack ?? (e as Error).message}`);
  process.exit(1);
});
