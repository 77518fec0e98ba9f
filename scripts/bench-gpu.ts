/**
 * npm run bench:gpu -- [--quick] [--allow-software] [--data .gpu-bench] [--out DIR] [--budget-s 400]
 *                      [--generated-weights resnet50|none] [--dawn-option backend=vulkan] [flags of scripts/bench.ts]
 *
 * The GPU figures (BENCHMARKS.md) in ONE run, in Node on tfjs-backend-webgpu driven by Dawn (scripts/lib/dawn.ts):
 * forward ms per photo for both models at long sides 512 and 1024 with the CW overhead at NC = 64, OfA search over
 * 10k and 100k descriptors, OnA over 10k images (the same benchmark code as `npm run bench`, src/bench/). Made for
 * the lent GPU machine, which has no network: `npm run bench:gpu:prepare` puts everything it needs into .gpu-bench/
 * and BENCHMARKS.md ("GPU") gives the one device command. Results: DIR/gpu-bench.md and DIR/gpu-bench.json, written
 * after each phase, so a run cut short keeps what it measured.
 *
 * It refuses to run without a real GPU: no adapter (exit 3) or a software one such as SwiftShader or lavapipe
 * (exit 4, unless --allow-software, and then every report line says SOFTWARE ADAPTER). ResNet-50's weights are
 * generated from its model.json (scripts/lib/generatedWeights.ts; they cannot travel); MobileNet's are real, and a
 * control times MobileNet with generated weights too, to show the values do not change the time.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { modelAdapter, type ModelId } from '../src/model/adapters';
import { loadNetwork, type CwNetwork } from '../src/model/network';
import { applyOverrides, defaultConfig, runBenchmarks, type BenchConfig, type BenchPhotos, type BenchReport, type BenchSection } from '../src/bench/runAll';
import { benchForward } from '../src/bench/forwardBench';
import { reportMarkdown } from '../src/bench/report';
import { benchFlagOptions, benchOverrides } from './lib/benchFlags';
import { DAWN_DIRS, describeAdapter, GpuUnavailableError, loadDawn, useDawnWebgpu } from './lib/dawn';
import { withGeneratedWeights } from './lib/generatedWeights';
import { decodeImageFile } from './lib/node';

const { values: a } = parseArgs({
  options: {
    ...benchFlagOptions(),
    quick: { type: 'boolean', default: false },
    'allow-software': { type: 'boolean', default: false },
    data: { type: 'string', default: '.gpu-bench' },
    out: { type: 'string' },
    'budget-s': { type: 'string', default: '400' },
    'generated-weights': { type: 'string', default: 'resnet50' },
    'dawn-option': { type: 'string', multiple: true },
  },
  strict: true,
});

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => process.stderr.write(`[bench:gpu ${elapsed().toFixed(0)} s] ${line}\n`);

/** The GPU run's defaults: the figures BENCHMARKS.md records, sized to finish in minutes on a GPU. */
function gpuConfig(): BenchConfig {
  const mobilenet: ModelId = 'mobilenet_v1_0.75';
  const base: BenchConfig = a.quick
    ? { ...defaultConfig(true), models: [mobilenet], longSides: [256], ncs: [64], repeats: 2, cwRepeats: 3, ofaSizes: [1000], ofaDims: [512], ofaRepeats: 3, onaSizes: { [mobilenet]: [32] }, shortlist: [8], onaRepeats: 1, onaLongSide: 256 }
    : {
        ...defaultConfig(false),
        models: ['resnet50', mobilenet],
        longSides: [512, 1024],
        ncs: [64],
        repeats: 10,
        warmup: 2,
        ofaSizes: [10000, 100000],
        ofaDims: [512, 768, 2048],
        onaModels: [mobilenet],
        onaSizes: { [mobilenet]: [10000] },
        shortlist: [100, 1000],
      };
  return applyOverrides({ ...base, sections: ['forward', 'ofa', 'ona'] }, benchOverrides(a));
}

function photoDir(data: string): string | null {
  for (const dir of [join(data, 'photos'), resolve('..', 'shared', 'data', 'paris6k-mini-dev', 'jpg')]) if (existsSync(dir)) return dir;
  return null;
}

/** Reads a model folder from disk: .gpu-bench/models (the device) or public/models (here). */
function modelReader(data: string, id: ModelId) {
  const folder = [join(data, 'models', id), join('public', 'models', id)].find((d) => existsSync(join(d, 'model.json')));
  if (!folder) throw new Error(`${id}: no model.json in ${data}/models/${id} or public/models/${id} (npm run fetch-models, then npm run bench:gpu:prepare)`);
  return async (p: string) => {
    const buf = await readFile(join(folder, p));
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  };
}

