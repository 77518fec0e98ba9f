/**
 * npm run bench-scale -- [--photos 1000,10000,50000] [--model mobilenet_v1_0.75] [--long-side 512] [--queries 7]
 *                        [--ona] [--grid 3x4] [--json out.json]
 *
 * Collection scale, worker side, in headless Chromium on a production build (wasm): the app's worker driven from
 * tests/browser/engine.html (the app's client and worker, without the page's grid). For each N, a synthetic index
 * (npm run gen-collection; reused from test-results/ when there) imported with importIndex into a fresh persistent
 * profile, then: import time; memory (the renderer process RSS, which holds the worker; the worker's tfjs tensor
 * bytes); storage per photo (measured records, and navigator.storage.estimate()); OfA search latency (the query a
 * photo of the collection, from its stored maps; the worker's own timing, median over --queries photos, the first
 * search apart: it loads the model); then the page closed and the collection opened again in a new one: start-up to
 * ready (the photo list in the page; of it, reading the collection in the worker) and OfA latency again. Last, the
 * app's own page on it (scripts/lib/scalePage.ts): navigation to the grid, and main-thread long tasks by phase
 * (scroll the grid, search from a tile, results past 1000, open a result) against their target. --ona adds the app's
 * online aggregation (over the OfA top 100, the app's shortlist; median over the same query photos); --grid 12x16
 * gives the synthetic photos the maps of a real 512 px photo. Prints markdown tables for BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { writeIndex } from '../src/index/exportFormat';
import { median } from '../src/util/median';
import type { EngineStats, SearchResponse, StorageReport } from '../src/worker-api/api';
import { projectRoot } from './lib/node';
import { pageFigures, type PageFigures } from './lib/scalePage';
import { LONG_TASK_TARGET_MS } from './lib/longTasks';
import { parseGrid, syntheticCollection } from './lib/syntheticIndex';

const { values: a } = parseArgs({
  options: {
    photos: { type: 'string', default: '1000,10000,50000' },
    model: { type: 'string', default: 'mobilenet_v1_0.75' },
    'long-side': { type: 'string', default: '512' },
    queries: { type: 'string', default: '7' },
    ona: { type: 'boolean', default: false },
    grid: { type: 'string', default: '3x4' },
    json: { type: 'string' },
  },
  strict: true,
});

type Api = Record<string, (...args: unknown[]) => Promise<unknown>>;
/** A call to the worker's API through tests/browser/engine.html's `window.engine`. */
const call = <T>(page: Page, method: string, ...args: unknown[]) =>
  page.evaluate(([m, x]) => (window as unknown as { engine: { api: Api } }).engine.api[m as string](...(x as unknown[])), [method, args] as const) as Promise<T>;
/** The worker's counters (its debug tools' stats). */
const stats = (page: Page) => page.evaluate(() => (window as unknown as { engine: { debug: Api } }).engine.debug.stats()) as Promise<EngineStats>;

interface Row {
  photos: number;
  fileMiB: number;
  genS: number;
  importS: number;
  afterImport: Memory;
  storage: { recordsPerPhoto: number; estimatePerPhoto: number | null; parts: StorageReport['perPhoto'] };
  ofaFirstMs: number;
  ofaMs: number;
  onaMs: number | null;
  /** The app's page (its grid) opened on the collection: see scripts/lib/scalePage.ts. */
  page: PageFigures & { rendererMiB: number | null };
  reload: {
    withThumbnails: { pageReadyMs: number; workerReadyMs: number; loadMs: number; snapshotMs: number };
    pageReadyMs: number;
    workerReadyMs: number;
    loadMs: number;
    snapshotMs: number;
    blocks: number;
    unpacked: number;
    memory: Memory;
    ofaMs: number;
  };
}

interface Memory {
  rendererMiB: number | null;
  pageHeapMiB: number | null;
  tensorMiB: number | null;
}

const mib = (b: number) => b / 2 ** 20;

/** RSS of the largest renderer process of the Chromium using this profile (the app's page and its worker). */
function rendererRss(profile: string): number | null {
  try {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({ pid: +m[1], ppid: +m[2], rss: +m[3] * 1024, args: m[4] }));
    const root = rows.find((r) => r.args.includes(`--user-data-dir=${profile}`) && !r.args.includes('--type='));
    if (!root) return null;
    const mine = new Set([root.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) {
        if (!mine.has(r.pid) && mine.has(r.ppid)) {
          mine.add(r.pid);
          grew = true;
        }
      }
    }
    const renderers = rows.filter((r) => mine.has(r.pid) && r.args.includes('--type=renderer'));
    return renderers.length ? Math.max(...renderers.map((r) => r.rss)) : null;
  } catch {
    return null;
  }
}

async function memory(page: Page, profile: string): Promise<Memory> {
  const s = await stats(page);
  const rss = rendererRss(profile);
  return { rendererMiB: rss && mib(rss), pageHeapMiB: null, tensorMiB: s.tensorBytes === undefined ? null : mib(s.tensorBytes) };
}

