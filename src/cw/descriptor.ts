import * as tf from '@tensorflow/tfjs-core';
import { classActivationMapsBatch, classActivationMapsFromColumns, classColumns } from './cam';
import { channelWeightsFromQ } from './crow';
import { batchMatMul, l2Normalize } from './tensorMath';
import { applyWhitening, type WhiteningOnDevice } from './whitening';
import { cropMaps } from './boxes';
import type { CellBox } from './types';

/** The classifier the CAMs come from: logits = GAP(A) . w + b. */
export interface ClassifierHead {
  /** [K, C] */
  w: tf.Tensor2D;
  /** [C] */
  b: tf.Tensor1D;
}

/**
 * A batch of feature maps with their cells flattened and zero-padded to a common length P:
 * X [B, P, K] and the number of real cells of each item [B]. Padded cells are zero, which leaves every
 * step exact: they add nothing to the sums, never count as non-zero for CroW, and a CAM whose real
 * max is <= 0 stays all zeros either way.
 */
export interface CellBatch {
  X: tf.Tensor3D;
  cellCounts: tf.Tensor1D;
}

/** One map [H, W, K] (optionally cut to a cell box) as a batch of one. */
function singleCellBatch(X: tf.Tensor3D, box?: CellBox): CellBatch {
  return tf.tidy(() => {
    const cut = box ? cropMaps(X, box) : X;
    const [H, W, K] = cut.shape;
    return { X: tf.reshape(cut, [1, H * W, K]) as tf.Tensor3D, cellCounts: tf.tensor1d([H * W]) };
  });
}

/** Stacks maps of different sizes into one zero-padded batch. */
export function padCellBatch(maps: readonly tf.Tensor3D[]): CellBatch {
  if (maps.length === 0) throw new Error('padCellBatch: no maps');
  return tf.tidy(() => {
    const K = maps[0].shape[2];
    const counts = maps.map((m) => m.shape[0] * m.shape[1]);
    const P = Math.max(...counts);
    const rows = maps.map((m, i) => {
      if (m.shape[2] !== K) throw new Error(`padCellBatch: channel counts differ (${m.shape[2]} vs ${K})`);
      const flat = tf.reshape(m, [counts[i], K]);
      return counts[i] === P ? flat : tf.pad(flat, [[0, P - counts[i]], [0, 0]]);
    });
    return { X: tf.stack(rows) as tf.Tensor3D, cellCounts: tf.tensor1d(counts) };
  });
}

/**
 * Steps 2-4 of the method for a whole batch at once: CAMs of the given classes, CroW channel weights,
 * class vectors f^c = CW . sum_cells X * cam_c, l2-normalised. Returns [B, NC, K].
 *
 * classes: int32 [NC] (the same classes for every item: online aggregation, queries, re-ranking)
 *          or [B, NC] (each item its own classes: offline aggregation).
 */
export function classVectorsBatch(batch: CellBatch, w: tf.Tensor2D, classes: tf.Tensor1D | tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => classVectorsFromCams(batch, classActivationMapsBatch(batch.X, w, classes)));
}

/** classVectorsBatch for classes shared by every item, given their classifier columns wc = classColumns(w, classes). */
export function classVectorsFromColumns(batch: CellBatch, wc: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => classVectorsFromCams(batch, classActivationMapsFromColumns(batch.X, wc)));
}

/** Steps 3-4 given the normalised CAMs [B, P, NC] of the batch: [B, NC, K]. */
function classVectorsFromCams(batch: CellBatch, cams: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const { X, cellCounts } = batch;
    const nonZero = tf.sum(tf.step(X), 1); // [B, K]; step(x) = 1 where x > 0
    const Q = tf.div(nonZero, tf.expandDims(cellCounts, 1));
    const channelWeights = channelWeightsFromQ(Q); // [B, K]
    const pooled = batchMatMul(tf.transpose(cams, [0, 2, 1]) as tf.Tensor3D, X); // [B, NC, K]
    return l2Normalize(tf.mul(pooled, tf.expandDims(channelWeights, 1)) as tf.Tensor3D);
  });
}

/** Steps 5-6: whiten each class vector (optional), sum over classes, l2-normalise. [B, NC, K] -> [B, D]. */
function descriptorsFromClassVectors(vectors: tf.Tensor3D, whitening?: WhiteningOnDevice | null): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, NC, K] = vectors.shape;
    let v: tf.Tensor3D = vectors;
    if (whitening) {
      const flat = applyWhitening(tf.reshape(vectors, [B * NC, K]) as tf.Tensor2D, whitening);
      v = tf.reshape(flat, [B, NC, flat.shape[1]]);
    }
    return l2Normalize(tf.sum(v, 1) as tf.Tensor2D);
  });
}