async function main(): Promise<void> {
  const data = resolve(a.data!);
  const out = resolve(a.out ?? join(data, 'out'));
  const budget = Number(a['budget-s']);
  const generated = new Set((a['generated-weights'] ?? '').split(',').filter((m) => m && m !== 'none'));
  for (const m of generated) modelAdapter(m);

  const { dawn, dir: dawnDir } = await loadDawn([join(data, 'webgpu'), ...DAWN_DIRS]);
  log(`Node ${process.version}; Dawn from ${dawnDir}`);
  const gpu = await useDawnWebgpu(dawn, { allowSoftware: Boolean(a['allow-software']), dawnOptions: a['dawn-option'] });
  const adapterText = describeAdapter(gpu.info);
  const mark = gpu.software ? ' -- SOFTWARE ADAPTER, NOT A GPU' : '';
  log(`adapter: ${adapterText}${mark}`);

  const config = gpuConfig();
  const dir = photoDir(data);
  const files = dir ? readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 3) : [];
  const photos: BenchPhotos | null = files.length
    ? { source: `real photos from paris6k-mini-dev: ${files.join(', ')}`, real: true, pixels: await Promise.all(files.map((f) => decodeImageFile(join(dir!, f)))) }
    : null;
  const load = (id: ModelId, longSide: number, generatedWeights = generated.has(id)): Promise<CwNetwork> => {
    const read = modelReader(data, id);
    return loadNetwork(modelAdapter(id), generatedWeights ? withGeneratedWeights(read) : read, { longSide });
  };
  const webgpuVersion = (JSON.parse(readFileSync(join(dawnDir, 'package.json'), 'utf8')) as { version: string }).version;
  const env = {
    platform: 'node' as const,
    runtime: `Node ${process.version}, @tensorflow/tfjs-backend-webgpu ${tf.version_core} on Dawn (npm webgpu ${webgpuVersion}); adapter: ${adapterText}${mark}`,
    photos,
    log,
    loadNetwork: (id: ModelId, longSide: number) => load(id, longSide),
  };
  const extra: Record<string, string> = {
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM; GPU: ${adapterText}${mark}`,
    command: `\`${[basename(process.argv[1] ?? 'bench-gpu'), ...process.argv.slice(2)].join(' ')}\``,
    weights: [...config.models, ...config.onaModels]
      .filter((m, i, all) => all.indexOf(m) === i)
      .map((m) => `${m}: ${generated.has(m) ? 'GENERATED from its model.json (same architecture and shapes, seeded random values: scripts/lib/generatedWeights.ts)' : 'real'}`)
      .join('; '),
  };

  mkdirSync(out, { recursive: true });
  let report: BenchReport | null = null;
  const write = async () => {
    if (!report) return;
    report.meta.seconds = elapsed();
    const md = reportMarkdown(report, extra);
    await writeFile(join(out, 'gpu-bench.md'), `${md}\n`);
    await writeFile(join(out, 'gpu-bench.json'), JSON.stringify({ ...report, extra }, null, 2));
  };
  const skipped: string[] = [];
  for (const section of config.sections as BenchSection[]) {
    if (elapsed() > budget) {
      skipped.push(section);
      continue;
    }
    log(`section ${section}`);
    const r = await runBenchmarks(env, { ...config, sections: [section] });
    if (!report) report = { ...r, meta: { ...r.meta, config } };
    else {
      report.forward.push(...r.forward);
      report.ofa.push(...r.ofa);
      report.ona.push(...r.ona);
      report.onaChecks.push(...r.onaChecks);
      Object.assign(report.onaMapStatistics, r.onaMapStatistics);
      Object.assign(report.tensorsLeft, r.tensorsLeft);
    }
    if (section === 'forward' && !generated.has(config.models.at(-1)!) && photos && elapsed() < budget) {
      // Control: the last (real-weights) model again with generated weights, at the first long side.
      const id = config.models.at(-1)!;
      const longSide = config.longSides[0];
      const real = r.forward.find((f) => f.model === id && f.longSide === longSide);
      const net = await load(id, longSide, true);
      try {
        const g = await benchForward(net, photos.pixels[0], { longSide, ncs: config.ncs, repeats: config.repeats, warmup: config.warmup, cwRepeats: 3, log });
        extra['control: generated vs real weights'] =
          `${id} @${longSide}, bare forward median ${g.bare.median.toFixed(1)} ms with generated weights against ${real?.bare.median.toFixed(1)} ms with ` +
          `the real ones (ratio ${((real?.bare.median ?? NaN) / g.bare.median).toFixed(2)}; measured one after the other)`;
      } finally {
        net.dispose();
      }
    }
    await write();
  }
  if (skipped.length) extra['skipped (time budget of --budget-s spent)'] = skipped.join(', ');
  await write();
  if (photos) tf.dispose(photos.pixels);
  if (report) console.log(`\n${reportMarkdown(report, extra)}\n`);
  log(`wrote ${join(out, 'gpu-bench.md')} and gpu-bench.json`);
}

main().then(
  () => process.exit(0), // Dawn's device would keep the process alive
  (e: unknown) => {
    if (e instanceof GpuUnavailableError) {
      console.error(`bench:gpu: ${e.message}`);
      process.exit(e.exitCode);
    }
    console.error(`bench:gpu: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
