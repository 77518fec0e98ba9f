/**
 * Evaluation on an Oxford/Paris-style dataset (the format of paris6k-mini-dev/MANIFEST.json), with the same
 * CW core and search code as the app, on a Node tfjs backend. Used by `npm run eval`, `npm run eval:all` and the tests.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { crowChannelPooling, crowPooling, sumPooling } from '../../src/cw/baselines';
import { cosineScores, queryExpansion, rankDescending } from '../../src/cw/ranking';
import { oxfordAveragePrecision, meanAveragePrecision } from '../../src/cw/oxfordAp';
import { applyWhitening, fitWhitening, uploadWhitening, type WhiteningOnDevice } from '../../src/cw/whitening';
import { decodeMaps, encodeMaps, encodedBytes, type MapCodec } from '../../src/index/mapCodec';
import type { ModelId } from '../../src/model/adapters';
import { storedBoxProbabilities } from '../../src/search/cwForWorker';
import { median } from '../../src/util/median';
import { descriptorBytes, type DescriptorCodec } from './descriptorCodec';
import { beyondMethods } from './evalBeyond';
import { runCwMethods, type StorageVariant } from './evalCw';
import { cwTrainingVectors, extract, mapsTensor, poolAll, type ImageFeatures } from './evalFeatures';
import { appDefaultMethod, methodFromName, paperMethods, whitenedName, type MethodSpec } from './evalMethods';
import { loadQueries, selectQueries } from './evalQueries';
import { hasNsScore, nsScore, readManifest, type Manifest } from './manifest';
import { loadNodeNetwork } from './node';

export { readManifest, type Manifest };
export { extract } from './evalFeatures';
export { decodeDescriptor, descriptorBytes, encodeDescriptor, type DescriptorCodec } from './descriptorCodec';

export interface EvalOptions {
  manifestPath: string;
  model: ModelId;
  longSide: number;
  /** 'self' (the collection itself, unsupervised), 'none', or another manifest's path (as the paper: Oxford for Paris). */
  whitenOn: string;
  nc: number;
  /** Class vectors per image used to fit whitening (paper: 1). */
  npca: number;
  /** Output dimension of PCA (default: all the data supports). */
  pcaDims?: number;
  shrinkage: number;
  /** 'whiten' (the paper) or 'project' (PCA rotation + truncation only). */
  pcaMode: 'whiten' | 'project';
  ncRerank: number;
  rerank: number;
  qe: number;
  qeAfterRerank: number;
  /** How feature maps are stored for online aggregation and re-ranking. */
  codec: MapCodec;
  /**
   * Storage comparison in the same run: every method that reads stored maps is evaluated again with each of these
   * map codecs, and the OfA methods with the OfA descriptors stored in each of `ofaCodecs`. Off when absent.
   */
  codecs?: MapCodec[];
  /** OfA descriptor storage variants compared when `codecs` is set (default: float16 and int8). */
  ofaCodecs?: DescriptorCodec[];
  /** Cache extracted features here (images/s is then not measured). */
  cacheDir?: string;
  /**
   * Collection photos fed as decoded, resized by the network ('network', default), or resized to the input size and
   * rounded to whole levels first ('rounded': what the app's indexing feeds, the browser's bilinear).
   */
  inputResize?: 'network' | 'rounded';
  /** Query crop fed to the network at the scale of the whole image ('same') or resized to the long side. */
  queryScale: 'same' | 'long-side';
  /**
   * Where a query that is a photo of the collection gets its maps and box classes: 'forward' = a forward pass (exact
   * maps of the whole photo, classes from a pass on the cropped box), as for a dropped photo; 'stored' = the photo's
   * stored maps (decoded from `codec`) and the classifier on the box's pooled stored maps, with no network, as the
   * app does for a photo of the collection when this is as good. Queries from outside the collection always 'forward'.
   * The app-default row builds its query as the app does whatever this says.
   */
  queryFrom: 'forward' | 'stored';
  /** At most this many queries of each query set, drawn with `seed` (default: all). */
  queryLimit?: number;
  seed?: number;
  /** Only run the methods whose name matches (default: all). */
  only?: RegExp;
  /** Only run these methods (every name must exist). */
  methods?: string[];
  /** Methods beyond the built-in ones (`--method`). */
  extraMethods?: MethodSpec[];
  /** Extra network input sizes, as fractions of longSide, for the multi-scale methods (e.g. [0.7071, 0.5]). */
  scales?: number[];
  /** Also run the methods beyond the paper (scripts/lib/evalBeyond.ts). Default true. */
  beyond?: boolean;
  log: (line: string) => void;
}