/** OfA searches with these photos as queries: the worker's total time per search (ms); its parts logged. */
async function ofa(page: Page, ids: string[]): Promise<number[]> {
  const out: number[] = [];
  const parts: string[] = [];
  for (const id of ids) {
    const r = await call<SearchResponse>(page, 'search', { query: { kind: 'photo', id }, box: { x1: 0, y1: 0, x2: 1e6, y2: 1e6 }, controls: { aggregation: 'offline', nc: 64, qe: 0, rerank: 0 } });
    if (r.queryFrom !== 'stored' || r.searched < 1) throw new Error(`unexpected search: from ${r.queryFrom}, ${r.searched} searched`);
    out.push(r.timings.totalMs);
    const t = r.timings;
    parts.push(`${t.totalMs.toFixed(0)} = open ${(t.totalMs - t.networkMs - t.searchMs).toFixed(0)} + query maps and classes ${t.networkMs.toFixed(0)} + ranking ${t.searchMs.toFixed(0)}`);
  }
  process.stderr.write(`[bench-scale] OfA searches (ms): ${parts.join('; ')}\n`);
  return out;
}

interface Engine {
  start(o: object): Promise<{ ms: number; photos: number; ids: string[] }>;
  importChosen(): Promise<{ s: number; report: { added: number; problems: number } }>;
  events: { ids: string[]; errors: string[] };
}
const engine = <T>(page: Page, f: string, arg?: unknown) =>
  page.evaluate(([name, x]) => ((window as unknown as { engine: Record<string, (a: unknown) => Promise<unknown>> }).engine[name as string](x)), [f, arg] as const) as Promise<T>;

