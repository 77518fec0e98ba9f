/**
 * npx tsx scripts/bench-search-steps.ts [--models resnet50,mobilenet_v1_0.75] [--n 10000] [--repeats 5]
 *                                       [--only <regex of candidate names>] [--index-costs] [--json out.json]
 *
 * Latency of candidate default searches at N photos on the tfjs wasm backend in Node, single-threaded as
 * in the app's worker: src/search `search()` end to end, as the worker calls it (limit 1000), over a synthetic
 * collection: N l2-normalised OfA descriptors resident in the app's BlockedDescriptors, and N images' uint8-encoded
 * maps (256 distinct synthetic maps with a real photo's grid, zero fraction and non-zero mean, reused cyclically)
 * decoded on every read as CollectionIndex.maps does. The query is a real dev photo's maps and crop classes, and the
 * classifier weights are the real model's. Candidates run round-robin after one warm-up round each (which packs the
 * descriptor blocks for XNNPACK), so load bursts hit all alike; medians over `repeats` rounds.
 * --index-costs also times what the index-time steps cost: one forward pass at long side 512, 362 and 256 (the
 * multi-scale descriptors' extra passes) on a real photo, and alpha-DBA over the N descriptors.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { mapStatistics, now, summarize, syntheticDescriptors, syntheticMaps, timeInterleaved, timeRuns, type Summary } from '../src/bench/benchCore';
import { pixelBoxToCells } from '../src/cw/boxes';
import { decodeMaps, encodeMaps } from '../src/index/mapCodec';
import { modelAdapter, type ModelId } from '../src/model/adapters';
import { BlockedDescriptors } from '../src/search/descriptorBlocks';
import { APP_DEFAULT_CONTROLS } from '../src/search/defaults';
import { databaseAugmentation } from '../src/search/expansion';
import { search } from '../src/search/search';
import type { Collection, Query, SearchParams } from '../src/search/types';
import { decodeImageFile, devManifestPath, loadNodeNetwork, useNodeBackend } from './lib/node';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,mobilenet_v1_0.75' },
    n: { type: 'string', default: '10000' },
    repeats: { type: 'string', default: '5' },
    only: { type: 'string' },
    'index-costs': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
  strict: true,
});

const log = (line: string) => process.stderr.write(`[bench-steps] ${line}\n`);
const LONG_SIDE = 512;
const NC = 64;

/** The candidates: what search() is asked to do (on top of OfA, NC = 64, NC_re = 6, limit 1000). */
const CANDIDATES: Record<string, Partial<SearchParams>> = {
  ofa: {},
  'ofa+qe10': { qe: 10 },
  'ofa+aqe10': { qe: 10, qeAlpha: 3 },
  'ofa+sg50': { superGlobal: 50 },
  'ofa+sg100': { superGlobal: 100 },
  'ofa+sg250': { superGlobal: 250 },
  'ofa+diff100k10': { diffusion: 100, diffusionK: 10 },
  'ofa+diff250k10': { diffusion: 250, diffusionK: 10 },
  ...Object.fromEntries([5, 10, 25, 50, 100].map((R) => [`ofa+r${R}max`, { rerank: R }])),
  ...Object.fromEntries([5, 10, 25].map((R) => [`ofa+sg100+r${R}max`, { superGlobal: 100, rerank: R }])),
  'ofa+sg100+r10max+qe5reg': { superGlobal: 100, rerank: 10, qe: 5, qeSource: 'region' },
  ...Object.fromEntries([5, 10, 25, 50, 100].map((M) => [`ona-s${M}`, { aggregation: 'online', onlineShortlist: M }])),
  'ofa+r100max+qe5reg': { rerank: 100, qe: 5, qeSource: 'region' },
  'ona-nc8-s100': { aggregation: 'online', nc: 8, onlineShortlist: 100 },
  'app-default': { ...APP_DEFAULT_CONTROLS },
  'ofa+sg100+r100max+qe5reg': { superGlobal: 100, rerank: 100, qe: 5, qeSource: 'region' },
  ...Object.fromEntries(
    [50, 100].flatMap((M) => {
      const s = { aggregation: 'online' as const, onlineShortlist: M };
      return [
        [`ona-s${M}+qe10`, { ...s, qe: 10 }],
        [`ona-s${M}+aqe10`, { ...s, qe: 10, qeAlpha: 3 }],
        [`ona-s${M}+sg100`, { ...s, superGlobal: 100 }],
        [`ona-s${M}+r100max+qe5reg`, { ...s, rerank: 100, qe: 5, qeSource: 'region' }],
        [`ona-s${M}+sg100+r100max+qe5reg`, { ...s, superGlobal: 100, rerank: 100, qe: 5, qeSource: 'region' }],
      ];
    }),
  ),
};

interface Row {
  model: ModelId;
  N: number;
  candidate: string;
  ms: Summary;
}

