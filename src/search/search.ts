import * as tf from '@tensorflow/tfjs-core';
import { classActivationMapsFromColumns, classColumns } from '../cw/cam';
import { regionBoxes } from '../cw/boxes';
import { cwDescriptor, cwDescriptorsFromColumns, padCellBatch, regionDescriptors } from '../cw/descriptor';
import { cosineScores, queryExpansion, rankDescending } from '../cw/ranking';
import { assertFinite, preferredBatchSize } from '../cw/tensorMath';
import type { Collection, Query, RerankInfo, SearchContext, SearchParams, SearchResult } from './types';

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

  const classes = tf.tensor1d(queryClasses, 'int32');
  const q = cwDescriptor(query.X, ctx.w, classes, ctx.whitening, query.box);
  let db: tf.Tensor2D | null = null;
  const ownsDb = params.aggregation === 'online' || !collection.offlineDescriptors;
  try {
    if (params.aggregation === 'offline' && collection.offlineDescriptors) {
      db = collection.offlineDescriptors;
    } else if (params.aggregation === 'offline') {
      throw new Error('offline aggregation needs the collection\'s stored descriptors');
    } else {
      db = await onlineDescriptors(collection, classes, ctx);
    }
    if (db.shape[0] !== collection.size) throw new Error(`collection has ${collection.size} images but ${db.shape[0]} descriptors`);

    let scores = await readAndDispose(cosineScores(db, q));
    let ranking: Int32Array = rankDescending(scores);
    let ranked: Float32Array = Float32Array.from(ranking, (i) => scores[i]);
    let rerank = new Map<number, RerankInfo>();

    if (params.rerank > 0) {
      ({ ranking, scores: ranked, rerank } = await camRerank(query, queryClasses, collection, ranking, ranked, params, ctx));
    }
    if (params.qe > 0) {
      const expanded = queryExpansion(db, ranking, params.qe, q);
      scores = await readAndDispose(cosineScores(db, expanded));
      expanded.dispose();
      ranking = rankDescending(scores);
      ranked = Float32Array.from(ranking, (i) => scores[i]);
    }
    return { ranking, scores: ranked, queryClasses, rerank };
  } finally {
    tf.dispose([classes, q]);
    if (db && ownsDb) db.dispose();
  }
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