async function main() {
  const { buildApp, startServer, launchPersistentContext } = await import('./lib/appServer');
  const sizes = a.photos!.split(',').map(Number);
  const model = a.model!;
  const longSide = Number(a['long-side']);
  const options = { backend: 'wasm', model, longSide };
  const log = (s: string) => process.stderr.write(`[bench-scale] ${s}\n`);
  log('building the app and the test pages (production)');
  await buildApp({ outDir: 'test-results/dist-scale', testPages: true });
  const server = await startServer({ mode: 'preview', outDir: 'test-results/dist-scale' });
  const rows: Row[] = [];
  try {
    for (const N of sizes) {
      const file = join(projectRoot, 'test-results', `synthetic-${model}-${longSide}-${N}${a.grid === '3x4' ? '' : `-${a.grid}`}.npz`);
      let genS = NaN;
      if (!existsSync(file)) {
        log(`generating ${N} photos`);
        const t = performance.now();
        await pipeline(Readable.fromWeb(writeIndex(syntheticCollection({ photos: N, model, longSide, seed: 1, grid: parseGrid(a.grid!) })) as NodeReadableStream<Uint8Array>), createWriteStream(file));
        genS = (performance.now() - t) / 1000;
      }
      const fileMiB = mib(statSync(file).size);
      const profile = mkdtempSync(join(tmpdir(), 'cw-scale-'));
      const context = await launchPersistentContext(profile);
      try {
        const open = async () => {
          const page = await context.newPage();
          await page.goto(`${server.url}/tests/browser/engine.html`);
          return page;
        };
        let page = await open();
        await engine(page, 'start', options);
        log(`${N}: importing ${file}`);
        await page.setInputFiles('#index-file', file);
        const imported = await engine<{ s: number; report: { added: number; problems: number } }>(page, 'importChosen');
        if (imported.report.added !== N) throw new Error(`imported ${JSON.stringify(imported.report)}`);
        const afterImport = await memory(page, profile);
        const report = await call<StorageReport>(page, 'storageReport');
        const all = await page.evaluate(() => (window as unknown as { engine: Engine }).engine.events.ids);
        const Q = Number(a.queries);
        const picks = Array.from({ length: Q + 1 }, (_, i) => all[Math.floor((i * (all.length - 1)) / Q)]);
        const [first, ...rest] = await ofa(page, picks);
        let onaMs: number | null = null;
        if (a.ona) {
          // The app's online aggregation: OnA over the OfA top 100 (its maps read through the bounded cache).
          const ms: number[] = [];
          for (const id of picks.slice(1)) {
            const r = await call<SearchResponse>(page, 'search', { query: { kind: 'photo', id }, box: { x1: 0, y1: 0, x2: 1e6, y2: 1e6 }, controls: { aggregation: 'online', nc: 64, qe: 0, rerank: 0, onlineShortlist: 100 } });
            ms.push(r.timings.totalMs);
          }
          onaMs = median(ms);
        }
        log(`${N}: imported in ${imported.s.toFixed(1)} s; OfA first ${first.toFixed(0)} ms, median ${median(rest).toFixed(0)} ms; memory ${JSON.stringify(afterImport)}; opening it again`);
        await page.close();
        // Opened again twice: with every thumbnail in the photo list (today's page), then with none (a page that
        // asks for the thumbnails it shows: StartOptions.thumbnails 'on-demand').
        page = await open();
        const eager = await engine<{ ms: number; photos: number }>(page, 'start', options);
        const eagerStats = await stats(page);
        await page.close();
        page = await open();
        const started = await engine<{ ms: number; photos: number }>(page, 'start', { ...options, thumbnails: 'on-demand' });
        const startStats = await stats(page);
        const reloadOfa = await ofa(page, picks);
        const reloadMemory = await memory(page, profile);
        const errors = await page.evaluate(() => (window as unknown as { engine: Engine }).engine.events.errors);
        if (errors.length) throw new Error(`worker errors: ${errors.join('; ')}`);
        rows.push({
          photos: N,
          fileMiB,
          genS,
          importS: imported.s,
          afterImport,
          storage: { recordsPerPhoto: report.perPhoto.total, estimatePerPhoto: report.indexedDb === null ? null : report.indexedDb / N, parts: report.perPhoto },
          ofaFirstMs: first,
          ofaMs: median(rest),
          onaMs,
          page: { gridMs: NaN, phases: [], heapMiB: null, rendererMiB: null },
          reload: {
            withThumbnails: { pageReadyMs: eager.ms, workerReadyMs: eagerStats.startup!.readyMs, loadMs: eagerStats.startup!.loadMs, snapshotMs: eagerStats.startup!.snapshotMs },
            pageReadyMs: started.ms,
            workerReadyMs: startStats.startup!.readyMs,
            loadMs: startStats.startup!.loadMs,
            snapshotMs: startStats.startup!.snapshotMs,
            blocks: startStats.startup!.blocks,
            unpacked: startStats.startup!.unpacked,
            memory: reloadMemory,
            ofaMs: median(reloadOfa.slice(1)),
          },
        });
        await page.close();
        // The app itself on the same collection: start-up to its grid, the phases through the page, memory with it.
        const figures = await pageFigures(context, `${server.url}/?backend=wasm&model=${model}&longSide=${longSide}`, N);
        rows.at(-1)!.page = { ...figures, rendererMiB: mib(rendererRss(profile) ?? NaN) };
        log(`${N}: ${JSON.stringify(rows.at(-1))}`);
      } finally {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    await server.stop();
  }
  const f = (v: number | null, d = 0) => (v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  console.log(`\nmodel ${model} at ${longSide}, wasm, headless Chromium, production build; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| photos | import | start-up to ready, reopened, thumbnails with the list: photo list in the page / worker ready / reading the collection (of it IndexedDB) | the same, thumbnails on demand | blocks read + records | renderer RSS after import / reopened | tensors | storage per photo (records / IndexedDB usage) | OfA first / median (reopened) | OnA over the OfA top 100, median |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.photos.toLocaleString('en')} | ${f(r.importS, 1)} s | ${f(r.reload.withThumbnails.pageReadyMs)} / ${f(r.reload.withThumbnails.workerReadyMs)} / ${f(r.reload.withThumbnails.loadMs)} (${f(r.reload.withThumbnails.snapshotMs)}) ms | ` +
        `${f(r.reload.pageReadyMs)} / ${f(r.reload.workerReadyMs)} / ${f(r.reload.loadMs)} (${f(r.reload.snapshotMs)}) ms | ${r.reload.blocks} + ${r.reload.unpacked} | ` +
        `${f(r.afterImport.rendererMiB)} / ${f(r.reload.memory.rendererMiB)} MiB | ${f(r.reload.memory.tensorMiB)} MiB | ` +
        `${f(r.storage.recordsPerPhoto / 1000, 1)} / ${f(r.storage.estimatePerPhoto && r.storage.estimatePerPhoto / 1000, 1)} kB | ${f(r.ofaFirstMs)} / ${f(r.ofaMs)} (${f(r.reload.ofaMs)}) ms | ${r.onaMs === null ? 'not run' : `${f(r.onaMs)} ms`} |`,
    );
  }
  const phases = [...new Set(rows.flatMap((r) => r.page.phases.map((p) => p.name)))];
  console.log(`\nThe app reopened: main-thread long tasks (> 50 ms) by phase: the longest, ms (how many); target: none over ${LONG_TASK_TARGET_MS} ms (* marks one over).\n`);
  console.log(`| photos | navigation to the grid | ${phases.join(' | ')} | page JS heap / renderer RSS after them |`);
  console.log(`|---|---|${phases.map(() => '---|').join('')}---|`);
  for (const r of rows) {
    const p = r.page;
    const cells = phases.map((name) => {
      const ph = p.phases.find((x) => x.name === name);
      return ph ? `${ph.count ? ph.maxMs : '-'}${ph.maxMs > LONG_TASK_TARGET_MS ? '*' : ''} (${ph.count})` : 'n/a';
    });
    console.log(`| ${r.photos.toLocaleString('en')} | ${f(p.gridMs)} ms | ${cells.join(' | ')} | ${f(p.heapMiB)} / ${f(p.rendererMiB)} MiB |`);
  }
  if (a.json) await writeFile(a.json, JSON.stringify({ model, longSide, rows }, null, 2));
}

main().catch((e) => {
  console.error(`bench-scale: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
