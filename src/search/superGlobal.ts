/**
 * SuperGlobal re-ranking (Shao, Chen, Song, Weng, Ji, "Global Features are All You Need for Image Retrieval and
 * Reranking", ICCV 2023; settings and steps of their code, modules/reranking: K = 9 neighbours, beta = 0.15):
 *  1. each of the top M descriptors is refined by its K nearest among the top M (itself weight 1, each neighbour
 *     beta x similarity): x_i' = sum_j w_ij x_j / sum_j w_ij;
 *  2. s1_i = q . x_i'; the query side is the element-wise max of the refined descriptors of the K + 1 best by s1;
 *     s2_i = that . x_i'; score = (s1 + s2) / 2.
 * Their code reorders the top M by it and appends the rest. Here the rest are scored the same way with their own
 * descriptor (no neighbours to refine it with: s1 = q . d, s2 = maxpool . d) and every image is sorted by the one
 * score, so the scores never increase down the list; an image from outside the M may then move into it.
 * options.normalize l2-normalises the refined and max-pooled descriptors (not in their code; measured worse).
 * options.select chooses which of the K + 1 best the query side max-pools (./expansionNeighbours.ts; their code: all);
 * when it keeps none, the query side is the query itself (score = s1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { topRanking } from '../cw/ranking';
import { l2Normalize } from '../cw/tensorMath';
import { allScores, gatherRows, outOfScope, readAndDispose, type Database } from './descriptorLayouts';
import { expansionNeighbours, TOP_NEIGHBOURS, type NeighbourSelection } from './expansionNeighbours';
import { rankedBy, type Ranked } from './ordering';

export interface SuperGlobalOptions {
  /** Neighbours refining each descriptor, and the query side's max-pool size minus one (9). */
  K: number;
  /** Weight of a neighbour per unit of similarity (0.15). */
  beta: number;
  /** l2-normalise the refined descriptors and the max-pooled one (a mean of two cosines); false: the authors' code. */
  normalize: boolean;
  /** Which of the K + 1 best (by s1) the query side max-pools: the authors' code pools all of them. */
  select: NeighbourSelection;
}

export const SUPERGLOBAL_DEFAULTS: SuperGlobalOptions = { K: 9, beta: 0.15, normalize: false, select: TOP_NEIGHBOURS };

/** Step 1 on X [M, D]: the refined descriptors [M, D] (not re-normalised, as in the authors' code). */
export async function refineByNeighbours(X: tf.Tensor2D, opts: SuperGlobalOptions = SUPERGLOBAL_DEFAULTS): Promise<tf.Tensor2D> {
  const M = X.shape[0];
  const sims = await readAndDispose(tf.matMul(X, X, false, true));
  const weights = new Float32Array(M * M);
  for (let i = 0; i < M; i++) {
    const row = sims.subarray(i * M, (i + 1) * M);
    row[i] = Infinity; // itself first, weight 1
    const nearest = topRanking(row, Math.min(M, opts.K + 1));
    let total = 0;
    for (const j of nearest) total += j === i ? 1 : opts.beta * row[j];
    for (const j of nearest) weights[i * M + j] = (j === i ? 1 : opts.beta * row[j]) / total;
  }
  return tf.tidy(() => tf.matMul(tf.tensor2d(weights, [M, M]), X));
}

/** SuperGlobal re-ranking of the top M of `prior` (query q), every image scored: see the file comment. */
export async function superGlobalRerank(db: Database, q: tf.Tensor1D, prior: Ranked, M: number, limit: number, within: Uint8Array | undefined, opts: SuperGlobalOptions = SUPERGLOBAL_DEFAULTS): Promise<Ranked> {
  M = Math.min(M, prior.ranking.length);
  if (M === 0) return prior;
  const top = Array.from(prior.ranking.subarray(0, M));
  const X = gatherRows(db, top);
  const raw = await refineByNeighbours(X, opts);
  const refined = opts.normalize ? tf.tidy(() => l2Normalize(raw)) : raw;
  if (refined !== raw) raw.dispose();
  X.dispose();
  try {
    const s1Top = await readAndDispose(tf.tidy(() => tf.squeeze(tf.matMul(refined, tf.expandDims(q, 1)), [1])));
    // The K + 1 best by s1 (one more for the 'gap' rule's last drop), of which the selection keeps some.
    const order = Array.from(topRanking(s1Top, Math.min(M, opts.K + 2)));
    const kept = await expansionNeighbours(order.map((i) => top[i]), order.map((i) => s1Top[i]), opts.K + 1, opts.select, db, q, within);
    const best = kept.map((r) => order[r]);
    const pooled = tf.tidy(() => {
      if (best.length === 0) return tf.clone(q);
      const m = tf.max(tf.gather(refined, best), 0) as tf.Tensor1D;
      return opts.normalize ? l2Normalize(m) : m;
    });
    try {
      const s2Top = await readAndDispose(tf.tidy(() => tf.squeeze(tf.matMul(refined, tf.expandDims(pooled, 1)), [1])));
      // Everyone else: their own descriptor (allScores gives dot products; the max-pooled vector is not unit).
      const s1 = await allScores(db, q);
      const s2 = await allScores(db, pooled);
      top.forEach((image, i) => {
        s1[image] = s1Top[i];
        s2[image] = s2Top[i];
      });
      const score = Float32Array.from(s1, (v, i) => (v + s2[i]) / 2);
      return rankedBy(outOfScope(score, within), 'refined', limit);
    } finally {
      pooled.dispose();
    }
  } finally {
    refined.dispose();
  }
}
