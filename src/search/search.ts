import * as tf from '@tensorflow/tfjs-core';
import { classActivationMapsFromColumns, classColumns } from '../cw/cam';
import { regionBoxes } from '../cw/boxes';
import { cwDescriptor, cwDescriptorsFromColumns, padCellBatch, regionDescriptorsFromColumns } from '../cw/descriptor';
import { cosineScores, rankDescending, topRanking } from '../cw/ranking';
import { assertFinite, l2Normalize, preferredBatchSize } from '../cw/tensorMath';
import { validateSearchParams } from './controls';
import { allScores, databaseSize, outOfScope, readAndDispose, type Database, type Descriptors, type Overlay } from './descriptorLayouts';
import { DIFFUSION_DEFAULTS, diffuse } from './diffusion';
import { expandedQuery } from './expansion';
import { expansionNeighbours } from './expansionNeighbours';
import { mergePrefix, rankedBy, type Ranked } from './ordering';
import { SUPERGLOBAL_DEFAULTS, superGlobalRerank } from './superGlobal';
import type { Collection, Query, RerankInfo, RerankedImage, SearchContext, SearchParams, SearchResult } from './types';

/** The k of k-reciprocal expansion neighbours unless a search says otherwise. */
const RECIPROCAL_K = 10;

/**
 * The k a search uses: at most half the other photos in scope (at least 1). With fewer than 2k other photos the test
 * says nothing (every photo has the query among its k nearest), and QE would average a small collection whole.
 */
const reciprocalK = (params: SearchParams, inScope: number): number => Math.max(1, Math.min(params.reciprocalK ?? RECIPROCAL_K, Math.floor((inScope - 1) / 2)));

/** Indices of the n largest values, largest first (ties: lower index first). */
export function topIndices(values: ArrayLike<number>, n: number): number[] {
  return Array.from(rankDescending(values).subarray(0, Math.min(n, values.length)));
}

/** Throws a specific message for bad parameters (src/search/controls.ts: one validator for the page and search). */
const validateParams = (p: SearchParams): void => validateSearchParams(p);

/**
 * Each image's own top-NC classes as an int32 [B, min(NC, C)] tensor (offline aggregation): a model with fewer than
 * NC classes uses all of them.
 */
export function imageClasses(probabilities: readonly ArrayLike<number>[], nc: number): tf.Tensor2D {
  const rows = probabilities.map((p) => topIndices(p, nc));
  return tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 0], 'int32');
}

/**
 * Ranks the collection for a query: CW descriptors (offline or online aggregation, or online over an OfA
 * shortlist), cosine similarity, then optional SuperGlobal re-ranking of a shortlist, then optional CAM re-ranking of
 * the top R, then optional query expansion (the paper's order), then optional diffusion of a shortlist. Every step keeps the scores
 * monotone (src/search/ordering.ts), except re-ranking with rerankScore 'region' (the paper's order).
 */
