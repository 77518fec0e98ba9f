/**
 * Evaluation on an Oxford/Paris-style dataset (the format of paris6k-mini-dev/MANIFEST.json), with the same
 * CW core and search code as the app, on a Node tfjs backend. Used by `npm run eval` and by the tests.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writeAtomically } from './node';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { crowChannelPooling, crowPooling, sumPooling } from '../../src/cw/baselines';
import type { Grid } from '../../src/cw/boxes';
import { classVectorsBatch, cwDescriptors, padCellBatch } from '../../src/cw/descriptor';
import { cosineScores, queryExpansion, rankDescending } from '../../src/cw/ranking';
import { oxfordAveragePrecision, meanAveragePrecision } from '../../src/cw/oxfordAp';
import { preferredBatchSize } from '../../src/cw/tensorMath';
import { l2Normalize } from '../../src/cw/tensorMath';
import { applyWhitening, fitWhitening, uploadWhitening, type WhiteningOnDevice } from '../../src/cw/whitening';
import { decodeMaps, encodeMaps, encodedBytes, type MapCodec } from '../../src/index/mapCodec';
import { decodeDescriptor, descriptorBytes, encodeDescriptor, type DescriptorCodec } from './descriptorCodec';
import type { ModelId } from '../../src/model/adapters';
import type { CwNetwork } from '../../src/model/network';
import { inputSize } from '../../src/model/preprocess';
import { storedBoxProbabilities } from '../../src/search/describe';
import { imageClasses, onlineDescriptors, search, topIndices } from '../../src/search/search';
import type { Collection, Query, RerankedImage, SearchParams } from '../../src/search/types';
import { median } from '../../src/util/median';
import { beyondMethods, dbaOf, runBeyond, type BeyondSetup } from './evalBeyond';
import { loadQueries } from './evalQueries';
import { readManifest, type Manifest } from './manifest';
import { decodeImageFile, loadNodeNetwork, roundedInput } from './node';

export { readManifest, type Manifest };

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
   * rounded to whole levels first ('rounded': what the app's indexing feeds since issue 13, the browser's bilinear).
   */
  inputResize?: 'network' | 'rounded';
  /** Query crop fed to the network at the scale of the whole image ('same') or resized to the long side. */
  queryScale: 'same' | 'long-side';
  /**
   * Where a query that is a photo of the collection gets its maps and box classes: 'forward' = a forward pass (exact
   * maps of the whole photo, classes from a pass on the cropped box), as for a dropped photo; 'stored' = the photo's
   * stored maps (decoded from `codec`) and the classifier on the box's pooled stored maps, with no network, as the
   * app does for a photo of the collection when this is as good. Queries from outside the collection always 'forward'.
   */
  queryFrom: 'forward' | 'stored';
  /** Only run the methods whose name matches (default: all). */
  only?: RegExp;
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

interface ImageFeatures {
  name: string;
  grid: Grid;
  X: Float32Array;
  probabilities: Float32Array;
}

export { decodeDescriptor, descriptorBytes, encodeDescriptor, type DescriptorCodec } from './descriptorCodec';

interface MethodResult {
  mAP: number;
  perQuery: Record<string, number>;
}


/** One way of storing the index: a map codec and an OfA descriptor codec; bytes are means over the collection. */
interface StorageVariant {
  name: string;
  maps: MapCodec;
  ofa: DescriptorCodec;
  bytesPerImage: { maps: number; ofa: number };
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
  queries: number;
  /** Query id -> kind ('box' for a photo of the collection with its box, else the manifest's kind). */
  queryKinds: Record<string, string>;
  /** Indexing throughput: forward pass + maps read back, median over images; null when features came from the cache. */
  imagesPerSecond: number | null;
  medianMsPerImage: number | null;
  whitening: { on: string; trainedOn: Record<string, number>; dims: Record<string, number> } | null;
  params: Omit<EvalOptions, 'log' | 'manifestPath' | 'cacheDir' | 'only'>;
  methods: Record<string, MethodResult>;
  /** Present when `codecs` was given. */
  storage?: StorageReport;
  seconds: number;
}

