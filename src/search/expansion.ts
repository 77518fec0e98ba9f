/**
 * Query expansion and database-side augmentation (Radenovic, Tolias, Chum, "Fine-tuning CNN image retrieval with
 * no human annotation", TPAMI 2018): alpha-QE replaces the query by l2(q + sum_i s_i^alpha d_i) over its top n, and
 * alpha-DBA replaces every database descriptor the same way by its own top n neighbours (itself included with
 * weight 1). The paper's QE (average of the top n, query left out) is alpha = 0 without the query.
 */
import * as tf from '@tensorflow/tfjs-core';
import { queryExpansion, topRanking } from '../cw/ranking';
import { l2Normalize } from '../cw/tensorMath';
import { gatherRows, type Database } from './descriptorLayouts';

/** alpha-QE weights max(0, s)^alpha (similarities of unit vectors; a negative one adds nothing). */
export function alphaWeights(scores: ArrayLike<number>, alpha: number): number[] {
  if (!(alpha > 0)) throw new Error(`alpha must be > 0, got ${alpha}`);
  return Array.from(scores, (s) => Math.max(0, s) ** alpha);
}

/**
 * The expanded query from the top-n images of a ranking (their descriptors in `db`) with their scores:
 * alpha = 0: the paper's QE, l2(sum of the n descriptors); alpha > 0: alpha-QE, l2(q + sum_i max(0, s_i)^alpha d_i).
 */
export function expandedQuery(db: Database, top: readonly number[], scores: ArrayLike<number>, alpha: number, q: tf.Tensor1D): tf.Tensor1D {
  if (top.length === 0) return tf.clone(q);
  return tf.tidy(() => {
    const rows = gatherRows(db, top);
    // The same ops as queryExpansion, so the paper's QE gives the same floats on either layout.
    if (alpha === 0) return queryExpansion(rows, top.map((_, r) => r), top.length, q);
    const w = tf.tensor2d(alphaWeights(Array.from(top, (_, r) => scores[r]), alpha), [1, top.length]);
    const sum = tf.add(tf.squeeze(tf.matMul(w, rows), [0]), q);
    return l2Normalize(sum as tf.Tensor1D);
  });
}

/**
 * alpha-DBA: each row of db [N, D] (l2-normalised) replaced by l2(sum over its n + 1 nearest rows, itself
 * included, of max(0, s)^alpha x row), rows processed `chunk` at a time ([chunk, N] similarities on the backend,
 * a sparse [chunk, N] weight matrix, one product). Index-time: N^2 D multiply-adds.
 */
export async function databaseAugmentation(db: tf.Tensor2D, n: number, alpha: number, chunk = 256): Promise<tf.Tensor2D> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`DBA neighbours must be an integer >= 0, got ${n}`);
  const [N] = db.shape;
  if (n === 0 || N === 0) return tf.clone(db);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < N; start += chunk) {
      const m = Math.min(chunk, N - start);
      const simsT = tf.tidy(() => tf.matMul(tf.slice(db, [start, 0], [m, -1]), db, false, true));
      const sims = (await simsT.data()) as Float32Array;
      simsT.dispose();
      const weights = new Float32Array(m * N);
      for (let r = 0; r < m; r++) {
        const row = sims.subarray(r * N, (r + 1) * N);
        // Itself first whatever the ties, then its n best others.
        row[start + r] = Infinity;
        for (const j of topRanking(row, n + 1)) weights[r * N + j] = j === start + r ? 1 : Math.max(0, row[j]) ** alpha;
      }
      parts.push(tf.tidy(() => l2Normalize(tf.matMul(tf.tensor2d(weights, [m, N]), db))));
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}