export async function search(query: Query, collection: Collection, params: SearchParams, ctx: SearchContext): Promise<SearchResult> {
  validateParams(params);
  await assertFinite(query.X, 'query feature maps');
  const queryClasses = topIndices(query.cropProbabilities, params.nc);
  const empty: SearchResult = { ranking: new Int32Array(0), scores: new Float32Array(0), scoreKinds: [], queryClasses, rerank: new Map() };
  if (collection.size === 0) return empty;

  if (params.within && params.within.length !== collection.size) throw new Error(`the search scope covers ${params.within.length} images, the collection has ${collection.size}`);
  const inScope = params.within ? params.within.reduce((n, v) => n + (v ? 1 : 0), 0) : collection.size;
  if (inScope === 0) return empty;

  const classes = tf.tensor1d(queryClasses, 'int32');
  const q = memoized(ctx, `${params.nc}${query.otherScales?.length ? ' multi-scale' : ''}`, () =>
    query.otherScales?.length
      ? tf.tidy(() => l2Normalize(tf.addN([query, ...query.otherScales!].map((v) => cwDescriptor(v.X, ctx.w, classes, ctx.whitening, v.box)))))
      : cwDescriptor(query.X, ctx.w, classes, ctx.whitening, query.box),
  );
  const limit = Math.min(params.limit ?? inScope, inScope);
  const shortlist = params.aggregation === 'online' ? (params.onlineShortlist ?? 0) : 0;
  // Ranked positions the steps need: the results, the R to re-rank, the n of QE, the shortlists.
  // QE's 'gap' rule reads one score past its n.
  const needed = Math.min(inScope, Math.max(limit, params.rerank, params.qe ? params.qe + 1 : 0, shortlist, params.superGlobal ?? 0, params.diffusion ?? 0));
  let db: Database;
  const owned: tf.Tensor[] = [];
  try {
    if ((params.aggregation === 'offline' || shortlist > 0) && collection.offlineDescriptors) {
      db = collection.offlineDescriptors;
    } else if (params.aggregation === 'offline' || shortlist > 0) {
      throw new Error(`${shortlist > 0 ? 'an online shortlist' : 'offline aggregation'} needs the collection's stored descriptors`);
    } else {
      db = await onlineDescriptors(collection, classes, ctx);
      owned.push(db);
    }
    const count = databaseSize(db);
    if (count !== collection.size) throw new Error(`collection has ${collection.size} images but ${count} descriptors`);

    // Every photo's cosine with the query: the initial ranking, and what CAM re-ranking's regions are compared with.
    const cosines = await allScores(db, q);
    outOfScope(cosines, params.within);
    let ranked = rankedBy(cosines, 'cosine', needed);
    if (shortlist > 0) {
      // OnA for the top M of OfA only: max(OfA, OnA) cosine keeps the rest after them (mergePrefix).
      const top = Array.from(ranked.ranking.subarray(0, shortlist));
      const rows = await onlineDescriptors(collection, classes, ctx, top);
      owned.push(rows);
      const fresh = await readAndDispose(cosineScores(rows, q));
      ranked = mergePrefix(ranked, top.length, fresh, 'cosine');
      top.forEach((image, i) => (cosines[image] = Math.max(cosines[image], fresh[i])));
      db = { base: db, images: top, rows };
    }
    // SuperGlobal refines the descriptors of the top M and re-scores every image (cosine-scale scores), so that
    // CAM re-ranking and QE then work on its order.
    if (params.superGlobal) {
      ranked = await superGlobalRerank(db, q, ranked, params.superGlobal, needed, params.within, {
        K: params.superGlobalK ?? SUPERGLOBAL_DEFAULTS.K,
        beta: params.superGlobalBeta ?? SUPERGLOBAL_DEFAULTS.beta,
        normalize: params.superGlobalNormalize ?? false,
        select: { rule: params.superGlobalNeighbours ?? 'top', k: reciprocalK(params, inScope) },
      });
    }
    let rerank = new Map<number, RerankInfo>();
    let regions: Overlay | null = null;

    if (params.rerank > 0) {
      ({ ranked, rerank, regions } = await camRerank(query, collection, db, ranked, cosines, params, ctx));
      owned.push(regions.rows);
    }
    if (params.qe > 0) {
      // What the expansion averages, and what it is scored against: the re-ranked images' best regions or not.
      const source = params.qeSource === 'region' && regions ? regions : db;
      const select = { rule: params.qeNeighbours ?? 'top', k: reciprocalK(params, inScope), minScore: params.qeMinScore } as const;
      const kept = await expansionNeighbours(ranked.ranking, ranked.scores, params.qe, select, db, q, params.within);
      if (kept.length) {
        const expanded = expandedQuery(source, kept.map((r) => ranked.ranking[r]), kept.map((r) => ranked.scores[r]), params.qeAlpha ?? 0, q);
        try {
          ranked = rankedBy(outOfScope(await allScores(source, expanded), params.within), 'expanded', needed);
        } finally {
          expanded.dispose();
        }
      }
    }
    if (params.diffusion) ranked = await diffuse(db, ranked, params.diffusion, { ...DIFFUSION_DEFAULTS, k: params.diffusionK ?? DIFFUSION_DEFAULTS.k });
    return {
      ranking: ranked.ranking.slice(0, limit),
      scores: ranked.scores.slice(0, limit),
      scoreKinds: ranked.kinds.slice(0, limit),
      queryClasses,
      rerank,
    };
  } finally {
    tf.dispose([classes, ...(ctx.queryMemo ? [] : [q]), ...owned]);
  }
}

