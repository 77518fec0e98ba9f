import * as tf from '@tensorflow/tfjs-core';
import { classActivationMapsFromColumns, classColumns } from '../cw/cam';
import { regionBoxes } from '../cw/boxes';
import { cwDescriptor, cwDescriptorsFromColumns, padCellBatch, regionDescriptors } from '../cw/descriptor';
import { cosineScores, cosineScoresTransposed, queryExpansion, rankDescending, topRanking } from '../cw/ranking';
import { assertFinite, preferredBatchSize } from '../cw/tensorMath';
import type { Collection, DescriptorBlocks, Query, RerankInfo, SearchContext, SearchParams, SearchResult } from './types';

/** Indices of the n largest values, largest first (ties: lower index first). */
export function topIndices(values: ArrayLike<number>, n: number): number[] {
  return Array.from(rankDescending(values).subarray(0, Math.min(n, values.length)));
}

export function validateParams(p: SearchParams): void {
  const int = (v: number, min: number, name: string) => {
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
  };
  if (p.aggregation !== 'offline' && p.aggregation !== 'online') throw new Error(`aggregation must be 'offline' or 'online', got ${p.aggregation}`);
  int(p.nc, 1, 'number of classes NC');
  int(p.qe, 0, 'query expansion n');
  int(p.rerank, 0, 're-ranking R');
  int(p.ncRerank, 1, 're-ranking classes NC_re');
  if (p.within !== undefined && !(p.within instanceof Uint8Array)) throw new Error('the search scope must be a Uint8Array mask');
  if (p.limit !== undefined) int(p.limit, 1, 'result limit');
}

/**
 * Ranks the collection for a query: CW descriptors (offline or online aggregation), cosine similarity,
 * then optional CAM re-ranking of the top R, then optional query expansion (the paper's order).
 */
export async function search(query: Query, collection: Collection, params: SearchParams, ctx: SearchContext): Promise<SearchResult> {
  validateParams(params);
  await assertFinite(query.X, 'query feature maps');
  const queryClasses = topIndices(query.cropProbabilities, params.nc);
  const empty: SearchResult = { ranking: new Int32Array(0), scores: new Float32Array(0), queryClasses, rerank: new Map() };
  if (collection.size === 0) return empty;

  if (params.within && params.within.length !== collection.size) throw new Error(`the search scope covers ${params.within.length} images, the collection has ${collection.size}`);
  const inScope = params.within ? params.within.reduce((n, v) => n + (v ? 1 : 0), 0) : collection.size;
  if (inScope === 0) return empty;

  const classes = tf.tensor1d(queryClasses, 'int32');
  const q = cwDescriptor(query.X, ctx.w, classes, ctx.whitening, query.box);
  const limit = Math.min(params.limit ?? inScope, inScope);
  // Ranked positions the steps need: the results, the R to re-rank, the n of QE.
  const needed = Math.min(inScope, Math.max(limit, params.rerank, params.qe));
  let db: tf.Tensor2D | DescriptorBlocks | null = null;
  const ownsDb = params.aggregation === 'online' || !collection.offlineDescriptors;
  try {
    if (params.aggregation === 'offline' && collection.offlineDescriptors) {
      db = collection.offlineDescriptors;
    } else if (params.aggregation === 'offline') {
      throw new Error('offline aggregation needs the collection\'s stored descriptors');
    } else {
      db = await onlineDescriptors(collection, classes, ctx);
    }
    const count = isBlocks(db) ? db.blocks.reduce((n, b) => n + b.shape[1], 0) : db.shape[0];
    if (count !== collection.size) throw new Error(`collection has ${collection.size} images but ${count} descriptors`);

    let { ranking, scores: ranked } = await rankTop(db, q, needed, params.within);
    let rerank = new Map<number, RerankInfo>();

    if (params.rerank > 0) {
      ({ ranking, scores: ranked, rerank } = await camRerank(query, queryClasses, collection, ranking, ranked, params, ctx));
    }
    if (params.qe > 0) {
      const expanded = expandQuery(db, ranking, params.qe, q);
      try {
        ({ ranking, scores: ranked } = await rankTop(db, expanded, limit, params.within));
      } finally {
        expanded.dispose();
      }
    }
    return { ranking: ranking.slice(0, limit), scores: ranked.slice(0, limit), queryClasses, rerank };
  } finally {
    tf.dispose([classes, q]);
    if (db && ownsDb && !isBlocks(db)) db.dispose();
  }
}

const isBlocks = (db: tf.Tensor2D | DescriptorBlocks): db is DescriptorBlocks => 'blocks' in db;

/**
 * The k best images for a query descriptor q [D], best first (ties: lower index first), with their cosine
 * scores: all N scores on the backend, one read, one JavaScript pass for the top k (exact ties, unlike a
 * backend top-k, and as fast as tf.topk on wasm: BENCHMARKS.md).
 */
export async function rankTop(db: tf.Tensor2D | DescriptorBlocks, q: tf.Tensor1D, k: number, within?: Uint8Array): Promise<{ ranking: Int32Array; scores: Float32Array }> {
  const scores = await readAndDispose(isBlocks(db) ? cosineScoresTransposed(db.blocks, q) : cosineScores(db, q));
  // Images outside the scope rank after every image in it (k never reaches them: the caller caps k at the scope).
  if (within) for (let i = 0; i < scores.length; i++) if (!within[i]) scores[i] = -Infinity;
  const ranking = topRanking(scores, k);
  return { ranking, scores: Float32Array.from(ranking, (i) => scores[i]) };
}

