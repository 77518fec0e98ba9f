/**
 * npm run bench -- [--quick] [--models resnet50,mobilenet_v1_0.75] [--long-sides 512,1024] [--ncs 1,8,64]
 *                  [--sections forward,memory,storage,ofa,ona] [--repeats 5] [--warmup 1] [--cw-repeats 15]
 *                  [--memory-images 100] [--ofa-sizes 1000,10000,100000] [--ofa-dims 512,768,2048] [--ofa-repeats 15]
 *                  [--k 100] [--ona-models ...] [--ona-sizes 1000,10000] [--shortlist 100,1000] [--ona-nc 64]
 *                  [--ona-repeats 3] [--ona-long-side 512] [--synthetic] [--backend wasm|cpu]
 *                  [--browser wasm,webgpu] [--json out.json] [--md]
 *
 * Node (default): the tfjs wasm backend, single-threaded. --browser: builds the app (vite build, bench.html
 * included), serves it with vite preview and runs bench.html in headless Chromium once per listed backend (same
 * benchmark code, src/bench/runAll.ts). Photos: the first three of ../shared/data/paris6k-mini-dev/jpg when present
 * (else, or with --synthetic, deterministic synthetic images). --md rewrites this run's section of BENCHMARKS.md
 * (between <!-- bench:ID:start/end --> markers; ID = node-wasm, browser-webgpu, ... plus -quick for --quick).
 * Timings are medians of one run on whatever else the machine is doing: read them as such.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelId } from '../src/model/adapters';
import { applyOverrides, defaultConfig, runBenchmarks, type BenchConfig, type BenchPhotos, type BenchReport } from '../src/bench/runAll';
import { replaceMarkedSection, reportMarkdown } from '../src/bench/report';
import type {} from '../src/bench/page'; // window.__bench
import { decodeImageFile, loadNodeNetwork, projectRoot, sharedDir, useNodeBackend } from './lib/node';

const FLAGS = {
  models: 'models', 'long-sides': 'longSides', ncs: 'ncs', sections: 'sections', repeats: 'repeats', warmup: 'warmup',
  'cw-repeats': 'cwRepeats', 'memory-images': 'memoryImages', 'ofa-sizes': 'ofaSizes', 'ofa-dims': 'ofaDims',
  'ofa-repeats': 'ofaRepeats', k: 'k', 'ona-models': 'onaModels', 'ona-sizes': 'onaSizes', shortlist: 'shortlist',
  'ona-nc': 'onaNc', 'ona-repeats': 'onaRepeats', 'ona-long-side': 'onaLongSide',
} as const;

const { values: a } = parseArgs({
  options: {
    ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    quick: { type: 'boolean', default: false },
    synthetic: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    browser: { type: 'string' },
    json: { type: 'string' },
    md: { type: 'boolean', default: false },
    'md-file': { type: 'string', default: join(projectRoot, 'BENCHMARKS.md') },
  },
  strict: true,
});

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();

function config(): BenchConfig {
  const overrides: Record<string, string | undefined> = {};
  for (const [flag, key] of Object.entries(FLAGS)) overrides[key] = (a as unknown as Record<string, string | undefined>)[flag];
  return applyOverrides(defaultConfig(Boolean(a.quick)), overrides);
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

async function runNode(): Promise<{ report: BenchReport; extra: Record<string, string>; id: string }> {
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

async function runBrowser(backends: string[]): Promise<{ report: BenchReport; extra: Record<string, string>; id: string }[]> {
  const { startServer, launchBrowser, collectConsoleErrors } = await import('../tests/e2e/harness');
  const cfg = config();
  const params = new URLSearchParams();
  if (cfg.quick) params.set('quick', '1');
  for (const [flag, key] of Object.entries(FLAGS)) {
    const v = (a as unknown as Record<string, string | undefined>)[flag];
    if (v) params.set(key, v);
  }
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
  const out: { report: BenchReport; extra: Record<string, string>; id: string }[] = [];
  try {
    for (const backend of backends) {
      const extra: Record<string, string> = { ...machine(), browser: `Chromium ${browser.version()} (headless, playwright-core), production build served by vite preview` };
      const page = await browser.newPage();
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
      const url = `${server.url}/bench.html?${params}`;
      log(`${backend}: ${url}`);
      await page.goto(url);
      let shown = 0;
      const deadline = Date.now() + 4 * 3600_000;
      for (;;) {
        const state = await page.evaluate(() => ({ status: window.__bench?.status, log: window.__bench?.log ?? [], error: window.__bench?.error }));
        for (const line of state.log.slice(shown)) log(`${backend}: ${line}`);
        shown = state.log.length;
        if (state.status === 'error') throw new Error(`bench.html?backend=${backend} failed: ${state.error}`);
        if (state.status === 'done') break;
        if (Date.now() > deadline) throw new Error(`bench.html?backend=${backend} did not finish in 4 hours`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      const report = (await page.evaluate(() => window.__bench!.report)) as BenchReport;
      if (errors.length) extra['console errors'] = errors.join(' / ');
      extra['load average (1/5/15 min) at the end'] = loadavg().map((l) => l.toFixed(2)).join(' / ');
      out.push({ report, extra, id: `browser-${report.meta.backend}${cfg.quick ? '-quick' : ''}` });
      await page.close();
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
  return out;
}

async function main() {
  const runs = a.browser ? await runBrowser(a.browser.split(',').map((s) => s.trim())) : [await runNode()];
  for (const { report, extra } of runs) console.log(`\n${reportMarkdown(report, extra)}\n`);
  if (a.json) {
    await writeFile(a.json, JSON.stringify(runs.length === 1 ? { ...runs[0].report, extra: runs[0].extra } : runs.map((r) => ({ ...r.report, extra: r.extra })), null, 2));
    log(`wrote ${a.json}`);
  }
  if (a.md) {
    const file = a['md-file']!;
    let doc = existsSync(file) ? await readFile(file, 'utf8') : '# Benchmarks\n';
    for (const { report, extra, id } of runs) doc = replaceMarkedSection(doc, id, reportMarkdown(report, extra));
    await writeFile(file, doc);
    log(`updated ${file} (${runs.map((r) => r.id).join(', ')})`);
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).stack ?? (e as Error).message}`);
  process.exit(1);
});