/**
 * The k best images for a query descriptor q [D], best first (ties: lower index first), with their cosine
 * scores: all N scores on the backend, one read, one JavaScript pass for the top k (exact ties, unlike a
 * backend top-k, and as fast as tf.topk on wasm: BENCHMARKS.md).
 */
export async function rankTop(db: Descriptors, q: tf.Tensor1D, k: number, within?: Uint8Array): Promise<{ ranking: Int32Array; scores: Float32Array }> {
  const scores = outOfScope(await allScores(db, q), within);
  const ranking = topRanking(scores, k);
  return { ranking, scores: Float32Array.from(ranking, (i) => scores[i]) };
}

/**
 * Online aggregation: the descriptors of `images` (default: every image, in order) with the QUERY's classes, from
 * their stored maps, in chunks. Rows in ctx.onlineMemo are taken from it, and the rows computed here are kept in it.
 */
export async function onlineDescriptors(
  collection: Collection,
  classes: tf.Tensor1D,
  ctx: SearchContext,
  images: readonly number[] = range(0, collection.size),
): Promise<tf.Tensor2D> {
  const chunk = ctx.chunkSize ?? preferredBatchSize();
  const memo = ctx.onlineMemo;
  const todo = memo ? images.filter((i) => !memo.has(i)) : images;
  const parts: tf.Tensor2D[] = [];
  // The query's classifier columns, gathered once for every chunk.
  const wc = todo.length ? classColumns(ctx.w, classes) : null;
  try {
    for (let start = 0; start < todo.length; start += chunk) {
      const maps = await collection.maps(todo.slice(start, start + chunk));
      const batch = padCellBatch(maps);
      parts.push(cwDescriptorsFromColumns(batch, wc!, ctx.whitening));
      tf.dispose([...maps, batch.X, batch.cellCounts]);
    }
    if (!memo) return tf.concat(parts, 0);
    if (parts.length) {
      const computed = await readAndDispose(tf.concat(parts, 0));
      const D = computed.length / todo.length;
      todo.forEach((image, r) => memo.set(image, computed.slice(r * D, (r + 1) * D)));
    }
    const D = memo.get(images[0])!.length;
    const flat = new Float32Array(images.length * D);
    images.forEach((image, r) => flat.set(memo.get(image)!, r * D));
    return tf.tensor2d(flat, [images.length, D]);
  } finally {
    tf.dispose([...(wc ? [wc] : []), ...parts]);
  }
}

/**
 * CAM re-ranking (local-aware): for each of the top R images, the heatmap = mean of the normalised CAMs of the
 * query's top-2 classes, one box per threshold (largest connected component), region descriptors with the
 * query's top NC_re classes; the image's new score is its best region score. The top R are reordered by it
 * (params.rerankScore: by the previous score raised by the region's gain over the photo's cosine, i.e.
 * max(cosine, best region) on a cosine ranking, or by the region score alone), the rest keep their order. The query's
 * classes here do not depend on NC: a search with NC = 1 still uses the top 2 for the heatmap and NC_re regions.
 * Also returns the best-region descriptors, over `db` (QE after re-ranking may average them, as the authors' code).
 */
