/**
 * npx tsx scripts/collection/eval-collection.ts --model resnet50|mobilenet_v1_0.75|efficientnet_b0 [--long-side 512]
 *     [--manifest ../shared/data/paris6k-mini-dev/MANIFEST.json] [--near-duplicates <dir of make-near-duplicates.ts>]
 *     [--cache /work/eval-cache] [--ukbench ../shared/data/ukbench-mini/MANIFEST.json]
 *
 * Measures the collection tools with the app's own code (src/collection-tools/neighbours, duplicates, groups) on
 * features from the eval's Node pipeline:
 *  - near-duplicates on the generated set: precision and recall of duplicate pairs at each threshold, by the OfA
 *    similarity alone and by the app's score (OfA and the layout check); positives = a source photo and its copies
 *    and the copies among themselves, everything else is a negative (other photos of the same landmark above all);
 *  - near-duplicates on ukbench-mini (--ukbench; 250 objects x 4 different shots, no duplicates): the pairs flagged
 *    at each threshold, and how many of them are two shots of one object;
 *  - groups of the same place on paris6k-mini-dev (the 250 photos, no copies): pairwise precision/recall and the
 *    adjusted Rand index against each photo's landmark (its name), for a few k and link thresholds, with and
 *    without the region check of the links.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { decodeMaps, encodeMaps } from '../../src/index/mapCodec';
import { modelAdapter } from '../../src/model/adapters';
import { clusterAgreement, pairPrecisionRecall } from '../../src/collection-tools/clusterMetrics';
import { duplicateGroups, duplicateScore, layoutCellScores, layoutDescriptor, layoutScore, type ScoredPair } from '../../src/collection-tools/duplicates';
import { mutualKnnGroups, mutualLinks } from '../../src/collection-tools/groups';
import { linkRegionScore } from '../../src/collection-tools/regionCheck';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { loadCollectionFeatures, manifestFeatures, type PhotoFeatures } from './features';
import { useNodeBackend } from '../lib/node';
import { DUPLICATE_DEFAULTS, GROUP_DEFAULTS } from '../../src/collection-tools/collectionDefaults';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet50' },
    'long-side': { type: 'string', default: '512' },
    manifest: { type: 'string', default: '../shared/data/paris6k-mini-dev/MANIFEST.json' },
    'near-duplicates': { type: 'string', default: '/work/eval-cache/near-duplicates' },
    cache: { type: 'string' },
    ukbench: { type: 'string', default: '../shared/data/ukbench-mini/MANIFEST.json' },
  },
});

const dot = (x: Float32Array, y: Float32Array) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
};

/** Neighbour lists of these photos, built one photo at a time as the app does. */
function neighbourLists(photos: PhotoFeatures[], k: number, floor: number): NeighbourLists {
  const lists = new NeighbourLists(k, floor);
  const ids = photos.map((p) => p.name);
  for (const p of photos) lists.insert(p.name, Float32Array.from(photos, (q) => dot(p.descriptor, q.descriptor)), ids);
  return lists;
}

const f3 = (x: number) => x.toFixed(3);

