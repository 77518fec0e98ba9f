/**
 * npx tsx scripts/collection/eval-groups.ts --model resnet50|mobilenet_v1_0.75|efficientnet_b0 [--long-side 512] [--cache /work/eval-cache]
 *     [--seeds 1,2,3,4] [--manifest ../shared/data/paris6k-mini-dev/MANIFEST.json]
 *
 * Groups of the same place (src/collection-tools/groups.ts) at the app's defaults (k 10, OfA >= 0.7, region check >= 0.8),
 * cut four ways from the same verified links in one run: connected components (the app's) and three further cuts of
 * them (groupCuts.ts: Louvain communities, weak bridges between sets of >= 3 photos, bridges between cores), against each photo's landmark (pairwise precision/recall, adjusted Rand
 * index), on:
 *  - the 250 dev photos;
 *  - harder, smaller collections: 3 landmarks x 8, 12 or 16 photos, drawn with fixed seeds (--seeds);
 *  - the README screenshot's 129 photos (scripts/collection/screenshots.ts: the first 25 photos of 5 landmarks and 4
 *    generated copies of two of them).
 * The region scores of links are cached in --cache (groups-region-<model>-<side>.json), by pair: they do not depend on
 * the rest of the collection.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { decodeMaps, encodeMaps } from '../../src/index/mapCodec';
import { modelAdapter } from '../../src/model/adapters';
import { clusterAgreement } from '../../src/collection-tools/clusterMetrics';
import { mutualKnnGroups, mutualLinks, type LinkComponent } from '../../src/collection-tools/groups';
import { linkRegionScore } from '../../src/collection-tools/regionCheck';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { GROUP_DEFAULTS, DUPLICATE_DEFAULTS } from '../../src/collection-tools/collectionDefaults';
import { readManifest } from '../lib/evaluate';
import { useNodeBackend } from '../lib/node';
import { loadCollectionFeatures, type PhotoFeatures } from './features';
import { bridgeCut, coreCut, louvainCut } from './groupCuts';
import { applyTransform, TRANSFORMS } from '../lib/nearDuplicateTransforms';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet50' },
    'long-side': { type: 'string', default: '512' },
    manifest: { type: 'string', default: '../shared/data/paris6k-mini-dev/MANIFEST.json' },
    cache: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3,4' },
  },
});

type GroupMethod = 'components' | 'communities' | 'bridges' | 'cores';
const METHODS: GroupMethod[] = ['components', 'communities', 'bridges', 'cores'];
const CUTS: Record<GroupMethod, ((c: LinkComponent) => string[][]) | undefined> = { components: undefined, communities: louvainCut, bridges: bridgeCut, cores: coreCut };
const LANDMARKS = ['eiffel', 'louvre', 'moulinrouge', 'invalides', 'defense'];
/** The screenshot script's copies: [index among its 125 photos, transforms]. */
const SCREENSHOT_COPIES = [
  [0, ['resize60-q70', 'q35']],
  [26, ['crop10-q85', 'resize60-q70']],
] as const;

const dot = (x: Float32Array, y: Float32Array) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
};
const f3 = (x: number) => x.toFixed(3);
const key = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);

/** A fixed pseudo-random sequence (LCG) for the subset draws. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}
function shuffled<T>(xs: readonly T[], next: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The screenshot's 4 copies written as a near-duplicate set (make-near-duplicates.ts's format) under dir. */
function writeScreenshotCopies(dir: string, manifestPath: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { images: { name: string; file: string }[] };
  const images = SCREENSHOT_COPIES.flatMap(([i, transforms]) => {
    const src = manifest.images.find((m) => m.name === names[i])!;
    const decoded = jpeg.decode(readFileSync(join(manifestPath, '..', src.file)), { useTArray: true, formatAsRGBA: true });
    return transforms.map((t) => {
      const name = `shot_${src.name}_${t}`;
      const bytes = applyTransform(decoded, TRANSFORMS.find((x) => x.name === t)!);
      writeFileSync(join(dir, `${name}.jpg`), bytes);
      const size = jpeg.decode(bytes);
      return { name, file: `${name}.jpg`, width: size.width, height: size.height, source: src.name, transform: t };
    });
  });
  writeFileSync(join(dir, 'NEAR-DUPLICATES.json'), JSON.stringify({ sources: [names[0], names[26]], images }));
}

