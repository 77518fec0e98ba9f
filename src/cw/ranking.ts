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
 * cosineScores for descriptors kept transposed, as column blocks [D, n_b] (images in block order): [sum n_b].
 * q [1, D] x block: on wasm the block is XNNPACK's cached, pre-packed operand (BENCHMARKS.md, recommendation 1).
 */
export function cosineScoresTransposed(blocks: readonly tf.Tensor2D[], query: tf.Tensor1D): tf.Tensor1D {
  for (const b of blocks) {
    if (b.shape[0] !== query.shape[0]) throw new Error(`descriptor dimensions differ: database ${b.shape[0]}, query ${query.shape[0]}`);
  }
  return tf.tidy(() => {
    if (blocks.length === 0) return tf.zeros([0]) as tf.Tensor1D;
    const q = tf.reshape(query, [1, query.shape[0]]);
    const parts = blocks.map((b) => tf.matMul(q, b));
    return tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 1), [-1]) as tf.Tensor1D;
  });
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
 * The first k of rankDescending(scores) (same order, same ties), in one pass with a k-entry heap instead of
 * sorting all N: O(N log k), and most scores are rejected by one comparison with the heap's worst entry.
 */
export function topRanking(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  k = Math.max(0, Math.min(k, n));
  // Near the full length a sort is as cheap and simpler.
  if (k * 4 >= n) return rankDescending(scores).slice(0, k);
  const key = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  // worse(a, b): a ranks after b.
  const worse = (a: number, b: number) => key(a) < key(b) || (key(a) === key(b) && a > b);
  // Min-heap on rank: heap[0] is the worst of the k best so far.
  const heap = new Int32Array(k);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < k && worse(heap[l], heap[m])) m = l;
      if (r < k && worse(heap[r], heap[m])) m = r;
      if (m === at) return;
      [heap[at], heap[m]] = [heap[m], heap[at]];
      at = m;
    }
  };
  for (let i = 0; i < k; i++) heap[i] = i;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(i);
  for (let i = k; i < n; i++) {
    if (k > 0 && worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => key(b) - key(a) || a - b);
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
