import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from './tensorMath';

/** Cosine similarity of l2-normalised descriptors [N, D] with a query [D]: [N]. */
export function cosineScores(database: tf.Tensor2D, query: tf.Tensor1D): tf.Tensor1D {
  if (database.shape[1] !== query.shape[0]) {
    throw new Error(`descriptor dimensions differ: database ${database.shape[1]}, query ${query.shape[0]}`);
  }
  return tf.tidy(() => tf.squeeze(tf.matMul(database, tf.expandDims(query, 1)), [1]) as tf.Tensor1D);
}

/**
 * Indices sorted by descending score; equal scores keep index order, NaN (never expected) ranks last.
 * CPU-side, on the scores read back once.
 */
export function rankDescending(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  const key = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  return idx.sort((a, b) => key(b) - key(a) || a - b);
}

/**
 * Query expansion (average QE): new query = l2-normalise(sum of the top-n database descriptors of the first
 * ranking). The original query is not part of the sum (golden fixture). n = 0 returns the query unchanged.
 */
export function queryExpansion(database: tf.Tensor2D, ranking: ArrayLike<number>, n: number, query: tf.Tensor1D): tf.Tensor1D {
  if (!Number.isInteger(n) || n < 0) throw new Error(`query expansion n must be an integer >= 0, got ${n}`);
  if (n === 0 || database.shape[0] === 0) return tf.clone(query);
  const top = Array.from(ranking).slice(0, n);
  return tf.tidy(() => l2Normalize(tf.sum(tf.gather(database, top), 0) as tf.Tensor1D));
}