export async function extract(net: CwNetwork, manifest: Manifest, opts: EvalOptions, label: string): Promise<{ features: ImageFeatures[]; msPerImage: number[] }> {
  const features: ImageFeatures[] = [];
  const msPerImage: number[] = [];
  const rounded = opts.inputResize === 'rounded';
  const cache = opts.cacheDir && join(opts.cacheDir, `${opts.model}-${opts.longSide}${rounded ? '-rounded' : ''}`);
  if (cache) await mkdir(cache, { recursive: true });
  for (const [i, img] of manifest.images.entries()) {
    const cached = cache && join(cache, `${img.name}.v8`);
    if (cached && existsSync(cached)) {
      features.push(deserialize(await readFile(cached)) as ImageFeatures);
      continue;
    }
    const decoded = await decodeImageFile(join(manifest.dir, img.file));
    const [H, W] = decoded.shape;
    const pixels = rounded ? roundedInput(decoded, inputSize(W, H, opts.longSide, net.adapter.stride)) : decoded;
    const t0 = performance.now();
    const r = net.forward(pixels, opts.longSide, { width: W, height: H });
    const [X, probabilities] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
    msPerImage.push(performance.now() - t0);
    tf.dispose([decoded, pixels, r.X, r.probabilities]);
    const f = { name: img.name, grid: r.grid, X, probabilities };
    features.push(f);
    if (cached) await writeAtomically(cached, serialize(f));
    if ((i + 1) % 25 === 0 || i + 1 === manifest.images.length) opts.log(`${label}: ${i + 1}/${manifest.images.length} images`);
  }
  return { features, msPerImage };
}


const mapsTensor = (f: { X: Float32Array; grid: Grid }, K: number) => tf.tensor3d(f.X, [f.grid.H, f.grid.W, K]);

/** Baseline descriptors [N, K] with a pooling function, in one tensor. */
function poolAll(features: ImageFeatures[], K: number, pool: (X: tf.Tensor3D) => tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.stack(features.map((f) => pool(mapsTensor(f, K)))) as tf.Tensor2D);
}

/** OfA descriptors: each image's own top-NC classes. */
function offlineAll(features: ImageFeatures[], K: number, w: tf.Tensor2D, nc: number, whitening: WhiteningOnDevice | null): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  const size = preferredBatchSize();
  for (let s = 0; s < features.length; s += size) {
    parts.push(
      tf.tidy(() => {
        const chunk = features.slice(s, s + size);
        const batch = padCellBatch(chunk.map((f) => mapsTensor(f, K)));
        const classes = imageClasses(chunk.map((f) => f.probabilities), nc);
        return cwDescriptors(batch, w, classes, whitening);
      }),
    );
  }
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

/** Whitening training vectors [N, K]: class vectors of each image's top-npca classes (CW), or the baseline descriptors. */
function cwTrainingVectors(features: ImageFeatures[], K: number, w: tf.Tensor2D, npca: number): { data: Float32Array; n: number } {
  const parts: Float32Array[] = [];
  const size = preferredBatchSize();
  for (let s = 0; s < features.length; s += size) {
    const v = tf.tidy(() => {
      const chunk = features.slice(s, s + size);
      const batch = padCellBatch(chunk.map((f) => mapsTensor(f, K)));
      const classes = imageClasses(chunk.map((f) => f.probabilities), npca);
      return classVectorsBatch(batch, w, classes);
    });
    parts.push(v.dataSync() as Float32Array);
    v.dispose();
  }
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, n: data.length / K };
}

/**
 * A descriptor database [N, D] as stored with `codec` and read back. Rows are l2-normalised again after decoding:
 * cosineScores assumes unit norm, and an implementation reading quantised descriptors would renormalise too.
 */
function storedDescriptors(db: tf.Tensor2D, codec: DescriptorCodec): tf.Tensor2D {
  const [N, D] = db.shape;
  const data = db.dataSync() as Float32Array;
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) out.set(decodeDescriptor(encodeDescriptor(data.subarray(n * D, (n + 1) * D), codec)), n * D);
  return tf.tidy(() => {
    const t = tf.tensor2d(out, [N, D]);
    return tf.div(t, tf.maximum(tf.norm(t, 2, 1, true), 1e-12)) as tf.Tensor2D;
  });
}

