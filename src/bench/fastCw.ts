/**
 * Candidate faster formulations, benchmarked side by side with the current code of src/cw and src/search (which
 * they must match to float rounding: the benchmarks report the largest difference). They live here, not in
 * src/cw or src/search, until the owners of those folders adopt them (BENCHMARKS.md, "Recommendations").
 *
 *  - Online aggregation with the classifier columns of the query's classes gathered ONCE per query, not once per
 *    chunk of images (tf.gather along axis 1 of w [K, 1000] costs 4-10 ms per call on wasm), and l2 norms from
 *    tf.square instead of tf.norm (whose Pow kernel costs 1-3 ms per [64, 2048] on wasm).
 *  - OfA search on the transposed descriptor matrix [D, N], resident on the backend: score = q [1, D] x dbT [D, N].
 *    On wasm dbT is then the "weights" operand, which tfjs-backend-wasm hands to XNNPACK's fully-connected operator
 *    and caches (packed once, per tensor) across queries; db [N, D] x q [D, 1] repacks q and runs a 1-column GEMM.
 *    Then tf.topk on the backend and one read of k values + k indices.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normalizeCams } from '../cw/cam';
import { channelWeightsFromQ } from '../cw/crow';
import { padCellBatch, type CellBatch } from '../cw/descriptor';
import { batchMatMul } from '../cw/tensorMath';
import { applyWhitening, type WhiteningOnDevice } from '../cw/whitening';
import type { Collection } from '../search/types';

const ZERO_NORM = 1e-12;

/** l2-normalises along `axis` with sqrt(sum(x^2)); an all-zero slice stays zero. Same values as cw's l2Normalize. */
export function l2NormalizeSquare<T extends tf.Tensor>(t: T, axis = -1): T {
  return tf.tidy(() => tf.div(t, tf.maximum(tf.sqrt(tf.sum(tf.square(t), axis, true)), ZERO_NORM)) as T);
}

/** The classifier columns of the given classes, [K, NC]: computed once per query. */
export function classColumns(w: tf.Tensor2D, classes: tf.Tensor1D): tf.Tensor2D {
  return tf.gather(w, classes, 1) as tf.Tensor2D;
}

/**
 * Same result as `cwDescriptors(batch, w, classes, whitening)` for classes shared by every item ([NC]), given the
 * class columns wc = w[:, classes] [K, NC]. Returns [B, D].
 */
export function cwDescriptorsFromColumns(batch: CellBatch, wc: tf.Tensor2D, whitening?: WhiteningOnDevice | null): tf.Tensor2D {
  return tf.tidy(() => {
    const { X, cellCounts } = batch;
    const [B, P, K] = X.shape;
    const NC = wc.shape[1];
    const raw = tf.reshape(tf.matMul(tf.reshape(X, [B * P, K]), wc), [B, P, NC]);
    const cams = normalizeCams(raw, 1); // [B, P, NC]
    const Q = tf.div(tf.sum(tf.step(X), 1), tf.expandDims(cellCounts, 1));
    const channelWeights = channelWeightsFromQ(Q); // [B, K]
    const pooled = batchMatMul(tf.transpose(cams, [0, 2, 1]) as tf.Tensor3D, X); // [B, NC, K]
    let v: tf.Tensor3D = l2NormalizeSquare(tf.mul(pooled, tf.expandDims(channelWeights, 1)) as tf.Tensor3D);
    if (whitening) {
      const flat = applyWhitening(tf.reshape(v, [B * NC, K]) as tf.Tensor2D, whitening);
      v = tf.reshape(flat, [B, NC, flat.shape[1]]);
    }
    return l2NormalizeSquare(tf.sum(v, 1) as tf.Tensor2D);
  });
}

/**
 * Same result as src/search's `onlineDescriptors(collection, classes, ctx)`: every image's descriptor with the
 * query's classes, from its stored maps, `chunk` images at a time; the class columns are gathered once.
 */
export async function onlineDescriptorsHoisted(
  collection: Collection,
  classes: tf.Tensor1D,
  w: tf.Tensor2D,
  chunk: number,
  whitening: WhiteningOnDevice | null = null,
): Promise<tf.Tensor2D> {
  const wc = classColumns(w, classes);
  const parts: tf.Tensor2D[] = [];
  try {
    for (let start = 0; start < collection.size; start += chunk) {
      const indices = Array.from({ length: Math.min(collection.size, start + chunk) - start }, (_, i) => start + i);
      const maps = await collection.maps(indices);
      const batch = padCellBatch(maps);
      parts.push(cwDescriptorsFromColumns(batch, wc, whitening));
      tf.dispose([...maps, batch.X, batch.cellCounts]);
    }
    return tf.concat(parts, 0);
  } finally {
    tf.dispose([wc, ...parts]);
  }
}

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
