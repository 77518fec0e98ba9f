/**
 * Search benchmarks on synthetic collections: offline-aggregation (OfA) search over N stored descriptors, and
 * online aggregation (OnA) over N images' stored feature maps (plus the OfA-shortlist-then-OnA alternative).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cwDescriptor, padCellBatch } from '../cw/descriptor';
import { rankDescending } from '../cw/ranking';
import { decodeMaps, encodeMaps, type EncodedMaps } from '../index/mapCodec';
import type { ModelId } from '../model/adapters';
import { BLOCK_COLUMNS, BlockedDescriptors } from '../search/descriptorBlocks';
import { onlineDescriptors, rankTop } from '../search/search';
import type { Collection } from '../search/types';
import {
  memorySnapshot,
  now,
  summarize,
  syntheticDescriptors,
  syntheticMaps,
  timeInterleaved,
  timeRuns,
  topKIndices,
  type MapStatistics,
  type Summary,
} from './benchCore';
import { topKTransposed } from './fastCw';
import { breathe } from './forwardBench';

// ---------------------------------------------------------------------------------------------------------------
// OfA search

export const OFA_VARIANTS = {
  appSort: 'db [N,D] x q, read N scores, sort all in JS (src/search before the blocked layout)',
  deviceTopk: 'db [N,D] x q, tf.topk on the backend, read k',
  transposedTopk: 'q x dbT [D,N] resident, tf.topk on the backend, read k',
  transposedJsTopk: 'q x dbT [D,N] resident, read N scores, JS top-k (one pass)',
  blockedTopk: 'q x dbT kept as [D, 16384] column blocks (one tensor each: adding photos rebuilds only the last block), tf.topk, read k',
  product: 'WHAT THE APP DOES: src/search rankTop on a src/search BlockedDescriptors built from JS rows as CollectionIndex does ([D, 16384] blocks), read N scores, JS top-k (one pass, exact ties)',
} as const;
type OfaVariant = keyof typeof OFA_VARIANTS;

/** Columns per block of the blocked layout: the product's. */
const OFA_BLOCK = BLOCK_COLUMNS;

export interface OfaBenchOptions {
  sizes: number[];
  dims: number[];
  k: number;
  warmup: number;
  repeats: number;
  log?: (line: string) => void;
}

export interface OfaBenchRow {
  N: number;
  D: number;
  variant: OfaVariant;
  /** The first query after the matrix was uploaded (on wasm the transposed variants pack it for XNNPACK then). */
  firstMs: number;
  ms: Summary;
  /** The descriptor matrix on the backend (float32). */
  residentBytes: number;
  /** Uploading the matrix (tf.tensor2d from a Float32Array). */
  uploadMs: number;
  /** Same top-k as the first variant for the first query. */
  agrees: boolean;
  /** Blocked layout only: the first query after the last block was rebuilt (what adding photos costs the next search). */
  firstAfterAppendMs?: number;
  wasmHeapBytes?: number;
  /** Set when this size could not be allocated or run on this backend. */
  error?: string;
}

const QUERIES = 4;

function queryTensors(D: number): tf.Tensor1D[] {
  const data = syntheticDescriptors(QUERIES, D, 'rows', 12345);
  return Array.from({ length: QUERIES }, (_, i) => tf.tensor1d(data.subarray(i * D, (i + 1) * D)));
}

/** tf.topk of a score tensor (disposed here) and one read of the k indices. */
async function readTopK(scores: tf.Tensor, k: number): Promise<Int32Array> {
  const { values, indices } = tf.tidy(() => tf.topk(tf.reshape(scores, [-1]) as tf.Tensor1D, k, true));
  try {
    return (await indices.data()) as Int32Array;
  } finally {
    tf.dispose([values, indices, scores]);
  }
}