export const DEFAULT_EVAL: Omit<EvalOptions, 'manifestPath' | 'log'> = {
  model: 'resnet50',
  longSide: 1024,
  whitenOn: 'self',
  nc: 64,
  npca: 1,
  shrinkage: 0,
  pcaMode: 'whiten',
  ncRerank: 6,
  rerank: 100,
  qe: 10,
  qeAfterRerank: 5,
  codec: 'float32',
  queryScale: 'same',
  queryFrom: 'forward',
};

interface MethodResult {
  mAP: number;
  perQuery: Record<string, number>;
  /** UKBench N-S score (mean over the queries that have it, 0..4) and per query; absent when no query has it. */
  ns?: number;
  perQueryNS?: Record<string, number>;
}

interface StorageReport {
  /** The variant the top-level `methods` were measured with (--codec maps, float32 OfA). */
  reference: StorageVariant;
  /** Each other variant, with only the methods whose input it changes (the rest are identical by construction). */
  variants: (StorageVariant & { methods: Record<string, MethodResult> })[];
}

export interface EvalReport {
  manifest: string;
  derivedFrom?: string;
  model: ModelId;
  backend: string;
  longSide: number;
  images: number;
  /** Queries evaluated, and in the manifest (more when queryLimit drew a subset). */
  queries: number;
  manifestQueries: number;
  querySubset: { limitPerSet: number; seed: number } | null;
  /** Query id -> kind ('box' for a photo of the collection with its box, else the manifest's kind). */
  queryKinds: Record<string, string>;
  /** Query id -> the set it comes from, when the manifest names sets (a collection made of several). */
  querySets?: Record<string, string>;
  /** Queries of each set in the manifest (before any draw), when the manifest names sets. */
  manifestQueriesPerSet?: Record<string, number>;
  /** Indexing throughput: forward pass + maps read back, median over images; null when features came from the cache. */
  imagesPerSecond: number | null;
  medianMsPerImage: number | null;
  whitening: { on: string; trainedOn: Record<string, number>; dims: Record<string, number> } | null;
  params: Omit<EvalOptions, 'log' | 'manifestPath' | 'cacheDir' | 'only' | 'extraMethods'>;
  methods: Record<string, MethodResult>;
  /** Present when `codecs` was given. */
  storage?: StorageReport;
  /**
   * Seconds spent per CW method over all queries (its search() calls; the first method to need the CAM re-ranking
   * or the OnA rows of a query pays for them, except the OnA rows of the batched queries: 'OnA rows').
   */
  methodSeconds: Record<string, number>;
  seconds: number;
}