export async function evaluate(opts: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const manifest = await readManifest(opts.manifestPath);
  if (manifest.queries.length === 0) throw new Error(`manifest ${opts.manifestPath} has no queries to evaluate`);
  const net = await loadNodeNetwork(opts.model, opts.longSide);
  const K = net.adapter.channels;
  const w = net.head.w;
  const { features, msPerImage } = await extract(net, manifest, opts, 'index');
  const index = new Map(features.map((f, i) => [f.name, i]));
  // Multi-scale: the collection at other network input sizes too (--scales).
  const longSides = [...new Set([opts.longSide, ...(opts.scales ?? []).map((s) => Math.round(opts.longSide * s))])];
  const atScale = new Map<number, ImageFeatures[]>([[opts.longSide, features]]);
  for (const L of longSides.slice(1)) atScale.set(L, (await extract(net, manifest, { ...opts, longSide: L }, `index at long side ${L}`)).features);
  const queries = await loadQueries(
    net,
    manifest.dir,
    manifest.queries,
    longSides,
    { model: opts.model, queryScale: opts.queryScale, cacheDir: opts.cacheDir, imageFile: (name) => join(manifest.dir, manifest.images[index.get(name)!].file) },
    (L, name) => ({ index: index.get(name)!, X: atScale.get(L)![index.get(name)!].X, grid: atScale.get(L)![index.get(name)!].grid }),
  );
  const cropProbs = queries.map((q) => q.cropProbabilities);
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
  // ResNet-50 image in Node, which per OnA pass would dominate a --codecs run.
  const decoded = new Map<MapCodec, Float32Array[]>();
  const mapBytesPerImage = new Map<MapCodec, number>();
  for (const c of new Set(storage.map((s) => s.maps))) {
    let bytes = 0;
    decoded.set(c, features.map((f) => {
      const e = encodeMaps(f.X, f.grid.H, f.grid.W, K, c);
      bytes += encodedBytes(e);
      return decodeMaps(e);
    }));
    mapBytesPerImage.set(c, bytes / features.length);
  }
  for (const s of storage) s.bytesPerImage = { maps: mapBytesPerImage.get(s.maps)!, ofa: descriptorBytes(K, s.ofa) };
  const grids = features.map((f) => f.grid);
  if (opts.queryFrom === 'stored') {
    // Queries that are photos of the collection: their stored maps, and their box classes from them (no network).
    for (const [qn, q] of queries.entries()) {
      if (q.collectionIndex === null) continue;
      const view = viewOf(qn);
      const stored = { ...view, X: decoded.get(opts.codec)![q.collectionIndex] };
      q.views.set(opts.longSide, stored);
      const X = mapsTensor(stored, K);
      cropProbs[qn] = await storedBoxProbabilities(X, stored.box, w, net.head.b).finally(() => X.dispose());
    }
  }
  const mapsOfCodec = (c: MapCodec) => async (indices: readonly number[]) =>
    indices.map((i) => tf.tensor3d(decoded.get(c)![i], [grids[i].H, grids[i].W, K]));
  const variantMethods = new Map<StorageVariant, Record<string, MethodResult>>(storage.slice(1).map((s) => [s, {}]));

  const methods: Record<string, MethodResult> = {};
  const wanted = (name: string) => !opts.only || opts.only.test(name);
  // Names of the CW methods, so a filtered run can skip the online descriptors nobody asked for.
  const methodNames = new Set<string>();
  for (const suffix of whiteningSource ? ['', '+pca'] : ['']) {
    for (const nc of new Set([opts.nc, 8])) {
      const tag = nc === opts.nc ? '' : `-nc${nc}`;
      for (const extra of ['', `+qe${opts.qe}`, `+r${opts.rerank}`, `+r${opts.rerank}+qe${opts.qeAfterRerank}`]) methodNames.add(`cw-ona${tag}${suffix}${extra}`);
    }
  }
  const beyond = opts.beyond === false ? [] : beyondMethods(opts.rerank, opts.qeAfterRerank, features.length, longSides.length > 1);
  beyond.forEach((m) => methodNames.add(m.name));
  const record = (name: string, q: string, ap: number, s: StorageVariant = reference) => {
    if (!wanted(name)) return;
    const into = s === reference ? methods : variantMethods.get(s)!;
    (into[name] ??= { mAP: 0, perQuery: {} }).perQuery[q] = ap;
  };
  const apOf = (ranking: ArrayLike<number>, q: Manifest['queries'][number]) =>
    oxfordAveragePrecision(Array.from(ranking, (i) => features[i].name), new Set(q.positives), new Set(q.junk));

  const variants: { suffix: string; wh: (m: string) => WhiteningOnDevice | null }[] = [{ suffix: '', wh: () => null }];
  if (whiteningSource) variants.push({ suffix: '+pca', wh: (m) => whitenings[m] });

  for (const variant of variants) {
    // Baselines: one descriptor per image, query = the same pooling on the maps cut to the box.
    for (const [name, pool] of [['raw-sum', sumPooling], ['raw-crow-channel', crowChannelPooling], ['crow', crowPooling]] as const) {
      if (![`${name}${variant.suffix}`, `${name}${variant.suffix}+qe${opts.qe}`].some(wanted)) continue;
      const wh = variant.wh(name);
      const whiten = (d: tf.Tensor2D) => (wh ? tf.tidy(() => applyWhitening(d, wh)) : d);
      const raw = poolAll(features, K, pool);
      const db = whiten(raw);
      for (const [qn, q] of manifest.queries.entries()) {
        const { box, ...view } = viewOf(qn);
        const qd = tf.tidy(() => {
          const X = tf.slice(mapsTensor(view, K), [box.y, box.x, 0], [box.h, box.w, K]);
          return tf.squeeze(whiten(tf.expandDims(pool(X), 0) as tf.Tensor2D), [0]) as tf.Tensor1D;
        });
        const scores = tf.tidy(() => cosineScores(db, qd).dataSync());
        const ranking = rankDescending(scores);
        record(`${name}${variant.suffix}`, q.id, apOf(ranking, q));
        const expanded = queryExpansion(db, ranking, opts.qe, qd);
        record(`${name}${variant.suffix}+qe${opts.qe}`, q.id, apOf(rankDescending(tf.tidy(() => cosineScores(db, expanded).dataSync())), q));
        tf.dispose([qd, expanded]);
      }
      tf.dispose(db === raw ? [raw] : [raw, db]);
      opts.log(`${name}${variant.suffix}: done`);
    }

    // CW: the app's own search code. OnA descriptors are computed once per query and NC and reused by every
    // variant (search over a collection whose stored descriptors ARE the online ones gives the same result).
    const wh = variant.wh('cw');
    const ctx = { w, whitening: wh };
    const ncs = [...new Set([opts.nc, 8])];
    const ofa = new Map(ncs.map((nc) => [nc, offlineAll(features, K, w, nc, wh)]));
    // OfA descriptors as each descriptor codec stores them (after whitening, as the app would store them), read back.
    const ofaStored = new Map<DescriptorCodec, Map<number, tf.Tensor2D>>();
    for (const d of new Set(storage.map((s) => s.ofa))) {
      ofaStored.set(d, new Map(ncs.map((nc) => [nc, d === 'float32' ? ofa.get(nc)! : storedDescriptors(ofa.get(nc)!, d)])));
    }
    // Beyond the paper (no whitening only): alpha-DBA and multi-scale databases, built once when wanted.
    const runsBeyond = variant.suffix === '' && beyond.some((m) => wanted(m.name));
    const beyondSetup: BeyondSetup = { size: features.length, grids, maps: mapsOfCodec(reference.maps), w, nc: opts.nc, ncRerank: opts.ncRerank, methods: beyond, ofa: ofa.get(opts.nc)!, ofaMs: null };
    const dba = runsBeyond && beyond.some((m) => m.db === 'dba' && wanted(m.name)) ? await dbaOf(ofa.get(opts.nc)!) : null;
    if (runsBeyond && longSides.length > 1) {
      beyondSetup.ofaMs = tf.tidy(() => l2Normalize(tf.addN(longSides.map((L) => offlineAll(atScale.get(L)!, K, w, opts.nc, null)))));
    }
    for (const [qn, q] of manifest.queries.entries()) {
      const { box, ...view } = viewOf(qn);
      const X = mapsTensor(view, K);
      const query: Query = { X, grid: view.grid, box, cropProbabilities: cropProbs[qn] };
      for (const s of storage) {
        // Re-ranking results are the same for every method of this query, whitening and map codec: computed once.
        const rerankMemo = new Map<number, RerankedImage>();
        // A storage variant re-runs only the methods whose input it changes: other map codecs change OnA and every
        // re-ranking; other OfA codecs change every OfA method (re-ranking starts from its top R, QE averages it).
        const mapsVary = s !== reference && s.maps !== reference.maps;
        const ofaVary = s !== reference && s.ofa !== reference.ofa;
        const affected = (agg: 'ofa' | 'ona', reranks: boolean) => s === reference || (agg === 'ona' ? mapsVary : ofaVary || (mapsVary && reranks));
        const mapsOfS = mapsOfCodec(s.maps);
        for (const nc of ncs) {
          const tag = nc === opts.nc ? '' : `-nc${nc}`;
          const onaWanted = affected('ona', false) && [...methodNames].some((m) => m.startsWith(`cw-ona${tag}${variant.suffix}`) && wanted(m));
          const classes = tf.tensor1d(topIndices(cropProbs[qn], nc), 'int32');
          const ona = !onaWanted ? tf.zeros([features.length, 1]) as tf.Tensor2D : await onlineDescriptors({ size: features.length, grids, offlineDescriptors: null, maps: mapsOfS }, classes, ctx);
          classes.dispose();
          for (const [agg, db] of [['ofa', ofaStored.get(s.ofa)!.get(nc)!], ['ona', ona]] as const) {
            const collection: Collection = { size: features.length, grids, offlineDescriptors: db, maps: mapsOfS };
            const run = async (suffix: string, p: Partial<SearchParams>) => {
              const name = `cw-${agg}${tag}${variant.suffix}${suffix}`;
              methodNames.add(name);
              if (!wanted(name) || !affected(agg, (p.rerank ?? 0) > 0)) return;
              const r = await search(query, collection, { aggregation: 'offline', nc, qe: 0, rerank: 0, ncRerank: opts.ncRerank, ...p }, { ...ctx, rerankMemo });
              record(name, q.id, apOf(r.ranking, q), s);
            };
            await run('', {});
            await run(`+qe${opts.qe}`, { qe: opts.qe });
            if (nc === opts.nc || agg === 'ona') {
              // The paper's re-ranking: the top R ordered by their best region score, QE averaging image descriptors.
              await run(`+r${opts.rerank}`, { rerank: opts.rerank, rerankScore: 'region' });
              await run(`+r${opts.rerank}+qe${opts.qeAfterRerank}`, { rerank: opts.rerank, rerankScore: 'region', qe: opts.qeAfterRerank, qeSource: 'global' });
            }
          }
          if (runsBeyond && s === reference && nc === opts.nc) {
            const otherScales = longSides.slice(1).map((L) => {
              const v = queries[qn].views.get(L)!;
              return { X: mapsTensor(v, K), box: v.box };
            });
            await runBeyond(beyondSetup, query, otherScales, { ona: onaWanted ? ona : null, dba }, rerankMemo, wanted, (name, ranking) => record(name, q.id, apOf(ranking, q)));
            tf.dispose(otherScales.map((v) => v.X));
          }
          ona.dispose();
        }
      }
      X.dispose();
      opts.log(`cw${variant.suffix}: query ${qn + 1}/${manifest.queries.length} (${q.id})`);
    }
    ofaStored.forEach((m, d) => d !== 'float32' && m.forEach((t) => t.dispose()));
    ofa.forEach((t) => t.dispose());
    tf.dispose([dba, beyondSetup.ofaMs].filter((t): t is tf.Tensor2D => t !== null));
  }
  Object.values(whitenings).forEach((wh) => wh.dispose());
  net.dispose();

  for (const m of [methods, ...variantMethods.values()].flatMap((r) => Object.values(r))) m.mAP = meanAveragePrecision(Object.values(m.perQuery));
  const med = msPerImage.length ? median(msPerImage) : null;
  const { log: _log, manifestPath: _m, cacheDir: _c, only: _o, ...params } = opts;
  const storageReport: StorageReport | undefined = opts.codecs
    ? { reference, variants: [...variantMethods].map(([s, m]) => ({ ...s, methods: m })) }
    : undefined;
  return {
    manifest: opts.manifestPath,
    derivedFrom: manifest.derivedFrom,
    model: opts.model,
    backend: tf.getBackend(),
    longSide: opts.longSide,
    images: features.length,
    queries: manifest.queries.length,
    queryKinds: Object.fromEntries(queries.map((q) => [q.id, q.kind])),
    imagesPerSecond: med ? 1000 / med : null,
    medianMsPerImage: med,
    whitening: whiteningSource ? { on: opts.whitenOn, trainedOn, dims } : null,
    params,
    methods,
    ...(storageReport ? { storage: storageReport } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