/** CW descriptors of a batch: classVectorsBatch then descriptorsFromClassVectors. [B, D]. */
export function cwDescriptors(batch: CellBatch, w: tf.Tensor2D, classes: tf.Tensor1D | tf.Tensor2D, whitening?: WhiteningOnDevice | null): tf.Tensor2D {
  return tf.tidy(() => descriptorsFromClassVectors(classVectorsBatch(batch, w, classes), whitening));
}

/**
 * cwDescriptors for classes shared by every item, given their classifier columns wc = classColumns(w, classes)
 * [K, NC] (gathered once per query, not once per chunk). [B, D].
 */
export function cwDescriptorsFromColumns(batch: CellBatch, wc: tf.Tensor2D, whitening?: WhiteningOnDevice | null): tf.Tensor2D {
  return tf.tidy(() => descriptorsFromClassVectors(classVectorsFromColumns(batch, wc), whitening));
}

/** The CW descriptor of one map (optionally cut to a box) for the given classes: [D]. */
export function cwDescriptor(X: tf.Tensor3D, w: tf.Tensor2D, classes: tf.Tensor1D, whitening?: WhiteningOnDevice | null, box?: CellBox): tf.Tensor1D {
  return tf.tidy(() => tf.squeeze(cwDescriptors(singleCellBatch(X, box), w, classes, whitening), [0]) as tf.Tensor1D);
}

/**
 * CW descriptors of several regions (cell boxes) of ONE image at once: [R, D]. Equal to cwDescriptor on each
 * box, but the regions are masks over the same cells, so it is two 2D products whatever R is: CAMs once on the
 * whole map (a region's CAM is the whole-map CAM cut to it, up to a positive scale that the per-class
 * l2-normalisation removes), CroW non-zero fractions per region = masks . step(X) / area, and
 * pooled[r, c] = (mask_r * cam_c) . X.
 */
export function regionDescriptors(
  X: tf.Tensor3D,
  w: tf.Tensor2D,
  classes: tf.Tensor1D,
  boxes: readonly CellBox[],
  whitening?: WhiteningOnDevice | null,
): tf.Tensor2D {
  return tf.tidy(() => regionDescriptorsFromColumns(X, classColumns(w, classes), boxes, whitening));
}

/**
 * regionDescriptors given the classifier columns wc = classColumns(w, classes) [K, NC]: gathered once per query for
 * every re-ranked image (the gather costs 4-10 ms per call on wasm, BENCHMARKS.md).
 */
export function regionDescriptorsFromColumns(
  X: tf.Tensor3D,
  wc: tf.Tensor2D,
  boxes: readonly CellBox[],
  whitening?: WhiteningOnDevice | null,
): tf.Tensor2D {
  const [H, W, K] = X.shape;
  const R = boxes.length;
  const NC = wc.shape[1];
  const masks = new Float32Array(R * H * W);
  boxes.forEach((b, r) => {
    if (b.x < 0 || b.y < 0 || b.w < 1 || b.h < 1 || b.x + b.w > W || b.y + b.h > H) {
      throw new Error(`cell box ${JSON.stringify(b)} does not fit the ${H} x ${W} feature map`);
    }
    for (let y = b.y; y < b.y + b.h; y++) masks.fill(1, r * H * W + y * W + b.x, r * H * W + y * W + b.x + b.w);
  });
  return tf.tidy(() => {
    const flat = tf.reshape(X, [H * W, K]);
    const M = tf.tensor2d(masks, [R, H * W]);
    const area = tf.tensor2d(boxes.map((b) => b.w * b.h), [R, 1]);
    const channelWeights = channelWeightsFromQ(tf.div(tf.matMul(M, tf.step(flat)), area)); // [R, K]
    const cams = tf.transpose(tf.squeeze(classActivationMapsFromColumns(tf.expandDims(flat, 0) as tf.Tensor3D, wc), [0])); // [NC, HW]
    const masked = tf.reshape(tf.mul(tf.expandDims(M, 1), tf.expandDims(cams, 0)), [R * NC, H * W]); // [R*NC, HW]
    const pooled = tf.reshape(tf.matMul(masked, flat), [R, NC, K]);
    const vectors = l2Normalize(tf.mul(pooled, tf.expandDims(channelWeights, 1)) as tf.Tensor3D);
    return descriptorsFromClassVectors(vectors, whitening);
  });
}
