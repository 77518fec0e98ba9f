/**
 * npx tsx scripts/collection/eval-groups.ts --model <model id> [--long-side 512] [--cache /work/eval-cache]
 *     [--seeds 1,2,3,4] [--proxy-seeds 1,...,8]
 *     [--sets dev,ukbench,mixed,screenshot,sparse,sparse-mixed,subsets,held-out-like,landmark-distractors]
 *     [--dev ../shared/data/paris6k-mini-dev/MANIFEST.json] [--ukbench ../shared/data/ukbench-mini/MANIFEST.json]
 *
 * Groups of the same place or object (src/collection-tools/groups.ts) from the same verified links (mutual 10-nearest
 * neighbours, OfA >= GROUP_DEFAULTS.minSim, region check >= minRegion), cut several ways in one run: connected
 * components (the app before average linkage), average linkage at a few stop thresholds (the app: GROUP_DEFAULTS
 * .minAverage) and the other cuts of groupCuts.ts. Against each photo's truth (dev: the landmark in its name;
 * ukbench-mini: its object, the manifest's `groups`): pairwise precision/recall, adjusted Rand index, the most
 * true labels in one group, the groups that hold two labels' worth (>= 2 photos of each of >= 2 labels), and the
 * size and purity of the largest groups. Collections (features concatenated; ids are the manifests' names):
 *  - dev (250 photos, 5 landmarks), ukbench (1,000 photos, 250 objects x 4), mixed (both, 1,250);
 *  - screenshot: the README screenshot's 129 photos (25 per landmark and 4 generated copies of two);
 *  - sparse (like the held-out set: few photos per landmark among distractors): per seed, 6 photos of each dev
 *    landmark and one photo of each of 125 ukbench objects (155 photos, 125 of them alone in the truth);
 *  - sparse-mixed: per seed, 6 photos of each dev landmark among all 1,000 ukbench photos;
 *  - subsets: 3 landmarks x 8, 12 or 16 photos;
 *  - held-out-like (per --proxy-seeds): 3-17 photos of each dev landmark (drawn per landmark) among twice as many
 *    ukbench photos, one per object (about two thirds distractors, like the held-out set);
 *  - landmark-distractors (per --proxy-seeds): 3-17 photos of each of 1 or 2 dev landmarks among all the photos of
 *    the other landmarks and 100 ukbench photos, one per object (buildings that look alike as distractors).
 * The region scores of links are cached in --cache (groups-region-<model>-<side>.json), by pair: they do not depend
 * on the rest of the collection. The model is any id the app knows (src/model/adapters.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { decodeMaps, encodeMaps } from '../../src/index/mapCodec';
import { modelAdapter } from '../../src/model/adapters';
import { clusterAgreement } from '../../src/collection-tools/clusterMetrics';
import { averageLinkage, mutualKnnGroups, mutualLinks, type LinkageOptions, type LinkComponent, type PhotoGroup } from '../../src/collection-tools/groups';
import { linkRegionScore } from '../../src/collection-tools/regionCheck';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { GROUP_DEFAULTS, DUPLICATE_DEFAULTS, groupLinkage } from '../../src/collection-tools/collectionDefaults';
import { prng } from '../../src/util/prng';
import { useNodeBackend } from '../lib/node';
import { loadCollectionFeatures, manifestFeatures, type PhotoFeatures } from './features';
import { linkSupportCut, onLinks, rankOrderDistance } from './groupCuts';
import { layoutCells, layoutMatches } from './layoutCheck';
import { writeScreenshotCopies } from './screenshotCopies';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet50' },
    'long-side': { type: 'string', default: '512' },
    dev: { type: 'string', default: '../shared/data/paris6k-mini-dev/MANIFEST.json' },
    ukbench: { type: 'string', default: '../shared/data/ukbench-mini/MANIFEST.json' },
    cache: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3,4' },
    'proxy-seeds': { type: 'string', default: '1,2,3,4,5,6,7,8' },
    sets: { type: 'string', default: 'dev,ukbench,mixed,screenshot,sparse,sparse-mixed,subsets,held-out-like,landmark-distractors' },
  },
});

const LANDMARKS = ['eiffel', 'louvre', 'moulinrouge', 'invalides', 'defense'];
/** Photos per landmark and ukbench objects (one photo each) of a sparse collection. */
const SPARSE_PER_LANDMARK = 6;
const SPARSE_OBJECTS = 125;