/**
 * Query expansion on either layout. The top-n descriptors are gathered as rows, in ranking order, and summed
 * exactly as queryExpansion sums the rows of [N, D] (same order: same float result).
 */
function expandQuery(db: tf.Tensor2D | DescriptorBlocks, ranking: Int32Array, n: number, q: tf.Tensor1D): tf.Tensor1D {
  if (!isBlocks(db)) return queryExpansion(db, ranking, n, q);
  const top = Array.from(ranking.subarray(0, n));
  if (top.length === 0) return tf.clone(q);
  return tf.tidy(() => {
    // Image i is column i - start of the block that starts at or before it.
    const starts: number[] = [];
    db.blocks.reduce((start, b) => (starts.push(start), start + b.shape[1]), 0);
    const columns = top.map((i) => {
      let b = starts.length - 1;
      while (starts[b] > i) b--;
      return tf.slice(db.blocks[b], [0, i - starts[b]], [-1, 1]);
    });
    const rows = tf.transpose(tf.concat(columns, 1)) as tf.Tensor2D; // [n, D]
    return queryExpansion(rows, top.map((_, r) => r), n, q);
  });
}

/** Online aggregation: every image's descriptor with the QUERY's classes, from its stored maps, in chunks. */
export async function onlineDescriptors(collection: Collection, classes: tf.Tensor1D, ctx: SearchContext): Promise<tf.Tensor2D> {
  const chunk = ctx.chunkSize ?? preferredBatchSize();
  const parts: tf.Tensor2D[] = [];
  // The query's classifier columns, gathered once for every chunk.
  const wc = classColumns(ctx.w, classes);
  try {
    for (let start = 0; start < collection.size; start += chunk) {
      const indices = range(start, Math.min(collection.size, start + chunk));
      const maps = await collection.maps(indices);
      const batch = padCellBatch(maps);
      parts.push(cwDescriptorsFromColumns(batch, wc, ctx.whitening));
      tf.dispose([...maps, batch.X, batch.cellCounts]);
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose([wc, ...parts]);
  }
}

/**
 * CAM re-ranking (local-aware): for each of the top R images, the heatmap = mean of the normalised CAMs of the
 * query's top-2 classes, one box per threshold (largest connected component), region descriptors with the
 * query's top NC_re classes; the image's new score is its best region score. The top R are reordered by it,
 * the rest keep their order.
 */
async function camRerank(
  query: Query,
  queryClasses: number[],
  collection: Collection,
  ranking: Int32Array,
  ranked: Float32Array,
  params: SearchParams,
  ctx: SearchContext,
): Promise<{ ranking: Int32Array; scores: Float32Array; rerank: Map<number, RerankInfo> }> {
  const R = Math.min(params.rerank, ranking.length);
  const chunk = ctx.chunkSize ?? preferredBatchSize();
  const reClasses = tf.tensor1d(queryClasses.slice(0, params.ncRerank), 'int32');
  const heatClasses = tf.tensor1d(queryClasses.slice(0, 2), 'int32');
  const heatColumns = classColumns(ctx.w, heatClasses);
  // The query descriptor is recomputed with the same NC_re classes as the regions.
  const qRe = cwDescriptor(query.X, ctx.w, reClasses, ctx.whitening, query.box);
  const rerank = new Map<number, RerankInfo>();
  try {
    for (let start = 0; start < R; start += chunk) {
      const indices = Array.from(ranking.subarray(start, Math.min(R, start + chunk)));
      const maps = await collection.maps(indices);
      const batch = padCellBatch(maps);
      const heatT = tf.tidy(() => tf.mean(classActivationMapsFromColumns(batch.X, heatColumns), 2) as tf.Tensor2D); // [B, P]
      const heat = await readAndDispose(heatT);
      tf.dispose([batch.X, batch.cellCounts]);
      const P = heatT.shape[1];
      const boxes = maps.map((X, b) => regionBoxes(heat.subarray(b * P, b * P + X.shape[0] * X.shape[1]), X.shape[0], X.shape[1]));
      // All regions of all images of the chunk scored in one read.
      const scoresT = tf.tidy(() =>
        cosineScores(tf.concat(maps.map((X, b) => regionDescriptors(X, ctx.w, reClasses, boxes[b], ctx.whitening)), 0), qRe),
      );
      const regionScores = await readAndDispose(scoresT);
      tf.dispose(maps);
      indices.forEach((image, b) => {
        const s = Array.from(regionScores.subarray(b * boxes[b].length, (b + 1) * boxes[b].length));
        const best = s.indexOf(Math.max(...s));
        rerank.set(image, { boxes: boxes[b], best, regionScores: s });
      });
    }
  } finally {
    tf.dispose([reClasses, heatClasses, heatColumns, qRe]);
  }
  const top = Array.from(ranking.subarray(0, R));
  const newScore = (i: number) => rerank.get(i)!.regionScores[rerank.get(i)!.best];
  const order = top.map((image, pos) => ({ image, pos, s: newScore(image) })).sort((a, b) => b.s - a.s || a.pos - b.pos);
  const newRanking = Int32Array.from([...order.map((o) => o.image), ...ranking.subarray(R)]);
  const scores = Float32Array.from([...order.map((o) => o.s), ...ranked.subarray(R)]);
  return { ranking: newRanking, scores, rerank };
}

async function readAndDispose(t: tf.Tensor): Promise<Float32Array<ArrayBuffer>> {
  try {
    return (await t.data()) as Float32Array<ArrayBuffer>;
  } finally {
    t.dispose();
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
