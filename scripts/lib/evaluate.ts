/**
 * Evaluation on an Oxford/Paris-style dataset (the format of paris6k-mini-dev/MANIFEST.json), with the same
 * CW core and search code as the app, on a Node tfjs backend. Used by `npm run eval` and by the tests.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { Float16Array } from '@petamoriken/float16';
import { crowChannelPooling, crowPooling, sumPooling } from '../../src/cw/baselines';
import { pixelBoxToCells, type Grid } from '../../src/cw/boxes';
import { classVectorsBatch, cwDescriptors, padCellBatch } from '../../src/cw/descriptor';
import { cosineScores, queryExpansion, rankDescending } from '../../src/cw/ranking';
import { oxfordAveragePrecision, meanAveragePrecision } from '../../src/cw/oxfordAp';
import { preferredBatchSize } from '../../src/cw/tensorMath';
import type { CellBox } from '../../src/cw/types';
import { applyWhitening, fitWhitening, uploadWhitening, type WhiteningOnDevice } from '../../src/cw/whitening';
import { decodeMaps, encodeMaps, encodedBytes, type MapCodec } from '../../src/index/mapCodec';
import type { ModelId } from '../../src/model/adapters';
import type { CwNetwork } from '../../src/model/network';
import { queryCrop } from '../../src/model/preprocess';
import { storedBoxProbabilities } from '../../src/search/describe';
import { onlineDescriptors, search, topIndices } from '../../src/search/search';
import type { Collection, SearchParams } from '../../src/search/types';
import { median } from '../../src/util/median';
import { readManifest, type Manifest } from './manifest';
import { decodeImageFile, loadNodeNetwork } from './node';

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
  /** Query crop fed to the network at the scale of the whole image ('same') or resized to the long side. */
  queryScale: 'same' | 'long-side';
  /**
   * Where a query (a photo of the collection) gets its maps and box classes: 'forward' = a forward pass (exact maps
   * of the whole photo, classes from a pass on the cropped box), as for a dropped photo; 'stored' = the photo's
   * stored maps (decoded from `codec`) and the classifier on the box's pooled stored maps, with no network, as the
   * app does for a photo of the collection when this is as good.
   */
  queryFrom: 'forward' | 'stored';
  /** Only run the methods whose name matches (default: all). */
  only?: RegExp;
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

export interface MethodResult {
  mAP: number;
  perQuery: Record<string, number>;
}

/**
 * How an OfA descriptor (l2-normalised, D values) could be stored:
 *  - 'float32': exact, 4 bytes per value;
 *  - 'float16': 2 bytes, relative error <= 2^-11 (absolute <= 2^-25 below 2^-14, float16's subnormal range);
 *  - 'int8': 1 byte + one float32 scale per vector, q = round(127 * x / max|x|). A per-vector scale, not the
 *    fixed 1/127 that unit norm would allow: with D = 768..2048 a typical component is ~1/sqrt(D) = 0.02..0.04,
 *    which a fixed scale would store as 3..5 levels; max|x| is ~0.1..0.3, so the per-vector scale gives 5-10x
 *    finer steps for 4 bytes. Symmetric (signed) because whitened descriptors have negative components.
 */
export type DescriptorCodec = 'float32' | 'float16' | 'int8';

export interface EncodedDescriptor {
  codec: DescriptorCodec;
  /** int8 only: max|x| / 127 (0 for the zero vector). */
  scale: number;
  data: ArrayBuffer;
}

export function encodeDescriptor(x: Float32Array, codec: DescriptorCodec): EncodedDescriptor {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error(`encodeDescriptor: value ${i} is ${x[i]}`);
  if (codec === 'float32') return { codec, scale: 1, data: x.slice().buffer };
  if (codec === 'float16') return { codec, scale: 1, data: new Float16Array(x).buffer };
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  const scale = max / 127;
  const q = new Int8Array(x.length);
  // scale 0 only for the zero vector: it stays all zeros (no 0/0).
  if (scale > 0) for (let i = 0; i < x.length; i++) q[i] = Math.round(x[i] / scale);
  return { codec, scale, data: q.buffer };
}

export function decodeDescriptor(e: EncodedDescriptor): Float32Array {
  if (e.codec === 'float32') return new Float32Array(e.data.slice(0));
  if (e.codec === 'float16') return Float32Array.from(new Float16Array(e.data));
  return Float32Array.from(new Int8Array(e.data), (q) => q * e.scale);
}

/** Bytes one stored descriptor of D values takes (int8: + its float32 scale). */
export const descriptorBytes = (D: number, codec: DescriptorCodec): number => ({ float32: 4 * D, float16: 2 * D, int8: D + 4 })[codec];

/** One way of storing the index: a map codec and an OfA descriptor codec; bytes are means over the collection. */
export interface StorageVariant {
  name: string;
  maps: MapCodec;
  ofa: DescriptorCodec;
  bytesPerImage: { maps: number; ofa: number };
}

export interface StorageReport {
  /** The variant the top-level `methods` were measured with (--codec maps, float32 OfA). */
  reference: StorageVariant;
  /** Each other variant, with only the methods whose input it changes (the rest are identical by construction). */
  variants: (StorageVariant & { methods: Record<string, MethodResult> })[];
}

