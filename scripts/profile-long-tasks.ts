/**
 * npx tsx scripts/profile-long-tasks.ts [--url http://127.0.0.1:4319] [--profile /tmp/cw-profile] [--photos 10000]
 *                                       [--phases grid,search,results,open] [--top 25]
 *
 * Where the main thread's long tasks go, through the page at scale: the app (a production build served by
 * `vite preview`, best built with `--minify false` so the names mean something) opened in a persistent Chromium
 * profile, the synthetic collection imported once (kept in the profile for later runs), then the phases of
 * tests/e2e/app-scale.test.ts (scroll the grid, search from a tile, scroll the results past the first page, open a
 * result), each under the V8 CPU profiler (CDP Profiler, 100 us samples). For each phase: the long tasks
 * (runs of samples without idle longer than 50 ms) and, for the longest few, their heaviest call paths; and over
 * all its long tasks, the functions by self time. Serve the build first, e.g.
 *   npx vite build --minify false --outDir /tmp/cw-dist && npx vite preview --outDir /tmp/cw-dist --port 4319 --strictPort
 */
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { writeIndex } from '../src/index/exportFormat';
import { projectRoot } from './lib/node';
import { GRID, longTasksSince, openResult, recordLongTasks, resultsPast1000, scrollThrough, searchFromGrid } from './lib/longTasks';
import { syntheticCollection } from './lib/syntheticIndex';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4319' },
    profile: { type: 'string', default: '/tmp/cw-profile' },
    photos: { type: 'string', default: '10000' },
    phases: { type: 'string', default: 'grid,search,results,open' },
    top: { type: 'string', default: '25' },
    /** Also sample allocations (garbage included) per phase, by allocating function. */
    alloc: { type: 'boolean', default: false },
    /** No profiler: only the page's own long tasks (PerformanceObserver), as the e2e test records them. */
    'tasks-only': { type: 'boolean', default: false },
  },
});
const N = Number(a.photos);
const APP = `${a.url}/?backend=wasm&model=mobilenet_v1_0.75&longSide=512&debug=1`;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);
const frameName = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;

/** Long tasks in a CPU profile: runs of non-idle samples (gaps under 2 ms bridged) lasting over 50 ms, with their paths. */
function analyse(name: string, p: Profile, top: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stack = (id: number): Node[] => {
    const s: Node[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) s.unshift(byId.get(cur)!);
    return s.slice(1); // without (root)
  };
  // Each sample: its time (ms) and node.
  let t = 0;
  const samples = p.samples.map((id, i) => ({ id, ms: (t += p.timeDeltas[i] / 1000), dt: (p.timeDeltas[i + 1] ?? 0) / 1000 }));
  const busy = (s: { id: number }) => !IDLE.has(byId.get(s.id)!.callFrame.functionName) || byId.get(s.id)!.callFrame.functionName === '(garbage collector)';
  const tasks: { start: number; end: number; from: number; to: number }[] = [];
  let cur: { start: number; end: number; from: number; to: number } | null = null;
  samples.forEach((s, i) => {
    if (busy(s)) {
      if (cur && s.ms - cur.end < 2) {
        cur.end = s.ms + s.dt;
        cur.to = i;
      } else {
        if (cur) tasks.push(cur);
        cur = { start: s.ms, end: s.ms + s.dt, from: i, to: i };
      }
    }
  });
  if (cur) tasks.push(cur);
  const long = tasks.filter((k) => k.end - k.start > 50).sort((x, y) => y.end - y.start - (x.end - x.start));
  console.log(`\n=== ${name}: ${long.length} busy runs over 50 ms; longest ${long.slice(0, 10).map((k) => Math.round(k.end - k.start)).join(', ')}`);
  const selfAll = new Map<string, number>();
  for (const [ti, k] of long.entries()) {
    const paths = new Map<string, number>();
    const self = new Map<string, number>();
    for (let i = k.from; i <= k.to; i++) {
      const s = samples[i];
      const st = stack(s.id);
      const leaf = st.at(-1);
      if (!leaf) continue;
      self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + s.dt);
      selfAll.set(frameName(leaf), (selfAll.get(frameName(leaf)) ?? 0) + s.dt);
      // A path: the frames from the task's entry, apps' and React's named frames only, cut to 14 deep.
      const named = st.filter((f) => f.callFrame.functionName);
      const key = named.slice(0, 14).map((f) => f.callFrame.functionName).join(' > ');
      paths.set(key, (paths.get(key) ?? 0) + s.dt);
    }
    if (ti < 3) {
      console.log(`-- task ${Math.round(k.end - k.start)} ms at ${Math.round(k.start)} ms; self time:`);
      for (const [f, ms] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 12)) console.log(`   ${ms.toFixed(1).padStart(7)}  ${f}`);
      console.log('   paths:');
      for (const [f, ms] of [...paths].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`   ${ms.toFixed(1).padStart(7)}  ${f}`);
    }
  }
  console.log(`-- ${name}: self time over all its long tasks`);
  for (const [f, ms] of [...selfAll].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`   ${ms.toFixed(1).padStart(7)}  ${f}`);
}

