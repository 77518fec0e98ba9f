/**
 * Candidate faster formulations, benchmarked side by side with the product code of src/cw and src/search (which
 * they must match: the benchmarks check the results). Adopted candidates move into the product and leave this file
 * (class columns gathered once per query and tf.square norms are now src/cw and src/search code).
 *
 *  - OfA search on the transposed descriptor matrix [D, N], resident on the backend: score = q [1, D] x dbT [D, N].
 *    On wasm dbT is then the "weights" operand, which tfjs-backend-wasm hands to XNNPACK's fully-connected operator
 *    and caches (packed once, per tensor) across queries; db [N, D] x q [D, 1] repacks q and runs a 1-column GEMM.
 *    Then tf.topk on the backend and one read of k values + k indices.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The k best images of a resident transposed descriptor matrix dbT [D, N] for a query q [D]: one read of 2k numbers. */
export async function topKTransposed(dbT: tf.Tensor2D, q: tf.Tensor1D, k: number): Promise<{ indices: Int32Array; scores: Float32Array }> {
  const { values, indices } = tf.tidy(() => {
    const scores = tf.reshape(tf.matMul(tf.reshape(q, [1, q.shape[0]]), dbT), [dbT.shape[1]]);
    return tf.topk(scores, Math.min(k, dbT.shape[1]), true);
  });
  try {
    const [v, i] = await Promise.all([values.data(), indices.data()]);
    return { indices: i as Int32Array, scores: v as Float32Array };
  } finally {
    tf.dispose([values, indices]);
  }
}