async function camRerank(
  query: Query,
  collection: Collection,
  db: Database,
  prior: Ranked,
  cosines: ArrayLike<number>,
  params: SearchParams,
  ctx: SearchContext,
): Promise<{ ranked: Ranked; rerank: Map<number, RerankInfo>; regions: Overlay }> {
  const R = Math.min(params.rerank, prior.ranking.length);
  const chunk = ctx.chunkSize ?? preferredBatchSize();
  const classes = topIndices(query.cropProbabilities, Math.max(params.ncRerank, 2));
  const reClasses = tf.tensor1d(classes.slice(0, params.ncRerank), 'int32');
  const heatClasses = tf.tensor1d(classes.slice(0, 2), 'int32');
  const heatColumns = classColumns(ctx.w, heatClasses);
  const reColumns = classColumns(ctx.w, reClasses);
  // The query descriptor is recomputed with the same NC_re classes as the regions.
  const qRe = memoized(ctx, `re ${params.ncRerank}`, () => cwDescriptor(query.X, ctx.w, reClasses, ctx.whitening, query.box));
  const memo = ctx.rerankMemo ?? new Map<number, RerankedImage>();
  const top = Array.from(prior.ranking.subarray(0, R));
  const todo = top.filter((i) => !memo.has(i));
  try {
    for (let start = 0; start < todo.length; start += chunk) {
      const indices = todo.slice(start, start + chunk);
      const maps = await collection.maps(indices);
      const batch = padCellBatch(maps);
      const heatT = tf.tidy(() => tf.mean(classActivationMapsFromColumns(batch.X, heatColumns), 2) as tf.Tensor2D); // [B, P]
      const heat = await readAndDispose(heatT);
      tf.dispose([batch.X, batch.cellCounts]);
      const P = heatT.shape[1];
      const boxes = maps.map((X, b) => regionBoxes(heat.subarray(b * P, b * P + X.shape[0] * X.shape[1]), X.shape[0], X.shape[1]));
      // All regions of all images of the chunk scored in one read.
      const regionsT = tf.tidy(() => tf.concat(maps.map((X, b) => regionDescriptorsFromColumns(X, reColumns, boxes[b], ctx.whitening)), 0));
      tf.dispose(maps);
      let regionScores: Float32Array, regionRows: Float32Array;
      try {
        regionScores = await readAndDispose(cosineScores(regionsT, qRe));
        regionRows = (await regionsT.data()) as Float32Array;
      } finally {
        regionsT.dispose();
      }
      const D = regionsT.shape[1];
      let offset = 0;
      indices.forEach((image, b) => {
        const s = Array.from(regionScores.subarray(offset, offset + boxes[b].length));
        const best = s.indexOf(Math.max(...s));
        const row = regionRows.slice((offset + best) * D, (offset + best + 1) * D);
        memo.set(image, { info: { boxes: boxes[b], best, regionScores: s }, row });
        offset += boxes[b].length;
      });
    }
  } finally {
    tf.dispose([reClasses, heatClasses, heatColumns, reColumns, ...(ctx.queryMemo ? [] : [qRe])]);
  }
  const rerank = new Map(top.map((i) => [i, memo.get(i)!.info]));
  const D = memo.get(top[0])!.row.length;
  const flat = new Float32Array(R * D);
  top.forEach((i, r) => flat.set(memo.get(i)!.row, r * D));
  const rows = tf.tensor2d(flat, [R, D]);
  const fresh = top.map((i) => rerank.get(i)!.regionScores[rerank.get(i)!.best]);
  // The key: the previous score raised by what the best region gains over the photo's cosine (max(cosine, region)
  // right after the initial ranking), or the paper's region score alone.
  const mode = params.rerankScore === 'region' ? 'replace' : 'boost';
  const ranked = mergePrefix(prior, R, fresh, 'region', mode, top.map((i) => cosines[i]));
  return { ranked, rerank, regions: { base: db, images: top, rows } };
}

/** A query descriptor from ctx.queryMemo (kept there, owned by the caller), or made (owned by the search). */
function memoized(ctx: SearchContext, key: string, make: () => tf.Tensor1D): tf.Tensor1D {
  const kept = ctx.queryMemo?.get(key);
  if (kept) return kept;
  const q = make();
  ctx.queryMemo?.set(key, q);
  return q;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