const countBy = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((n, x) => ({ ...n, [x]: (n[x] ?? 0) + 1 }), {});

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const manifest = await readManifest(opts.manifestPath);
  if (manifest.queries.length === 0) throw new Error(`manifest ${opts.manifestPath} has no queries to evaluate`);
  const seed = opts.seed ?? 1;
  const selected = selectQueries(manifest.queries, opts.queryLimit, seed);
  const net = await loadNodeNetwork(opts.model, opts.longSide);
  const K = net.adapter.channels;
  const w = net.head.w;
  const { features, msPerImage } = await extract(net, manifest, opts, 'index');
  const index = new Map(features.map((f, i) => [f.name, i]));
  // Multi-scale: the collection at other network input sizes too (--scales).
  const longSides = [...new Set([opts.longSide, ...(opts.scales ?? []).map((s) => Math.round(opts.longSide * s))])];
  const atScale = new Map<number, ImageFeatures[]>([[opts.longSide, features]]);
  for (const L of longSides.slice(1)) atScale.set(L, (await extract(net, manifest, { ...opts, longSide: L }, `index at long side ${L}`)).features);
  const queries = (
    await loadQueries(
      net,
      manifest.dir,
      selected,
      longSides,
      { model: opts.model, queryScale: opts.queryScale, cacheDir: opts.cacheDir, imageFile: (name) => join(manifest.dir, manifest.images[index.get(name)!].file) },
      (L, name) => {
        const i = index.get(name)!;
        return { index: i, ...atScale.get(L)![i], width: manifest.images[i].width, height: manifest.images[i].height };
      },
    )
  ).map((q) => ({ ...q, from: 'forward' as 'forward' | 'stored' }));
  const viewOf = (qn: number) => queries[qn].views.get(opts.longSide)!;

  // Whitening: learnt on this collection, another one, or not at all; each method gets its own.
  let whiteningSource: ImageFeatures[] | null = null;
  if (opts.whitenOn === 'self') whiteningSource = features;
  else if (opts.whitenOn !== 'none') {
    const other = await readManifest(opts.whitenOn);
    whiteningSource = (await extract(net, other, { ...opts }, `whitening set ${other.name}`)).features;
  }
  const whitenings: Record<string, WhiteningOnDevice> = {};
  const trainedOn: Record<string, number> = {};
  const dims: Record<string, number> = {};
  if (whiteningSource) {
    const fit = async (name: string, data: Float32Array, n: number) => {
      const wh = await fitWhitening(data, n, K, { dims: opts.pcaDims, shrinkage: opts.shrinkage, whiten: opts.pcaMode === 'whiten' });
      whitenings[name] = uploadWhitening(wh);
      trainedOn[name] = n;
      dims[name] = wh.outputDim;
    };
    for (const [name, pool] of [['raw-sum', sumPooling], ['raw-crow-channel', crowChannelPooling], ['crow', crowPooling]] as const) {
      const d = poolAll(whiteningSource, K, pool);
      await fit(name, d.dataSync() as Float32Array, d.shape[0]);
      d.dispose();
    }
    const cv = cwTrainingVectors(whiteningSource, K, w, opts.npca);
    await fit('cw', cv.data, cv.n);
  }

  // Stored maps as the app stores them (codec); the query's own maps stay exact, as a fresh forward pass gives.
  // With `codecs`, one stored copy per map codec; the first storage variant is the reference (top-level methods).
  const storage: StorageVariant[] = [{ name: `maps ${opts.codec}, OfA float32`, maps: opts.codec, ofa: 'float32', bytesPerImage: { maps: 0, ofa: 0 } }];
  if (opts.codecs) {
    for (const c of new Set(opts.codecs)) if (c !== opts.codec) storage.push({ name: `maps ${c}`, maps: c, ofa: 'float32', bytesPerImage: { maps: 0, ofa: 0 } });
    for (const d of new Set<DescriptorCodec>(opts.ofaCodecs ?? ['float16', 'int8'])) if (d !== 'float32') storage.push({ name: `OfA ${d}`, maps: opts.codec, ofa: d, bytesPerImage: { maps: 0, ofa: 0 } });
  }
  const reference = storage[0];
  // Decoded once per codec and kept (the values every read would give): float16 decoding costs ~0.25 s per
  // ResNet-50 image in Node, which per OnA pass would dominate a --codecs run. float32 reads back the maps themselves.
  const decoded = new Map<MapCodec, Float32Array[]>();
  const mapBytesPerImage = new Map<MapCodec, number>();
  for (const c of new Set(storage.map((s) => s.maps))) {
    let bytes = 0;
    decoded.set(c, features.map((f) => {
      const e = encodeMaps(f.X, f.grid.H, f.grid.W, K, c);
      bytes += encodedBytes(e);
      return c === 'float32' ? f.X : decodeMaps(e);
    }));
    mapBytesPerImage.set(c, bytes / features.length);
  }
  for (const s of storage) s.bytesPerImage = { maps: mapBytesPerImage.get(s.maps)!, ofa: descriptorBytes(K, s.ofa) };
  if (opts.queryFrom === 'stored') {
    // Queries that are photos of the collection: their stored maps, and their box classes from them (no network).
    for (const q of queries) {
      if (q.collectionIndex === null) continue;
      const view = q.views.get(opts.longSide)!;
      const stored = { ...view, X: decoded.get(opts.codec)![q.collectionIndex] };
      q.views.set(opts.longSide, stored);
      const X = mapsTensor(stored, K);
      q.cropProbabilities = await storedBoxProbabilities(X, stored.box, w, net.head.b).finally(() => X.dispose());
      q.from = 'stored';
    }
  }

  // The methods: baselines here, then the CW methods (evalMethods.ts), each with its whitened variant.
  const run = { nc: opts.nc, ncRerank: opts.ncRerank, qe: opts.qe, rerank: opts.rerank, qeAfterRerank: opts.qeAfterRerank };
  const beyond = opts.beyond === false ? [] : beyondMethods(opts.rerank, opts.qeAfterRerank, features.length, longSides.length > 1);
  const listed = [appDefaultMethod(), ...paperMethods(run, opts.nc), ...beyond, ...(opts.nc === 8 ? [] : paperMethods(run, 8)), ...(opts.extraMethods ?? [])];
  // Names asked for that no list holds, read as methodFromName spells them.
  const listedNames = new Set(listed.map((m) => m.name));
  const named = (opts.methods ?? []).filter((n) => !listedNames.has(n)).map(methodFromName).filter((m): m is MethodSpec => m !== null);
  const cwMethods = [...listed, ...named];
  const baselineNames = ['raw-sum', 'raw-crow-channel', 'crow'] as const;
  const variants: { suffix: string; whitening: (m: string) => WhiteningOnDevice | null }[] = [{ suffix: '', whitening: () => null }];
  if (whiteningSource) variants.push({ suffix: '+pca', whitening: (m) => whitenings[m] });
  const allNames = [
    ...variants.flatMap((v) => baselineNames.flatMap((n) => [`${n}${v.suffix}`, `${n}${v.suffix}+qe${opts.qe}`])),
    ...variants.flatMap((v) => cwMethods.filter((m) => v.suffix === '' || m.whitened).map((m) => (v.suffix ? whitenedName(m.name) : m.name))),
  ];
  const repeated = allNames.filter((n, i) => allNames.indexOf(n) !== i);
  if (repeated.length) throw new Error(`method names repeat: ${[...new Set(repeated)].join(', ')}`);
  const unknown = (opts.methods ?? []).filter((n) => !allNames.includes(n));
  if (unknown.length) throw new Error(`unknown methods: ${unknown.join(', ')} (this run has: ${allNames.join(', ')})`);
  const wanted = (name: string) => (!opts.only || opts.only.test(name)) && (!opts.methods || opts.methods.includes(name));

  const variantMethods = new Map<StorageVariant, Record<string, MethodResult>>(storage.slice(1).map((s) => [s, {}]));
  const methods: Record<string, MethodResult> = {};
  const ns = selected.map((q) => (hasNsScore(manifest, q) && q.image ? new Set([q.image, ...q.positives]) : null));
  const record = (name: string, qn: number, ranking: ArrayLike<number>, s: StorageVariant = reference) => {
    if (!wanted(name)) return;
    const into = s === reference ? methods : variantMethods.get(s)!;
    const q = selected[qn];
    const m = (into[name] ??= { mAP: 0, perQuery: {} });
    const names = Array.from(ranking, (i) => features[i].name);
    m.perQuery[q.id] = oxfordAveragePrecision(names, new Set(q.positives), new Set(q.junk));
    if (ns[qn]) (m.perQueryNS ??= {})[q.id] = nsScore(names, ns[qn]);
  };

  for (const variant of variants) {
    // Baselines: one descriptor per image, query = the same pooling on the maps cut to the box.
    for (const [name, pool] of [['raw-sum', sumPooling], ['raw-crow-channel', crowChannelPooling], ['crow', crowPooling]] as const) {
      if (![`${name}${variant.suffix}`, `${name}${variant.suffix}+qe${opts.qe}`].some(wanted)) continue;
      const wh = variant.whitening(name);
      const whiten = (d: tf.Tensor2D) => (wh ? tf.tidy(() => applyWhitening(d, wh)) : d);
      const raw = poolAll(features, K, pool);
      const db = whiten(raw);
      for (const qn of queries.keys()) {
        const { box, ...view } = viewOf(qn);
        const qd = tf.tidy(() => {
          const X = tf.slice(mapsTensor(view, K), [box.y, box.x, 0], [box.h, box.w, K]);
          return tf.squeeze(whiten(tf.expandDims(pool(X), 0) as tf.Tensor2D), [0]) as tf.Tensor1D;
        });
        const scores = tf.tidy(() => cosineScores(db, qd).dataSync());
        const ranking = rankDescending(scores);
        record(`${name}${variant.suffix}`, qn, ranking);
        const expanded = queryExpansion(db, ranking, opts.qe, qd);
        record(`${name}${variant.suffix}+qe${opts.qe}`, qn, rankDescending(tf.tidy(() => cosineScores(db, expanded).dataSync())));
        tf.dispose([qd, expanded]);
      }
      tf.dispose(db === raw ? [raw] : [raw, db]);
      opts.log(`${name}${variant.suffix}: done`);
    }
  }
  const ms: Record<string, number> = {};
  await runCwMethods({
    features,
    K,
    head: net.head,
    run,
    methods: cwMethods,
    wanted,
    variants: variants.map((v) => ({ suffix: v.suffix, whitening: v.whitening('cw') })),
    storage,
    decoded: (c, i) => decoded.get(c)![i],
    queries,
    longSides,
    atScale,
    record,
    ms,
    log: opts.log,
  });
  Object.values(whitenings).forEach((wh) => wh.dispose());
  net.dispose();

  for (const m of [methods, ...variantMethods.values()].flatMap((r) => Object.values(r))) {
    m.mAP = meanAveragePrecision(Object.values(m.perQuery));
    if (m.perQueryNS) m.ns = Object.values(m.perQueryNS).reduce((a, b) => a + b, 0) / Object.keys(m.perQueryNS).length;
  }
  const med = msPerImage.length ? median(msPerImage) : null;
  const { log: _log, manifestPath: _m, cacheDir: _c, only: _o, extraMethods: _e, ...params } = opts;
  const storageReport: StorageReport | undefined = opts.codecs
    ? { reference, variants: [...variantMethods].map(([s, m]) => ({ ...s, methods: m })) }
    : undefined;
  const sets = selected.some((q) => q.set !== undefined) ? Object.fromEntries(selected.map((q) => [q.id, q.set ?? ''])) : undefined;
  return {
    manifest: opts.manifestPath,
    derivedFrom: manifest.derivedFrom,
    model: opts.model,
    backend: tf.getBackend(),
    longSide: opts.longSide,
    images: features.length,
    queries: selected.length,
    manifestQueries: manifest.queries.length,
    querySubset: opts.queryLimit === undefined ? null : { limitPerSet: opts.queryLimit, seed },
    queryKinds: Object.fromEntries(queries.map((q) => [q.id, q.kind])),
    ...(sets ? { querySets: sets, manifestQueriesPerSet: countBy(manifest.queries.map((q) => q.set ?? '')) } : {}),
    imagesPerSecond: med ? 1000 / med : null,
    medianMsPerImage: med,
    whitening: whiteningSource ? { on: opts.whitenOn, trainedOn, dims } : null,
    params,
    methods,
    ...(storageReport ? { storage: storageReport } : {}),
    methodSeconds: Object.fromEntries(Object.entries(ms).map(([n, t]) => [n, t / 1000])),
    seconds: (performance.now() - started) / 1000,
  };
}
