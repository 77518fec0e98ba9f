/**
 * npm run bench -- [--quick] [--models resnet50,mobilenet_v1_0.75] [--long-sides 512,1024] [--ncs 1,8,64]
 *                  [--sections forward,memory,storage,ofa,ona] [--repeats 5] [--warmup 1] [--cw-repeats 15]
 *                  [--memory-images 100] [--ofa-sizes 1000,10000,100000] [--ofa-dims 512,768,2048] [--ofa-repeats 15]
 *                  [--k 100] [--ona-models ...] [--ona-sizes 1000,10000] [--shortlist 100,1000] [--ona-nc 64]
 *                  [--ona-repeats 3] [--ona-long-side 512] [--synthetic] [--backend wasm|cpu]
 *                  [--browser wasm,webgpu] [--threads 1,2,2,1] [--json out.json] [--md]
 *
 * Node (default): the tfjs wasm backend, single-threaded. --browser: builds the app (vite build, bench.html
 * included), serves it with vite preview and runs bench.html in headless Chromium once per listed backend (same
 * benchmark code, src/bench/runAll.ts). --threads: one page per listed wasm thread count, in that order (the page is
 * cross-origin isolated, so more than 1 runs tfjs' threaded build), then a table of the bare forward pass per thread
 * count (median of the runs' medians; list a count twice, e.g. 1,2,2,1, to balance drifting load). Photos: the first three of ../shared/data/paris6k-mini-dev/jpg when present
 * (else, or with --synthetic, deterministic synthetic images). --md rewrites this run's section of BENCHMARKS.md
 * (between <!-- bench:ID:start/end --> markers; ID = node-wasm, browser-webgpu, ... plus -quick for --quick).
 * Timings are medians of one run on whatever else the machine is doing: read them as such.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelId } from '../src/model/adapters';
import { applyOverrides, defaultConfig, runBenchmarks, type BenchConfig, type BenchPhotos, type BenchReport } from '../src/bench/runAll';
import { replaceMarkedSection, reportMarkdown } from '../src/bench/report';
import { median } from '../src/util/median';
import type {} from '../src/bench/page'; // window.__bench
import { decodeImageFile, loadNodeNetwork, projectRoot, sharedDir, useNodeBackend } from './lib/node';
import { benchFlagOptions, benchOverrides } from './lib/benchFlags';

const { values: a } = parseArgs({
  options: {
    ...benchFlagOptions(),
    quick: { type: 'boolean', default: false },
    synthetic: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    browser: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'string' },
    md: { type: 'boolean', default: false },
    'md-file': { type: 'string', default: join(projectRoot, 'BENCHMARKS.md') },
  },
  strict: true,
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();

function config(): BenchConfig {
  return applyOverrides(defaultConfig(Boolean(a.quick)), benchOverrides(a));
}

/** The first `n` photos of the dev set (sorted by name), or null. */
function photoFiles(n = 3): string[] | null {
  if (a.synthetic) return null;
  const shared = sharedDir();
  const dir = shared && join(shared, 'data', 'paris6k-mini-dev', 'jpg');
  if (!dir || !existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
  return files.length ? files.map((f) => join(dir, f)) : null;
}

function machine(): Record<string, string> {
  const c = cpus();
  return {
    machine: `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, no GPU`,
    'load average (1/5/15 min) at the start': loadavg().map((l) => l.toFixed(2)).join(' / '),
    command: `\`${command}\``,
  };
}

async function runNode(): Promise<Run> {
  if (a.backend !== 'wasm' && a.backend !== 'cpu') throw new Error('--backend must be wasm or cpu');
  const extra = machine();
  await useNodeBackend(a.backend);
  const files = photoFiles();
  let photos: BenchPhotos | null = null;
  if (files) {
    photos = { source: `real photos from paris6k-mini-dev: ${files.map((f) => f.split('/').pop()).join(', ')}`, real: true, pixels: await Promise.all(files.map(decodeImageFile)) };
  }
  const cfg = config();
  log(`node ${process.version}, ${tf.getBackend()} backend, ${cfg.quick ? 'quick' : 'full'} run`);
  try {
    const report = await runBenchmarks(
      {
        platform: 'node',
        runtime: `Node ${process.version}, @tensorflow/tfjs-backend-${tf.getBackend()} (single-threaded)`,
        photos,
        log,
        loadNetwork: (id: ModelId, longSide: number) => loadNodeNetwork(id, longSide),
      },
      cfg,
    );
    extra['load average (1/5/15 min) at the end'] = loadavg().map((l) => l.toFixed(2)).join(' / ');
    return { report, extra, id: `node-${report.meta.backend}${cfg.quick ? '-quick' : ''}` };
  } finally {
    if (photos) tf.dispose(photos.pixels);
  }
}

interface Run {
  report: BenchReport;
  extra: Record<string, string>;
  id: string;
  /** wasm threads the page ran on (browser runs on wasm). */
  wasmThreads?: number | null;
}

async function runBrowser(backends: string[], threadList: (number | undefined)[]): Promise<Run[]> {
  const { startServer, launchBrowser, collectConsoleErrors } = await import('./lib/appServer');
  const cfg = config();
  const params = new URLSearchParams();
  if (cfg.quick) params.set('quick', '1');
  for (const [key, v] of Object.entries(benchOverrides(a))) if (v) params.set(key, v);
  const files = photoFiles();
  if (files) params.set('photos', files.map((f) => `/__bench-photos/${f.split('/').pop()}`).join(','));
  log('building the app (vite build) and starting vite preview');
  const server = await startServer({ mode: 'preview', build: true, outDir: 'test-results/dist-bench' });
  const browser = await launchBrowser();
  // Ctrl-C or kill: close Chromium and stop the server (by pid) instead of leaving them running.
  const stop = (signal: NodeJS.Signals) => {
    log(`${signal}: closing the browser and the server`);
    void Promise.allSettled([browser.close(), server.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const out: Run[] = [];
  try {
    for (const [backend, threads] of backends.flatMap((b) => threadList.map((t) => [b, t] as const))) {
      const extra: Record<string, string> = { ...machine(), browser: `Chromium ${browser.version()} (headless, playwright-core), production build served by vite preview` };
      const page = await browser.newPage();
      if (threads) extra['wasm threads'] = `${threads} (bench.html?threads=${threads}; src/model/wasmThreads.ts lifts tfjs' cap of hardwareConcurrency / 2 for an explicit request; the machine has ${cpus().length} logical cores)`;
      const errors = collectConsoleErrors(page, [/vkCreateInstance/, /dbus/]);
      if (files) {
        await page.route('**/__bench-photos/*', async (route) => {
          const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop() ?? '');
          const file = files.find((f) => f.endsWith(`/${name}`));
          if (!file) return route.fulfill({ status: 404 });
          return route.fulfill({ status: 200, contentType: 'image/jpeg', body: await readFile(file) });
        });
      }
      params.set('backend', backend);
      if (threads) params.set('threads', String(threads));
      const url = `${server.url}/bench.html?${params}`;
      log(`${backend}: ${url}`);
      await page.goto(url);
      let shown = 0;
      const deadline = Date.now() + 4 * 3600_000;
      for (;;) {
        const state = await page.evaluate(() => ({ status: window.__bench?.status, log: window.__bench?.log ?? [], error: window.__bench?.error, wasmThreads: window.__bench?.wasmThreads }));
        for (const line of state.log.slice(shown)) log(`${backend}: ${line}`);
        shown = state.log.length;
        if (state.status === 'error') throw new Error(`bench.html?backend=${backend} failed: ${state.error}`);
        if (state.status === 'done') break;
        if (Date.now() > deadline) throw new Error(`bench.html?backend=${backend} did not finish in 4 hours`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      const { report, wasmThreads } = (await page.evaluate(() => ({ report: window.__bench!.report, wasmThreads: window.__bench!.wasmThreads }))) as { report: BenchReport; wasmThreads: number | null };
      if (threads && wasmThreads !== threads) throw new Error(`asked for ${threads} wasm threads, the page ran on ${wasmThreads}`);
      if (errors.length) extra['console errors'] = errors.join(' / ');
      extra['load average (1/5/15 min) at the end'] = loadavg().map((l) => l.toFixed(2)).join(' / ');
      out.push({ report, extra, wasmThreads, id: `browser-${report.meta.backend}${threads ? `-threads${threads}` : ''}${cfg.quick ? '-quick' : ''}` });
      await page.close();
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
  return out;
}

async function main() {
  const threadList = a.threads ? a.threads.split(',').map((t) => Number(t.trim())) : [undefined];
  if (threadList.some((t) => t !== undefined && !(Number.isInteger(t) && t >= 1))) throw new Error(`--threads takes whole numbers >= 1, not ${a.threads}`);
  if (a.threads && !a.browser) throw new Error('--threads needs --browser (Node runs tfjs wasm single-threaded)');
  const runs = a.browser ? await runBrowser(a.browser.split(',').map((s) => s.trim()), threadList) : [await runNode()];
  for (const { report, extra } of runs) console.log(`\n${reportMarkdown(report, extra)}\n`);
  const scaling = a.threads ? threadScalingMarkdown(runs, command) : null;
  if (scaling) console.log(`\n${scaling}\n`);
  if (a.json) {
    await mkdir(dirname(a.json), { recursive: true });
    await writeFile(a.json, JSON.stringify(runs.length === 1 ? { ...runs[0].report, extra: runs[0].extra } : runs.map((r) => ({ ...r.report, extra: r.extra })), null, 2));
    log(`wrote ${a.json}`);
  }
  if (a.md) {
    const file = a['md-file']!;
    let doc = existsSync(file) ? await readFile(file, 'utf8') : '# Benchmarks\n';
    for (const { report, extra, id } of runs) doc = replaceMarkedSection(doc, id, reportMarkdown(report, extra));
    if (scaling) doc = replaceMarkedSection(doc, `browser-threads${runs[0].report.meta.config.quick ? '-quick' : ''}`, scaling);
    await writeFile(file, doc);
    log(`updated ${file} (${runs.map((r) => r.id).join(', ')})`);
  }
}

/** The bare forward pass per wasm thread count, from the runs of one --threads invocation. */
function threadScalingMarkdown(runs: Run[], cmd: string): string {
  const counts = [...new Set(runs.map((r) => r.wasmThreads ?? 1))].sort((x, y) => x - y);
  const keys = [...new Set(runs.flatMap((r) => r.report.forward.map((f) => `${f.model} @${f.longSide}`)))];
  const cell = (key: string, t: number) =>
    runs.filter((r) => (r.wasmThreads ?? 1) === t).flatMap((r) => r.report.forward.filter((f) => `${f.model} @${f.longSide}` === key).map((f) => f.bare.median));
  const rows = keys.map((key) => {
    const medians = counts.map((t) => cell(key, t));
    const base = median(medians[0]);
    return `| ${key} | ${medians.map((m) => `${median(m).toFixed(0)} (${m.map((x) => x.toFixed(0)).join(', ')})`).join(' | ')} | ${medians.slice(1).map((m) => `${(base / median(m)).toFixed(2)}x`).join(' | ')} |`;
  });
  return [
    `#### wasm threads: bare forward pass per photo, ms (Chromium, production build, cross-origin isolated)`,
    '',
    `- command: \`${cmd}\``,
    `- ${runs.length} pages in this order: ${runs.map((r) => r.wasmThreads ?? 1).join(', ')} thread(s); each cell: the median of the pages' medians (each page's median in brackets)`,
    `- load average (1/5/15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`,
    '',
    `| model | ${counts.map((t) => `${t} thread${t > 1 ? 's' : ''}`).join(' | ')} | ${counts.slice(1).map((t) => `speed-up ${t} vs ${counts[0]}`).join(' | ')} |`,
    `|---|${counts.map(() => '---|').join('')}${counts.slice(1).map(() => '---|').join('')}`,
    ...rows,
  ].join('\n');
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).stack ?? (e as Error).message}`);
  process.exit(1);
});