const f3 = (x: number) => x.toFixed(3);
const f2 = (x: number) => x.toFixed(2);
const key = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);
function shuffled<T>(xs: readonly T[], next: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Outcome {
  groups: number;
  grouped: number;
  precision: number;
  recall: number;
  ari: number;
  /** The most true labels in one group, and the groups holding >= 2 photos of each of >= 2 labels. */
  mostLabels: number;
  merged: number;
  /** The largest groups: size and purity (the share of its most frequent label). */
  largest: string;
  /** Photos in the largest group. */
  largestSize: number;
  /** Grouped pairs of two labels, by kind: landmark-landmark, object-object, landmark-object. */
  wrong: { landmarks: number; objects: number; across: number };
}

/** How a grouping agrees with the truth. */
function outcome(groups: PhotoGroup[], truth: Map<string, string>): Outcome {
  const predicted = new Map<string, string>();
  for (const g of groups) for (const m of g.members) predicted.set(m, g.id);
  const r = clusterAgreement(truth, predicted);
  const counts = groups.map((g) => {
    const c = new Map<string, number>();
    for (const m of g.members) c.set(truth.get(m)!, (c.get(truth.get(m)!) ?? 0) + 1);
    return [...c.values()];
  });
  const wrong = { landmarks: 0, objects: 0, across: 0 };
  for (const g of groups) {
    g.members.forEach((x, i) => {
      for (const y of g.members.slice(i + 1)) {
        const [lx, ly] = [truth.get(x)!, truth.get(y)!];
        if (lx === ly) continue;
        const [ox, oy] = [lx.startsWith('ukbench'), ly.startsWith('ukbench')];
        wrong[ox && oy ? 'objects' : ox || oy ? 'across' : 'landmarks']++;
      }
    });
  }
  return {
    wrong,
    groups: groups.length,
    grouped: predicted.size,
    precision: r.pairPrecision,
    recall: r.pairRecall,
    ari: r.adjustedRand,
    mostLabels: Math.max(0, ...counts.map((c) => c.length)),
    merged: counts.filter((c) => c.filter((n) => n >= 2).length >= 2).length,
    largestSize: groups[0]?.members.length ?? 0,
    largest: groups.slice(0, 3).map((g, i) => `${g.members.length} (${f3(Math.max(...counts[i]) / g.members.length)})`).join(', ') || '-',
  };
}

async function main() {
  const model = modelAdapter(a.model!).id;
  const longSide = Number(a['long-side']);
  const sets = new Set(a.sets!.split(','));
  const seeds = a.seeds!.split(',').map(Number);
  const proxySeeds = a['proxy-seeds']!.split(',').map(Number);
  await useNodeBackend('wasm');
  const devNames = (JSON.parse(readFileSync(a.dev!, 'utf8')) as { images: { name: string }[] }).images.map((i) => i.name);
  const shotNames = LANDMARKS.flatMap((l) => devNames.filter((n) => n.startsWith(`paris_${l}_`)).slice(0, 25));
  const copiesDir = '/tmp/eval-groups-screenshot-copies';
  writeScreenshotCopies(copiesDir, a.dev!, shotNames);
  const { net, dev, copies } = await loadCollectionFeatures({ model, longSide, manifest: a.dev!, nearDuplicates: copiesDir, cacheDir: a.cache });
  const needsUk = ['ukbench', 'mixed', 'sparse', 'sparse-mixed', 'held-out-like', 'landmark-distractors'].some((s) => sets.has(s));
  const uk = needsUk ? await manifestFeatures(net, model, longSide, a.ukbench!, a.cache) : [];
  const objects = needsUk ? (JSON.parse(readFileSync(a.ukbench!, 'utf8')) as { groups: string[][] }).groups : [];
  const K = net.adapter.channels;
  const photos = [...dev, ...copies, ...uk];
  const byName = new Map(photos.map((p) => [p.name, p]));
  if (byName.size !== photos.length) throw new Error('photo names are not unique across the manifests');
  const label = new Map<string, string>();
  for (const p of [...dev, ...copies]) label.set(p.name, p.name.replace(/^shot_/, '').split('_')[1]);
  objects.forEach((g, i) => g.forEach((n) => label.set(n, `ukbench object ${i}`)));
  for (const p of uk) if (!label.has(p.name)) throw new Error(`ukbench photo ${p.name} is in no group of the manifest`);

  // The OfA similarities of every pair, once (the lists of each collection are built from its rows).
  const at = new Map(photos.map((p, i) => [p.name, i]));
  const N = photos.length;
  const gram = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i; j < N; j++) {
      const x = photos[i].descriptor, y = photos[j].descriptor;
      let s = 0;
      for (let d = 0; d < x.length; d++) s += x[d] * y[d];
      gram[i * N + j] = gram[j * N + i] = s;
    }
  }

  // Region scores by pair, cached on disk (each costs 0.1-0.6 s).
  const regionFile = a.cache && `${a.cache}/groups-region-${model}-${longSide}.json`;
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

  // Layout matches of links (./layoutCheck.ts, not in the app), cached on disk like the region scores.
  const layoutFile = a.cache && `${a.cache}/groups-layout-${model}-${longSide}.json`;
  const layout = new Map<string, number>(layoutFile && existsSync(layoutFile) ? (JSON.parse(readFileSync(layoutFile, 'utf8')) as [string, number][]) : []);
  const cellsOf = (p: PhotoFeatures) => layoutCells(decodeMaps(encodeMaps(p.X, p.grid.H, p.grid.W, K, 'uint8')), p.grid.H, p.grid.W, K);
  const layoutScore = (x: string, y: string) => {
    const k = key(x, y);
    if (!layout.has(k)) layout.set(k, layoutMatches(cellsOf(byName.get(x)!), cellsOf(byName.get(y)!)));
    return layout.get(k)!;
  };

  const descriptor = (id: string) => byName.get(id)!.descriptor;
  type Cut = (c: LinkComponent) => string[][];
  /** A cut given the collection's lists (the rank-order filter reads them); `unchecked`: the links skip the region check. */
  type Method = { cut: (lists: NeighbourLists) => Cut | undefined; unchecked?: boolean; minLayout?: number };
  const linkage = (o: LinkageOptions): Method => ({ cut: () => (c) => averageLinkage(c, descriptor, o) });
  /** Plain average linkage: one stop threshold whatever the pairs, no closeness. */
  const plain = (t: number) => linkage({ minPairAverage: t, minAverage: t, minCloseness: 0 });
  const app = groupLinkage(model);
  const appWith = (o: Partial<LinkageOptions>) => linkage({ ...app, ...o });
  const describe = (o: LinkageOptions) => `pair ${f2(o.minPairAverage)}, floor ${f2(o.minAverage)}, closeness ${f2(o.minCloseness)}`;
  const methods = new Map<string, Method>([
    ['components (before)', { cut: () => undefined }],
    ['link support >= 1', { cut: () => linkSupportCut(1) }],
    ['rank-order distance 0, components', { cut: (lists) => onLinks((l) => rankOrderDistance(lists, l.a, l.b) === 0, (c) => [c.members]) }],
    [`average >= ${f2(app.minPairAverage)}`, plain(app.minPairAverage)],
    [`**average: ${describe(app)} (app)**`, linkage(app)],
    [`app, no region check`, { ...linkage(app), unchecked: true }],
    [`app, pair threshold at the floor (${f2(app.minAverage)})`, appWith({ minPairAverage: app.minAverage })],
    [`app, floor ${f2(app.minAverage - 0.05)}`, appWith({ minAverage: app.minAverage - 0.05 })],
    [`app, floor ${f2(app.minAverage + 0.05)}`, appWith({ minAverage: app.minAverage + 0.05 })],
    [`app, closeness ${f2(app.minCloseness - 0.02)}`, appWith({ minCloseness: app.minCloseness - 0.02 })],
    [`app, closeness ${f2(app.minCloseness + 0.02)}`, appWith({ minCloseness: app.minCloseness + 0.02 })],
    ['app, layout check >= 6 instead of the region check (not in the app)', { ...linkage(app), unchecked: true, minLayout: 6 }],
    ['app, layout check >= 8 instead of the region check (not in the app)', { ...linkage(app), unchecked: true, minLayout: 8 }],
  ]);

  /** Every method on one collection, from the same lists and checked links. */
  async function measure(names: string[], which = methods): Promise<Map<string, Outcome>> {
    const lists = new NeighbourLists(DUPLICATE_DEFAULTS.k, GROUP_DEFAULTS.floor);
    const rows = names.map((n) => at.get(n)!);
    for (const i of rows) lists.insert(photos[i].name, Float32Array.from(rows, (j) => gram[i * N + j]), names);
    const links = mutualLinks(lists, GROUP_DEFAULTS.k, GROUP_DEFAULTS.minSim);
    for (const l of links) await regionScore(l.a, l.b);
    if (regionFile) writeFileSync(regionFile, JSON.stringify([...region]));
    if ([...which.values()].some((m) => m.minLayout !== undefined)) {
      for (const l of links) layoutScore(l.a, l.b);
      if (layoutFile) writeFileSync(layoutFile, JSON.stringify([...layout]));
    }
    const accept = (x: string, y: string) => region.get(key(x, y))! >= GROUP_DEFAULTS.minRegion;
    const truth = new Map(names.map((n) => [n, label.get(n)!]));
    const out = new Map<string, Outcome>();
    for (const [name, m] of which) out.set(name, outcome(mutualKnnGroups(lists, { k: GROUP_DEFAULTS.k, minSim: GROUP_DEFAULTS.minSim, accept: m.minLayout !== undefined ? (x, y) => layout.get(key(x, y))! >= m.minLayout! : m.unchecked ? undefined : accept, split: m.cut(lists) }), truth));
    return out;
  }

  const table = (title: string, r: Map<string, Outcome>) => {
    console.log(`\n**${title}**\n\n| cut | groups (photos) | pair P | pair R | ARI | most labels in a group | groups of 2+ labels' worth | largest groups (purity) | wrong pairs: landmarks / objects / across |\n|---|---|---|---|---|---|---|---|---|`);
    for (const [m, o] of r) console.log(`| ${m} | ${o.groups} (${o.grouped}) | ${f3(o.precision)} | ${f3(o.recall)} | ${f3(o.ari)} | ${o.mostLabels} | ${o.merged} | ${o.largest} | ${o.wrong.landmarks} / ${o.wrong.objects} / ${o.wrong.across} |`);
  };
  /** One family of seeded draws: mean and lowest over the seeds. */
  const family = async (title: string, draw: (next: () => number) => string[], drawSeeds = seeds) => {
    const all = new Map<string, Outcome[]>();
    let size = 0;
    for (const seed of drawSeeds) {
      const names = draw(prng(seed));
      size = names.length;
      for (const [m, o] of await measure(names)) (all.get(m) ?? all.set(m, []).get(m)!).push(o);
    }
    const mean = (xs: number[]) => f3(xs.reduce((s, v) => s + v, 0) / xs.length);
    const low = (xs: number[]) => f3(Math.min(...xs));
    console.log(`\n**${title}** (${size} photos in the last draw; seeds ${drawSeeds.join(', ')}: mean / lowest)\n\n| cut | pair P | pair R | ARI | groups (mean) | largest group (most) | most labels in a group | groups of 2+ labels' worth (all draws) | wrong pairs (all draws): landmarks / objects / across |\n|---|---|---|---|---|---|---|---|---|`);
    for (const [m, os] of all) {
      const p = os.map((o) => o.precision), r = os.map((o) => o.recall), ari = os.map((o) => o.ari);
      console.log(`| ${m} | ${mean(p)} / ${low(p)} | ${mean(r)} / ${low(r)} | ${mean(ari)} / ${low(ari)} | ${(os.reduce((s, o) => s + o.groups, 0) / os.length).toFixed(1)} | ${Math.max(...os.map((o) => o.largestSize))} | ${Math.max(...os.map((o) => o.mostLabels))} | ${os.reduce((s, o) => s + o.merged, 0)} | ${(['landmarks', 'objects', 'across'] as const).map((k) => os.reduce((s, o) => s + o.wrong[k], 0)).join(' / ')} |`);
    }
  };

  const landmarkPhotos = (l: string) => dev.filter((p) => label.get(p.name) === l).map((p) => p.name);
  const ukNames = uk.map((p) => p.name);
  console.log(`\n${model}, long side ${longSide}; links: mutual ${GROUP_DEFAULTS.k}-nearest, OfA >= ${GROUP_DEFAULTS.minSim}, region >= ${GROUP_DEFAULTS.minRegion}`);
  const t0 = performance.now();
  if (sets.has('dev')) table(`dev, ${dev.length} photos`, await measure(dev.map((p) => p.name)));
  if (sets.has('ukbench')) {
    // The selection, on ukbench-mini: the pair threshold is the lowest plain stop threshold whose groups reach pair
    // precision 0.95; the floor, the 99th percentile of the cosines of photos of different objects; then the lowest
    // closeness that reaches pair precision 0.95 with no group holding two objects' worth of photos.
    const lowest = (r: Map<string, Outcome>, values: number[], merged = Infinity) => values.find((_, i) => [...r.values()][i].precision >= 0.95 && [...r.values()][i].merged <= merged);
    const thresholds = Array.from({ length: 26 }, (_, i) => 0.7 + i / 100);
    const byThreshold = await measure(ukNames, new Map(thresholds.map((t) => [`average >= ${f2(t)}`, plain(t)])));
    table(`ukbench-mini, ${uk.length} photos: plain average linkage (selects the pair threshold)`, byThreshold);
    const pair = lowest(byThreshold, thresholds) ?? 1;
    const unrelated: number[] = [];
    for (const x of uk) for (const y of uk) if (x.name < y.name && label.get(x.name) !== label.get(y.name)) unrelated.push(gram[at.get(x.name)! * N + at.get(y.name)!]);
    unrelated.sort((x, y) => x - y);
    const floor = Math.round(unrelated[Math.floor(0.99 * (unrelated.length - 1))] * 100) / 100;
    const closeness = Array.from({ length: 9 }, (_, i) => 0.9 + i / 100);
    const options = (c: number) => ({ minPairAverage: pair, minAverage: floor, minCloseness: c });
    const byCloseness = await measure(ukNames, new Map(closeness.map((c) => [describe(options(c)), linkage(options(c))])));
    table(`ukbench-mini: pair threshold ${f2(pair)}, floor ${f2(floor)} (99th percentile of different objects' cosines); selects the closeness (no group of two objects' worth)`, byCloseness);
    const chosen = lowest(byCloseness, closeness, 0);
    console.log(`\nchosen on ukbench-mini: ${chosen === undefined ? 'none on the grid' : describe(options(chosen))}; the app's for ${model}: ${describe(app)}`);
    table(`ukbench-mini, ${uk.length} photos`, await measure(ukNames));
  }
  if (sets.has('mixed')) table(`mixed (dev + ukbench-mini), ${dev.length + uk.length} photos`, await measure([...dev.map((p) => p.name), ...ukNames]));
  if (sets.has('screenshot')) table(`screenshot, ${shotNames.length + copies.length} photos`, await measure([...shotNames, ...copies.map((c) => c.name)]));
  const sparseLandmarks = (next: () => number) => LANDMARKS.flatMap((l) => shuffled(landmarkPhotos(l), next).slice(0, SPARSE_PER_LANDMARK));
  if (sets.has('sparse')) {
    await family(`sparse: ${SPARSE_PER_LANDMARK} photos per landmark, one photo of each of ${SPARSE_OBJECTS} ukbench objects`, (next) => [
      ...sparseLandmarks(next),
      ...shuffled(objects, next).slice(0, SPARSE_OBJECTS).map((g) => g[Math.floor(next() * g.length)]),
    ]);
  }
  if (sets.has('sparse-mixed')) await family(`sparse-mixed: ${SPARSE_PER_LANDMARK} photos per landmark among ukbench-mini`, (next) => [...sparseLandmarks(next), ...ukNames]);
  if (sets.has('subsets')) {
    for (const per of [8, 12, 16]) {
      await family(`3 landmarks x ${per} photos`, (next) => shuffled(LANDMARKS, next).slice(0, 3).flatMap((l) => shuffled(landmarkPhotos(l), next).slice(0, per)));
    }
  }
  /** 3 to 17 photos of a landmark, as the held-out set's landmarks have. */
  const few = (l: string, next: () => number) => shuffled(landmarkPhotos(l), next).slice(0, 3 + Math.floor(next() * 15));
  const singles = (n: number, next: () => number) => shuffled(objects, next).slice(0, n).map((g) => g[Math.floor(next() * g.length)]);
  if (sets.has('held-out-like')) {
    await family('held-out-like: 3-17 photos per landmark among twice as many ukbench photos (one per object)', (next) => {
      const names = LANDMARKS.flatMap((l) => few(l, next));
      return [...names, ...singles(2 * names.length, next)];
    }, proxySeeds);
  }
  if (sets.has('landmark-distractors')) {
    await family('landmark-distractors: 3-17 photos of each of 1-2 landmarks among all photos of the others and 100 ukbench photos', (next) => {
      const order = shuffled(LANDMARKS, next);
      const targets = 1 + Math.floor(next() * 2);
      return [...order.slice(0, targets).flatMap((l) => few(l, next)), ...order.slice(targets).flatMap(landmarkPhotos), ...singles(100, next)];
    }, proxySeeds);
  }
  console.log(`\n${layout.size} layout checks cached`);
  console.log(`\n${region.size - cachedBefore} region checks run (${region.size} cached), ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
}

main().catch((e) => {
  console.error(`eval-groups: ${(e as Error).stack}`);
  process.exit(1);
});