async function main() {
  const model = modelAdapter(a.model!).id;
  const longSide = Number(a['long-side']);
  await useNodeBackend('wasm');
  const devManifest = await readManifest(a.manifest!);
  const shotNames = LANDMARKS.flatMap((l) => devManifest.images.filter((i) => i.name.startsWith(`paris_${l}_`)).slice(0, 25).map((i) => i.name));
  const copiesDir = '/tmp/eval-groups-screenshot-copies';
  writeScreenshotCopies(copiesDir, a.manifest!, shotNames);
  const { net, dev, copies } = await loadCollectionFeatures({ model, longSide, manifest: a.manifest!, nearDuplicates: copiesDir, cacheDir: a.cache });
  const K = net.adapter.channels;
  const byName = new Map([...dev, ...copies].map((p) => [p.name, p]));
  const landmark = (n: string) => n.replace(/^shot_/, '').split('_')[1];

  // Region scores by pair, cached on disk (each costs 0.1-0.6 s).
  const regionFile = a.cache && join(a.cache, `groups-region-${model}-${longSide}.json`);
  const region = new Map<string, number>(regionFile && existsSync(regionFile) ? (JSON.parse(readFileSync(regionFile, 'utf8')) as [string, number][]) : []);
  const cachedBefore = region.size;
  const mapsOf = (p: PhotoFeatures) => tf.tensor3d(decodeMaps(encodeMaps(p.X, p.grid.H, p.grid.W, K, 'uint8')), [p.grid.H, p.grid.W, K]);
  async function regionScore(x: string, y: string): Promise<number> {
    const k = key(x, y);
    if (!region.has(k)) {
      const [px, py] = [byName.get(x)!, byName.get(y)!];
      const [xa, xb] = [mapsOf(px), mapsOf(py)];
      region.set(k, await linkRegionScore(xa, px.probabilities, xb, py.probabilities, net.head.w));
      tf.dispose([xa, xb]);
    }
    return region.get(k)!;
  }

  /** Both cuts of one collection, at the app's defaults. */
  async function measure(names: string[]) {
    const lists = new NeighbourLists(DUPLICATE_DEFAULTS.k, GROUP_DEFAULTS.floor);
    const photos = names.map((n) => byName.get(n)!);
    for (const p of photos) lists.insert(p.name, Float32Array.from(photos, (q) => dot(p.descriptor, q.descriptor)), names);
    for (const l of mutualLinks(lists, GROUP_DEFAULTS.k, GROUP_DEFAULTS.minSim)) await regionScore(l.a, l.b);
    if (regionFile) writeFileSync(regionFile, JSON.stringify([...region]));
    const accept = (x: string, y: string) => region.get(key(x, y))! >= GROUP_DEFAULTS.minRegion;
    const truth = new Map(names.map((n) => [n, landmark(n)]));
    const out = {} as Record<GroupMethod, { groups: number; grouped: number; precision: number; recall: number; ari: number; largest: string }>;
    for (const method of METHODS) {
      const groups = mutualKnnGroups(lists, { k: GROUP_DEFAULTS.k, minSim: GROUP_DEFAULTS.minSim, accept, split: CUTS[method] });
      const predicted = new Map<string, string>();
      for (const g of groups) for (const m of g.members) predicted.set(m, g.id);
      const r = clusterAgreement(truth, predicted);
      const mix = groups[0] ? [...new Set(groups[0].members.map(landmark))].map((l) => `${l} ${groups[0].members.filter((m) => landmark(m) === l).length}`).join(', ') : '-';
      out[method] = { groups: groups.length, grouped: predicted.size, precision: r.pairPrecision, recall: r.pairRecall, ari: r.adjustedRand, largest: mix };
    }
    return out;
  }
  const row = (label: string, r: Awaited<ReturnType<typeof measure>>) => {
    const cell = (m: GroupMethod) => `${r[m].groups} (${r[m].grouped}) | ${f3(r[m].precision)} ${f3(r[m].recall)} | **${f3(r[m].ari)}**`;
    console.log(`| ${label} | ${METHODS.map(cell).join(' | ')} | ${METHODS.map((m) => r[m].largest).join(' / ')} |`);
  };

  console.log(`\n${model}, long side ${longSide}; defaults k ${GROUP_DEFAULTS.k}, OfA >= ${GROUP_DEFAULTS.minSim}, region >= ${GROUP_DEFAULTS.minRegion}`);
  console.log(`| collection | ${METHODS.map((m) => `${m}: groups (grouped) | P R | ARI`).join(' | ')} | largest group (${METHODS.join(' / ')}) |`);
  console.log(`|---|${METHODS.map(() => '---|---|---|').join('')}---|`);
  const t0 = performance.now();
  row(`dev, ${dev.length} photos`, await measure(dev.map((p) => p.name)));
  row(`screenshot, ${shotNames.length + copies.length} photos`, await measure([...shotNames, ...copies.map((c) => c.name)]));
  const summary = new Map<number, Record<GroupMethod, number[]>>();
  for (const per of [8, 12, 16]) {
    for (const seed of a.seeds!.split(',').map(Number)) {
      const next = rng(seed * 100 + per);
      const chosen = shuffled(LANDMARKS, next).slice(0, 3);
      const names = chosen.flatMap((l) => shuffled(dev.filter((p) => landmark(p.name) === l).map((p) => p.name), next).slice(0, per));
      const r = await measure(names);
      row(`3 x ${per} (seed ${seed}: ${chosen.join(', ')})`, r);
      const s = summary.get(per) ?? summary.set(per, { components: [], communities: [], bridges: [], cores: [] }).get(per)!;
      for (const m of METHODS) s[m].push(r[m].ari);
    }
  }
  const stats = (xs: number[]) => `mean ${f3(xs.reduce((s, v) => s + v, 0) / xs.length)}, min ${f3(Math.min(...xs))}, max ${f3(Math.max(...xs))}`;
  for (const [per, s] of summary) console.log(`3 x ${per}: ARI ${METHODS.map((m) => `${m} ${stats(s[m])}`).join('; ')}`);
  console.log(`${region.size - cachedBefore} region checks run (${region.size} cached), ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
}

main().catch((e) => {
  console.error(`eval-groups: ${(e as Error).stack}`);
  process.exit(1);
});