async function main() {
  const model = modelAdapter(a.model!).id;
  const longSide = Number(a['long-side']);
  await useNodeBackend('wasm');
  const { net, dev, copies, nearDuplicates } = await loadCollectionFeatures({ model, longSide, manifest: a.manifest!, nearDuplicates: a['near-duplicates'], cacheDir: a.cache });
  const K = net.adapter.channels;
  console.log(`\n${model}, long side ${longSide}: ${dev.length} dev photos, ${copies.length} generated copies of ${nearDuplicates!.sources.length}`);

  // ---- near-duplicates
  const all = [...dev, ...copies];
  const shot = new Map<string, string>(dev.map((p) => [p.name, p.name]));
  for (const img of nearDuplicates!.images) shot.set(img.name, img.source);
  const lists = neighbourLists(all, DUPLICATE_DEFAULTS.k, DUPLICATE_DEFAULTS.floor);
  const layouts = new Map<string, Float32Array>();
  // The maps as the app stores them (uint8), decoded.
  const layoutOf = (p: PhotoFeatures) => {
    let l = layouts.get(p.name);
    if (!l) {
      const { H, W } = p.grid;
      l = layoutDescriptor(decodeMaps(encodeMaps(p.X, H, W, K, 'uint8')), H, W, K);
      layouts.set(p.name, l);
    }
    return l;
  };
  const byName = new Map(all.map((p) => [p.name, p]));
  const candidates: (ScoredPair & { sim: number; layout: number })[] = [];
  const seen = new Set<string>();
  for (const id of lists.ids) {
    for (const n of lists.neighbours(id)) {
      const key = id < n.id ? `${id}|${n.id}` : `${n.id}|${id}`;
      if (seen.has(key) || n.sim < DUPLICATE_DEFAULTS.candidateSim) continue;
      seen.add(key);
      const layout = layoutScore(layoutCellScores(layoutOf(byName.get(id)!), layoutOf(byName.get(n.id)!), K));
      candidates.push({ a: id, b: n.id, sim: n.sim, layout, score: duplicateScore(n.sim, layout) });
    }
  }
  const truth: [string, string][] = [];
  const names = all.map((p) => p.name);
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (shot.get(names[i]) === shot.get(names[j])) truth.push([names[i], names[j]]);
  console.log(`\nnear-duplicates: ${truth.length} true pairs, ${candidates.length} candidate pairs (OfA >= ${DUPLICATE_DEFAULTS.candidateSim}, within each photo's ${DUPLICATE_DEFAULTS.k} nearest)`);
  console.log('threshold | OfA only: P  R  (pairs) | OfA + layout (app): P  R  (pairs) | groups at app score (pure / mixed)');
  for (const t of [0.76, 0.78, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96]) {
    const ofa = pairPrecisionRecall(candidates.filter((c) => c.sim >= t).map((c) => [c.a, c.b] as [string, string]), truth);
    const app = pairPrecisionRecall(candidates.filter((c) => c.score >= t).map((c) => [c.a, c.b] as [string, string]), truth);
    const groups = duplicateGroups(candidates, t);
    const pure = groups.filter((g) => new Set(g.map((m) => shot.get(m))).size === 1).length;
    const mark = t === DUPLICATE_DEFAULTS.threshold ? ' (default)' : '';
    console.log(`${f3(t)}${mark} | ${f3(ofa.precision)} ${f3(ofa.recall)} (${ofa.tp + ofa.fp}) | ${f3(app.precision)} ${f3(app.recall)} (${app.tp + app.fp}) | ${groups.length} (${pure} / ${groups.length - pure})`);
  }
  const t = DUPLICATE_DEFAULTS.threshold;
  const fps = candidates.filter((c) => c.score >= t && shot.get(c.a) !== shot.get(c.b)).sort((x, y) => y.score - x.score);
  console.log(`false positives at ${t}: ${fps.slice(0, 8).map((c) => `${c.a}~${c.b} (OfA ${f3(c.sim)}, layout ${f3(c.layout)})`).join('; ') || 'none'}`);
  const missed = truth.filter(([x, y]) => !candidates.some((c) => c.score >= t && ((c.a === x && c.b === y) || (c.a === y && c.b === x))));
  const byTransform = new Map<string, number>();
  for (const [x, y] of missed) for (const n of [x, y]) if (n.startsWith('nd_')) byTransform.set(n.replace(/^nd_paris_[a-z]+_\d+_/, ''), (byTransform.get(n.replace(/^nd_paris_[a-z]+_\d+_/, '')) ?? 0) + 1);
  console.log(`missed true pairs at ${t}: ${missed.length}; copies in them by transform: ${JSON.stringify(Object.fromEntries(byTransform))}`);

  // ---- near-duplicates on ukbench-mini: every pair is two different shots (of one object, or of two)
  const uk = await manifestFeatures(net, model, longSide, a.ukbench!, a.cache);
  const object = new Map<string, number>();
  (JSON.parse(readFileSync(a.ukbench!, 'utf8')) as { groups: string[][] }).groups.forEach((g, i) => g.forEach((n) => object.set(n, i)));
  const ukLists = neighbourLists(uk, DUPLICATE_DEFAULTS.k, DUPLICATE_DEFAULTS.floor);
  const ukByName = new Map(uk.map((p) => [p.name, p]));
  const ukPairs: { same: boolean; score: number }[] = [];
  const ukSeen = new Set<string>();
  for (const id of ukLists.ids) {
    for (const n of ukLists.neighbours(id)) {
      const key = id < n.id ? `${id}|${n.id}` : `${n.id}|${id}`;
      if (ukSeen.has(key) || n.sim < DUPLICATE_DEFAULTS.candidateSim) continue;
      ukSeen.add(key);
      const layout = layoutScore(layoutCellScores(layoutOf(ukByName.get(id)!), layoutOf(ukByName.get(n.id)!), K));
      ukPairs.push({ same: object.get(id) === object.get(n.id), score: duplicateScore(n.sim, layout) });
    }
  }
  console.log(`\nnear-duplicates on ukbench-mini (${uk.length} photos, no duplicates among them): pairs flagged (two shots of one object / of two objects)`);
  for (const t of [0.8, 0.85, 0.9, 0.95]) {
    const flagged = ukPairs.filter((p) => p.score >= t);
    console.log(`${f3(t)}${t === DUPLICATE_DEFAULTS.threshold ? ' (default)' : ''} | ${flagged.length} (${flagged.filter((p) => p.same).length} / ${flagged.filter((p) => !p.same).length})`);
  }

  // ---- groups of the same place, on the dev photos only
  const landmark = new Map(dev.map((p) => [p.name, p.name.split('_')[1]]));
  const devLists = neighbourLists(dev, DUPLICATE_DEFAULTS.k, GROUP_DEFAULTS.floor);
  console.log(`\ngroups on ${dev.length} dev photos against their landmark (${new Set(landmark.values()).size} landmarks)`);
  // The region check of every link any row below uses (k <= 10, OfA >= 0.6), as the app runs it (uint8 maps).
  const byDev = new Map(dev.map((p) => [p.name, p]));
  const mapsOf = (n: string) => {
    const p = byDev.get(n)!;
    return tf.tensor3d(decodeMaps(encodeMaps(p.X, p.grid.H, p.grid.W, K, 'uint8')), [p.grid.H, p.grid.W, K]);
  };
  const links = mutualLinks(devLists, DUPLICATE_DEFAULTS.k, 0.6);
  const region = new Map<string, number>();
  const t0 = performance.now();
  for (const l of links) {
    const [xa, xb] = [mapsOf(l.a), mapsOf(l.b)];
    region.set(`${l.a}|${l.b}`, await linkRegionScore(xa, byDev.get(l.a)!.probabilities, xb, byDev.get(l.b)!.probabilities, net.head.w));
    tf.dispose([xa, xb]);
  }
  const crossing = links.filter((l) => landmark.get(l.a) !== landmark.get(l.b));
  console.log(`${links.length} links (k 10, OfA >= 0.6), ${crossing.length} between two landmarks; region check ${((performance.now() - t0) / links.length).toFixed(0)} ms per link (both ways, Node wasm)`);
  console.log(`links between landmarks (OfA, region): ${crossing.map((l) => `${f3(l.sim)}, ${f3(region.get(`${l.a}|${l.b}`)!)}`).join('; ') || 'none'}`);
  console.log('k | link >= | region >= | groups | grouped photos | pair precision | pair recall | ARI');
  for (const k of [5, 10]) {
    for (const minSim of [0.6, 0.7, 0.75, 0.8, 0.85, 0.9]) {
      for (const minRegion of [0, 0.75, 0.8, 0.85]) {
        const accept = minRegion ? (x: string, y: string) => (region.get(x < y ? `${x}|${y}` : `${y}|${x}`) ?? 1) >= minRegion : undefined;
        const groups = mutualKnnGroups(devLists, { k, minSim, accept });
        const predicted = new Map<string, string>();
        for (const g of groups) for (const m of g.members) predicted.set(m, g.id);
        const r = clusterAgreement(landmark, predicted);
        const mark = k === GROUP_DEFAULTS.k && minSim === GROUP_DEFAULTS.minSim && minRegion === GROUP_DEFAULTS.minRegion ? ' (default)' : '';
        console.log(`${k} | ${minSim} | ${minRegion ? minRegion : 'off'}${mark} | ${groups.length} | ${predicted.size} | ${f3(r.pairPrecision)} | ${f3(r.pairRecall)} | ${f3(r.adjustedRand)}`);
      }
    }
  }
}

main().catch((e) => {
  console.error(`eval-collection: ${(e as Error).stack}`);
  process.exit(1);
});