/** One (N, D) case, both layouts, every variant. */
async function ofaCase(N: number, D: number, o: OfaBenchOptions): Promise<OfaBenchRow[]> {
  const k = Math.min(o.k, N);
  const rows: OfaBenchRow[] = [];
  const queries = queryTensors(D);
  let qi = 0;
  const nextQuery = () => queries[qi++ % QUERIES];
  const reference: { top?: Int32Array } = {};
  const same = (a: Int32Array) => {
    if (!reference.top) {
      reference.top = a;
      return true;
    }
    return a.length === reference.top.length && a.every((v, i) => v === reference.top![i]);
  };

  const runLayout = async (
    layout: 'rows' | 'columns' | 'blocks',
    variants: Partial<Record<OfaVariant, (m: tf.Tensor2D[], q: tf.Tensor1D) => Promise<Int32Array>>>,
  ) => {
    const blocks: tf.Tensor2D[] = [];
    const names = Object.keys(variants) as OfaVariant[];
    try {
      const starts = layout === 'blocks' ? Array.from({ length: Math.ceil(N / OFA_BLOCK) }, (_, b) => b * OFA_BLOCK) : [0];
      const block = (start: number) => {
        const n = layout === 'blocks' ? Math.min(OFA_BLOCK, N - start) : N;
        const data = syntheticDescriptors(n, D, layout === 'rows' ? 'rows' : 'columns', 7, start);
        const t0 = now();
        const t = layout === 'rows' ? tf.tensor2d(data, [n, D]) : tf.tensor2d(data, [D, n]);
        return { t, ms: now() - t0 };
      };
      let uploadMs = 0;
      for (const start of starts) {
        const { t, ms } = block(start);
        blocks.push(t);
        uploadMs += ms;
      }
      const first: Record<string, number> = {};
      const agree: Record<string, boolean> = {};
      for (const n of names) {
        const t1 = now();
        const top = await variants[n]!(blocks, queries[0]);
        first[n] = now() - t1;
        agree[n] = same(top);
      }
      const fns = Object.fromEntries(names.map((n) => [n, () => variants[n]!(blocks, nextQuery())]));
      const samples = await timeInterleaved(fns, { warmup: o.warmup, repeats: o.repeats });
      let firstAfterAppendMs: number | undefined;
      if (layout === 'blocks') {
        // Adding photos: the last block is rebuilt (a new tensor), the others keep their packed operators.
        blocks[blocks.length - 1].dispose();
        blocks[blocks.length - 1] = block(starts[starts.length - 1]).t;
        const t1 = now();
        await variants[names[0]]!(blocks, nextQuery());
        firstAfterAppendMs = now() - t1;
      }
      const heap = memorySnapshot().wasmHeapBytes;
      for (const n of names) {
        rows.push({
          N, D, variant: n, firstMs: first[n], ms: summarize(samples[n]), residentBytes: N * D * 4, uploadMs, agrees: agree[n],
          ...(firstAfterAppendMs !== undefined ? { firstAfterAppendMs } : {}), ...(heap ? { wasmHeapBytes: heap } : {}),
        });
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      o.log?.(`OfA N=${N} D=${D} ${layout}: ${error}`);
      for (const n of names) rows.push({ N, D, variant: n, firstMs: NaN, ms: summarize([]), residentBytes: N * D * 4, uploadMs: NaN, agrees: false, error });
    } finally {
      tf.dispose(blocks);
    }
  };

  try {
    // Row-major [N, D], as src/index/memory/collectionIndex.ts builds it today.
    await runLayout('rows', {
      appSort: async ([db], q) => {
        const s = tf.tidy(() => tf.matMul(db, tf.reshape(q, [D, 1])));
        const scores = await s.data();
        s.dispose();
        return rankDescending(scores).slice(0, k);
      },
      deviceTopk: ([db], q) => readTopK(tf.tidy(() => tf.matMul(db, tf.reshape(q, [D, 1]))), k),
    });
    await breathe();
    // Transposed [D, N].
    await runLayout('columns', {
      transposedTopk: async ([dbT], q) => (await topKTransposed(dbT, q, k)).indices,
      transposedJsTopk: async ([dbT], q) => {
        const s = tf.tidy(() => tf.matMul(tf.reshape(q, [1, D]), dbT));
        const scores = await s.data();
        s.dispose();
        return topKIndices(scores, k);
      },
    });
    await breathe();
    // Transposed, in column blocks.
    await runLayout('blocks', {
      blockedTopk: (blocks, q) =>
        readTopK(tf.tidy(() => {
          const q2 = tf.reshape(q, [1, D]);
          return blocks.length === 1 ? tf.matMul(q2, blocks[0]) : tf.concat(blocks.map((b) => tf.matMul(q2, b)), 1);
        }), k),
    });
    await breathe();
    await productCase();
  } finally {
    tf.dispose(queries);
  }
  return rows;

  /** The product: descriptors in JS rows (as the app's records hold them) synced into BlockedDescriptors, rankTop. */
  async function productCase() {
    const blocks = new BlockedDescriptors();
    try {
      const data = syntheticDescriptors(N, D, 'rows', 7);
      const rowAt = (i: number) => data.subarray(i * D, (i + 1) * D);
      const t0 = now();
      blocks.sync(N, D, rowAt, 0);
      const uploadMs = now() - t0;
      const run = async (q: tf.Tensor1D) => (await rankTop(blocks, q, k)).ranking;
      const t1 = now();
      const top = await run(queries[0]);
      const firstMs = now() - t1;
      const agrees = same(top);
      const samples = await timeInterleaved({ product: () => run(nextQuery()) }, { warmup: o.warmup, repeats: o.repeats });
      // Adding photos: the last block is rebuilt from the rows (the app then warms it up in idle time).
      blocks.sync(N, D, rowAt, Math.floor((N - 1) / OFA_BLOCK) * OFA_BLOCK);
      const t2 = now();
      await run(nextQuery());
      const firstAfterAppendMs = now() - t2;
      const heap = memorySnapshot().wasmHeapBytes;
      rows.push({
        N, D, variant: 'product', firstMs, ms: summarize(samples.product), residentBytes: N * D * 4, uploadMs, agrees, firstAfterAppendMs,
        ...(heap ? { wasmHeapBytes: heap } : {}),
      });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      o.log?.(`OfA N=${N} D=${D} product: ${error}`);
      rows.push({ N, D, variant: 'product', firstMs: NaN, ms: summarize([]), residentBytes: N * D * 4, uploadMs: NaN, agrees: false, error });
    } finally {
      blocks.dispose();
    }
  }
}

export async function benchOfa(o: OfaBenchOptions): Promise<OfaBenchRow[]> {
  const rows: OfaBenchRow[] = [];
  for (const D of o.dims) {
    for (const N of o.sizes) {
      o.log?.(`OfA search: N=${N}, D=${D}`);
      rows.push(...(await ofaCase(N, D, o)));
      await breathe();
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// OnA search

export const ONA_VARIANTS = {
  decode: 'decode the stored uint8 maps in JS only (no network, no CW)',
  decodeUpload: 'decode + upload as tensors (the data path, no CW)',
  product: 'WHAT THE APP DOES: src/search onlineDescriptors (class columns gathered once per query, square norms) + rankTop (scores, one read, JS top-k)',
  shortlist: 'OfA top-M on a resident dbT, then exact OnA (src/search onlineDescriptors) on those M',
} as const;
type OnaVariant = keyof typeof ONA_VARIANTS;

export interface OnaBenchOptions {
  model: ModelId;
  /** Classifier weights [K, C] (the real model's). */
  w: tf.Tensor2D;
  /** Stored maps geometry (e.g. 12 x 16 x K at long side 512). */
  H: number;
  W: number;
  /** The query's classes (top-NC of a real photo, or any NC classes). */
  classes: number[];
  sizes: number[];
  /** OfA shortlist sizes M for the shortlist variant. */
  shortlist: number[];
  stats: MapStatistics;
  /** Images per chunk on the backend (src/cw preferredBatchSize: 1 on wasm/cpu, 32 on GPUs). */
  chunk: number;
  /** Timed runs for N below `singleRunFrom`; one run at or above it. */
  repeats: number;
  singleRunFrom: number;
  /** Distinct synthetic maps, reused cyclically over the N images (bigger than the CPU caches). */
  distinct: number;
  k: number;
  log?: (line: string) => void;
}

export interface OnaBenchRow {
  model: ModelId;
  maps: [number, number, number];
  N: number;
  nc: number;
  variant: OnaVariant;
  /** Shortlist size, for the shortlist variant. */
  M?: number;
  /** Whole search (or data path) over the N images, ms. */
  ms: Summary;
  perImageMs: number;
  /** uint8-encoded maps per image (what OnA and re-ranking must keep), and for the whole collection. */
  bytesPerImage: number;
  collectionBytes: number;
}

export interface OnaCheck {
  model: ModelId;
  images: number;
  /** Largest |onlineDescriptors (chunked, the product) - cwDescriptor of each image alone| over the first images. */
  maxAbsDiff: number;
}

function syntheticCollection(o: OnaBenchOptions, K: number, N: number): { collection: Collection; pool: EncodedMaps[] } {
  const pool = Array.from({ length: Math.min(o.distinct, N) }, (_, i) => encodeMaps(syntheticMaps(o.H, o.W, K, o.stats, 1000 + i), o.H, o.W, K, 'uint8'));
  const grid = { H: o.H, W: o.W, cellWidth: 32, cellHeight: 32, imageWidth: o.W * 32, imageHeight: o.H * 32 };
  const collection: Collection = {
    size: N,
    grids: Array.from({ length: N }, () => grid),
    offlineDescriptors: null,
    maps: async (indices) => indices.map((i) => tf.tensor3d(decodeMaps(pool[i % pool.length]), [o.H, o.W, K])),
  };
  return { collection, pool };
}

/** Scores of the N descriptors against a query descriptor, top-k read back: the rest of an OnA search. */
async function rankOnline(db: tf.Tensor2D, q: tf.Tensor1D, k: number): Promise<Int32Array> {
  const n = db.shape[0];
  const s = tf.tidy(() => tf.matMul(db, tf.reshape(q, [q.shape[0], 1])));
  db.dispose();
  return readTopK(s, Math.min(k, n));
}

function subset(c: Collection, indices: ArrayLike<number>): Collection {
  const ids = Array.from(indices);
  return { size: ids.length, grids: ids.map((i) => c.grids[i]), offlineDescriptors: null, maps: (idx) => c.maps(idx.map((i) => ids[i])) };
}

export async function benchOna(o: OnaBenchOptions): Promise<{ rows: OnaBenchRow[]; check: OnaCheck }> {
  const K = o.w.shape[0];
  const nc = o.classes.length;
  const classes = tf.tensor1d(o.classes, 'int32');
  const q = tf.tensor1d(syntheticDescriptors(1, K, 'rows', 99));
  const rows: OnaBenchRow[] = [];
  const bytesPerImage = o.H * o.W * K + 8;
  const ctx = { w: o.w, whitening: null, chunkSize: o.chunk };
  let check: OnaCheck = { model: o.model, images: 0, maxAbsDiff: NaN };
  try {
    for (const N of o.sizes) {
      const { collection, pool } = syntheticCollection(o, K, N);
      const timing = { warmup: N >= o.singleRunFrom ? 0 : 1, repeats: N >= o.singleRunFrom ? 1 : o.repeats };
      const row = (variant: OnaVariant, samples: number[], M?: number): OnaBenchRow => {
        const ms = summarize(samples);
        return { model: o.model, maps: [o.H, o.W, K], N, nc, variant, ...(M ? { M } : {}), ms, perImageMs: ms.median / (M ?? N), bytesPerImage, collectionBytes: bytesPerImage * N };
      };
      const log = (what: string) => o.log?.(`OnA ${o.model} N=${N}: ${what}`);

      if (check.images === 0) {
        const n = Math.min(N, 16);
        const first = Array.from({ length: n }, (_, i) => i);
        const a = await onlineDescriptors(subset(collection, first), classes, ctx);
        const maps = await collection.maps(first);
        const b = tf.tidy(() => tf.stack(maps.map((X) => cwDescriptor(X, o.w, classes))));
        tf.dispose(maps);
        check = { model: o.model, images: n, maxAbsDiff: await maxAbsDifference(a, b) };
        tf.dispose([a, b]);
      }

      log('decode');
      rows.push(row('decode', await timeRuns(async () => {
        for (let i = 0; i < N; i++) decodeMaps(pool[i % pool.length]);
      }, { warmup: 0, repeats: timing.repeats })));
      await breathe();
      log('decode + upload');
      rows.push(row('decodeUpload', await timeRuns(async () => {
        // The backend's queue runs in order: awaiting a sum of the last chunk waits for every upload before it.
        let last: tf.Tensor | null = null;
        for (let s = 0; s < N; s += o.chunk) {
          const maps = await collection.maps(Array.from({ length: Math.min(N, s + o.chunk) - s }, (_, i) => s + i));
          const batch = padCellBatch(maps);
          last?.dispose();
          last = tf.sum(batch.X);
          tf.dispose([...maps, batch.X, batch.cellCounts]);
        }
        await last?.data();
        last?.dispose();
      }, { warmup: 0, repeats: timing.repeats })));
      await breathe();
      log('product');
      rows.push(row('product', await timeRuns(async () => {
        const db = await onlineDescriptors(collection, classes, ctx);
        try {
          await rankTop(db, q, o.k);
        } finally {
          db.dispose();
        }
      }, timing)));
      await breathe();

      // Shortlist: OfA top-M over a resident dbT, then exact OnA on those M.
      const dbT = tf.tensor2d(syntheticDescriptors(N, K, 'columns'), [K, N]);
      try {
        for (const M of o.shortlist.filter((m) => m < N)) {
          log(`shortlist M=${M}`);
          const samples = await timeRuns(async () => {
            const { indices } = await topKTransposed(dbT, q, M);
            const d = await onlineDescriptors(subset(collection, indices), classes, ctx);
            await rankOnline(d, q, Math.min(o.k, M));
          }, { warmup: 1, repeats: o.repeats });
          rows.push(row('shortlist', samples, M)); // perImageMs: per shortlisted image
          await breathe();
        }
      } finally {
        dbT.dispose();
      }
    }
  } finally {
    tf.dispose([classes, q]);
  }
  return { rows, check };
}

/** Largest |a - b| of two tensors of the same shape. */
async function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  try {
    return (await d.data())[0];
  } finally {
    d.dispose();
  }
}