export interface EvalReport {
  manifest: string;
  model: ModelId;
  backend: string;
  longSide: number;
  images: number;
  queries: number;
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
  const cache = opts.cacheDir && join(opts.cacheDir, `${opts.model}-${opts.longSide}`);
  if (cache) await mkdir(cache, { recursive: true });
  for (const [i, img] of manifest.images.entries()) {
    const cached = cache && join(cache, `${img.name}.v8`);
    if (cached && existsSync(cached)) {
      features.push(deserialize(await readFile(cached)) as ImageFeatures);
      continue;
    }
    const pixels = await decodeImageFile(join(manifest.dir, img.file));
    const t0 = performance.now();
    const r = net.forward(pixels);
    const [X, probabilities] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
    msPerImage.push(performance.now() - t0);
    tf.dispose([pixels, r.X, r.probabilities]);
    const f = { name: img.name, grid: r.grid, X, probabilities };
    features.push(f);
    if (cached) await writeFile(cached, serialize(f));
    if ((i + 1) % 25 === 0 || i + 1 === manifest.images.length) opts.log(`${label}: ${i + 1}/${manifest.images.length} images`);
  }
  return { features, msPerImage };
}

/** Class probabilities of each query's cropped region (the query's classes come from the crop, as in the app). */
async function queryCropProbabilities(net: CwNetwork, manifest: Manifest, opts: EvalOptions): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const q of manifest.queries) {
    const img = manifest.images.find((i) => i.name === q.image)!;
    const pixels = await decodeImageFile(join(manifest.dir, img.file));
    const [H, W] = pixels.shape;
    const [x1, y1, x2, y2] = q.bbox_xyxy;
    const c = queryCrop({ x1, y1, x2, y2 }, W, H, opts.longSide) ?? { x1: 0, y1: 0, x2: W, y2: H, longSide: opts.longSide };
    const crop = tf.slice(pixels, [c.y1, c.x1, 0], [c.y2 - c.y1, c.x2 - c.x1, 3]);
    const r = net.forward(crop, opts.queryScale === 'same' ? c.longSide : opts.longSide);
    out.push((await r.probabilities.data()) as Float32Array);
    tf.dispose([pixels, crop, r.X, r.probabilities]);
  }
  return out;
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
        const classes = tf.tensor2d(chunk.map((f) => topIndices(f.probabilities, nc)), [chunk.length, nc], 'int32');
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
      const classes = tf.tensor2d(chunk.map((f) => topIndices(f.probabilities, npca)), [chunk.length, npca], 'int32');
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
  let cropProbs = opts.queryFrom === 'forward' ? await queryCropProbabilities(net, manifest, opts) : [];
  const index = new Map(features.map((f, i) => [f.name, i]));

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
  const queryBox = (q: Manifest['queries'][number], qi: number): CellBox =>
    pixelBoxToCells({ x1: q.bbox_xyxy[0], y1: q.bbox_xyxy[1], x2: q.bbox_xyxy[2], y2: q.bbox_xyxy[3] }, grids[qi]);
  // A query's maps: exact (a forward pass) or as stored; with stored maps, its box classes come from them too.
  const queryMaps = (qi: number) =>
    opts.queryFrom === 'stored' ? tf.tensor3d(decoded.get(opts.codec)![qi], [grids[qi].H, grids[qi].W, K]) : mapsTensor(features[qi], K);
  if (opts.queryFrom === 'stored') {
    cropProbs = await Promise.all(
      manifest.queries.map(async (q) => {
        const qi = index.get(q.image)!;
        const X = queryMaps(qi);
        return storedBoxProbabilities(X, queryBox(q, qi), w, net.head.b).finally(() => X.dispose());
      }),
    );
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
      for (const q of manifest.queries) {
        const qi = index.get(q.image)!;
        const box = queryBox(q, qi);
        const qd = tf.tidy(() => {
          const X = tf.slice(queryMaps(qi), [box.y, box.x, 0], [box.h, box.w, K]);
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
    for (const [qn, q] of manifest.queries.entries()) {
      const qi = index.get(q.image)!;
      const box = queryBox(q, qi);
      const X = queryMaps(qi);
      const query = { X, grid: grids[qi], box, cropProbabilities: cropProbs[qn] };
      for (const s of storage) {
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
              const r = await search(query, collection, { aggregation: 'offline', nc, qe: 0, rerank: 0, ncRerank: opts.ncRerank, ...p }, ctx);
              record(name, q.id, apOf(r.ranking, q), s);
            };
            await run('', {});
            await run(`+qe${opts.qe}`, { qe: opts.qe });
            if (nc === opts.nc || agg === 'ona') {
              await run(`+r${opts.rerank}`, { rerank: opts.rerank });
              await run(`+r${opts.rerank}+qe${opts.qeAfterRerank}`, { rerank: opts.rerank, qe: opts.qeAfterRerank });
            }
          }
          ona.dispose();
        }
      }
      X.dispose();
      opts.log(`cw${variant.suffix}: query ${qn + 1}/${manifest.queries.length} (${q.id})`);
    }
    ofaStored.forEach((m, d) => d !== 'float32' && m.forEach((t) => t.dispose()));
    ofa.forEach((t) => t.dispose());
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
    model: opts.model,
    backend: tf.getBackend(),
    longSide: opts.longSide,
    images: features.length,
    queries: manifest.queries.length,
    imagesPerSecond: med ? 1000 / med : null,
    medianMsPerImage: med,
    whitening: whiteningSource ? { on: opts.whitenOn, trainedOn, dims } : null,
    params,
    methods,
    ...(storageReport ? { storage: storageReport } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