async function benchModel(id: ModelId, N: number, repeats: number, only: RegExp | null): Promise<{ rows: Row[]; index: Record<string, Summary> }> {
  const net = await loadNodeNetwork(id, LONG_SIDE);
  const K = net.adapter.channels;
  const manifest = devManifestPath();
  if (!manifest) throw new Error('needs ../shared/data/paris6k-mini-dev for a real query photo');
  const dir = join(manifest, '..');
  // louvre_1 of the dev set: the query photo and its box.
  const pixels = await decodeImageFile(join(dir, 'jpg', 'paris_louvre_000081.jpg'));
  const r = net.forward(pixels);
  const Xq = r.X;
  const crop = tf.slice(pixels, [69, 107, 0], [445 - 69, 936 - 107, 3]);
  const cropR = net.forward(crop, Math.round((829 * LONG_SIDE) / 1024));
  const cropProbabilities = (await cropR.probabilities.data()) as Float32Array;
  const stats = mapStatistics((await Xq.data()) as Float32Array);
  const { H, W } = r.grid;
  const query: Query = { X: Xq, grid: r.grid, box: pixelBoxToCells({ x1: 107, y1: 69, x2: 936, y2: 445 }, r.grid), cropProbabilities };

  const index: Record<string, Summary> = {};
  if (a['index-costs']) {
    for (const L of [512, 362, 256]) {
      log(`${id}: forward pass at long side ${L}`);
      index[`forward ${L}`] = summarize(await timeRuns(async () => {
        const f = net.forward(pixels, L);
        await Promise.all([f.X.data(), f.probabilities.data()]);
        tf.dispose([f.X, f.probabilities]);
      }, { warmup: 1, repeats }));
    }
  }
  tf.dispose([pixels, crop, cropR.X, cropR.probabilities, r.probabilities]);

  log(`${id}: ${N} synthetic photos (${H} x ${W} x ${K} maps, zero fraction ${stats.zeroFraction.toFixed(2)})`);
  const pool = Array.from({ length: 256 }, (_, i) => encodeMaps(syntheticMaps(H, W, K, stats, 1000 + i), H, W, K, 'uint8'));
  const rows = syntheticDescriptors(N, K, 'rows', 7);
  const blocks = new BlockedDescriptors();
  blocks.sync(N, K, (i) => rows.subarray(i * K, (i + 1) * K));
  await blocks.warmUp();
  const collection: Collection = {
    size: N,
    grids: Array.from({ length: N }, () => r.grid),
    offlineDescriptors: blocks,
    maps: async (indices) => indices.map((i) => tf.tensor3d(decodeMaps(pool[i % pool.length]), [H, W, K])),
  };
  const ctx = { w: net.head.w, whitening: null };
  const wanted = Object.entries(CANDIDATES).filter(([name]) => !only || only.test(name));
  const variants = Object.fromEntries(
    wanted.map(([name, p]) => [name, () => search(query, collection, { aggregation: 'offline', nc: NC, qe: 0, rerank: 0, ncRerank: 6, limit: 1000, ...p }, ctx)]),
  );
  log(`${id}: ${wanted.length} candidates x ${repeats} rounds`);
  const samples = await timeInterleaved(variants, { warmup: 1, repeats }, (round) => log(`${id}: round ${round}/${repeats}`));
  const out = wanted.map(([name]) => ({ model: id, N, candidate: name, ms: summarize(samples[name]) }));

  if (a['index-costs']) {
    log(`${id}: alpha-DBA over ${N} descriptors`);
    const db = tf.tensor2d(rows, [N, K]);
    index[`alpha-DBA N=${N}`] = summarize(await timeRuns(async () => (await databaseAugmentation(db, 10, 3)).dispose(), { warmup: 0, repeats: 1 }));
    db.dispose();
  }
  blocks.dispose();
  Xq.dispose();
  net.dispose();
  return { rows: out, index };
}

async function main() {
  await useNodeBackend('wasm');
  const N = Number(a.n);
  const repeats = Number(a.repeats);
  const only = a.only ? new RegExp(a.only) : null;
  const started = now();
  const load = loadavg()[0];
  const all: Row[] = [];
  const index: Record<string, Record<string, Summary>> = {};
  for (const id of a.models!.split(',').map((m) => modelAdapter(m).id)) {
    const r = await benchModel(id, N, repeats, only);
    all.push(...r.rows);
    index[id] = r.index;
  }
  const models = [...new Set(all.map((r) => r.model))];
  console.log(`\nsearch latency at N = ${N}, tfjs wasm in Node (single-threaded); median [min-max] of ${repeats} rounds, ms; load average ${load.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end`);
  console.log(`| candidate | ${models.join(' | ')} |\n|---|${models.map(() => '---|').join('')}`);
  for (const c of [...new Set(all.map((r) => r.candidate))]) {
    const cell = (m: string) => {
      const s = all.find((r) => r.model === m && r.candidate === c)!.ms;
      return `${s.median.toFixed(0)} [${s.min.toFixed(0)}-${s.max.toFixed(0)}]`;
    };
    console.log(`| ${c} | ${models.map(cell).join(' | ')} |`);
  }
  for (const [m, costs] of Object.entries(index)) {
    for (const [what, s] of Object.entries(costs)) console.log(`${m}: ${what}: ${s.median.toFixed(0)} ms [${s.min.toFixed(0)}-${s.max.toFixed(0)}]`);
  }
  console.log(`\n${((now() - started) / 1000).toFixed(0)} s in all`);
  if (a.json) await writeFile(a.json, JSON.stringify({ N, repeats, load, rows: all, index }, null, 2));
}

main().catch((e) => {
  console.error(`bench-search-steps: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