interface AllocNode {
  callFrame: Node['callFrame'];
  selfSize: number;
  children: AllocNode[];
}

/** Bytes allocated in the phase (garbage included), by allocating function and by its caller path. */
function allocations(name: string, head: AllocNode): void {
  const self = new Map<string, number>();
  const paths = new Map<string, number>();
  const walk = (n: AllocNode, path: string[]) => {
    const here = [...path, n.callFrame.functionName || '(anon)'];
    const f = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
    self.set(f, (self.get(f) ?? 0) + n.selfSize);
    const key = here.slice(-6).join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + n.selfSize);
    n.children.forEach((c) => walk(c, here));
  };
  walk(head, []);
  const total = [...self.values()].reduce((x, y) => x + y, 0);
  console.log(`-- ${name}: ${(total / 2 ** 20).toFixed(1)} MiB allocated (sampled), by function:`);
  for (const [f, b] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`   ${(b / 2 ** 20).toFixed(2).padStart(7)} MiB  ${f}`);
  for (const [f, b] of [...paths].sort((x, y) => y[1] - x[1]).slice(0, 10)) console.log(`   ${(b / 2 ** 20).toFixed(2).padStart(7)} MiB  ${f}`);
}

async function profiled(cdp: CDPSession, name: string, work: () => Promise<unknown>): Promise<void> {
  const page = pageOf.get(cdp)!;
  const since = await page.evaluate(() => performance.now());
  if (a['tasks-only']) {
    // The main thread's CPU time and layouts (CDP Performance metrics): less bent by a shared machine than wall time.
    await cdp.send('Performance.enable');
    const metrics = async () => new Map(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
    const m0 = await metrics();
    await work();
    await new Promise((r) => setTimeout(r, 300));
    const m1 = await metrics();
    const d = (k: string, scale = 1) => Math.round(((m1.get(k) ?? 0) - (m0.get(k) ?? 0)) * scale);
    const ms = (await longTasksSince(page, since)).map((m) => Math.round(m));
    console.log(`[${name}] long tasks: ${ms.length} over 50 ms, longest ${Math.max(0, ...ms)} ms; main thread CPU ${d('ThreadTime', 1000)} ms (script ${d('ScriptDuration', 1000)}, layout ${d('LayoutDuration', 1000)} in ${d('LayoutCount')}, style ${d('RecalcStyleDuration', 1000)} in ${d('RecalcStyleCount')}): ${JSON.stringify(ms)}`);
    return;
  }
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  if (a.alloc) {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  await cdp.send('Profiler.start');
  const t0 = Date.now();
  await work();
  await new Promise((r) => setTimeout(r, 300));
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  console.log(`\n[${name}] ${Date.now() - t0} ms`);
  analyse(name, profile, Number(a.top));
  if (a.alloc) allocations(name, ((await cdp.send('HeapProfiler.stopSampling')) as unknown as { profile: { head: AllocNode } }).profile.head);
}

const pageOf = new Map<CDPSession, Page>();

async function main(): Promise<void> {
  const context = await chromium.launchPersistentContext(a.profile!, { executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  await context.addInitScript(recordLongTasks);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
  await page.goto(APP);
  await page.waitForSelector('[data-phase="ready"]', { timeout: 300_000 });
  const photos = await page.evaluate(() => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.indexedCount ?? 0));
  if (photos !== N) {
    const dir = join(projectRoot, 'test-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `synthetic-${N}.npz`);
    if (!existsSync(file)) await pipeline(Readable.fromWeb(writeIndex(syntheticCollection({ photos: N, model: 'mobilenet_v1_0.75', longSide: 512, seed: 1 })) as NodeReadableStream<Uint8Array>), createWriteStream(file));
    console.log(`importing ${N} photos (the profile had ${photos})`);
    await page.setInputFiles('[data-testid="index-input"]', file);
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.indexedCount) === n, N, { timeout: 600_000, polling: 1000 });
  }
  await page.waitForSelector(`${GRID} img[src^="blob:"]`, { timeout: 120_000 });
  await page.waitForTimeout(1000);
  const cdp = await context.newCDPSession(page);
  pageOf.set(cdp, page);
  const phases = a.phases!.split(',');
  if (phases.includes('grid')) await profiled(cdp, 'scroll the grid', () => scrollThrough(page, GRID));
  if (phases.includes('search')) await profiled(cdp, 'search from a tile', () => searchFromGrid(page));
  else if (phases.includes('results')) await searchFromGrid(page);
  if (phases.includes('results')) await profiled(cdp, 'results past 1000', () => resultsPast1000(page));
  if (phases.includes('open')) await profiled(cdp, 'open a result', () => openResult(page));
  await context.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
