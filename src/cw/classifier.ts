import * as tf from '@tensorflow/tfjs-core';

/** The network's own head: logits = GAP(A) . w + b, A: [H, W, K], w: [K, C], b: [C]. */
export function classLogits(A: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.add(tf.squeeze(tf.matMul(tf.expandDims(tf.mean(A, [0, 1]), 0), w), [0]), b) as tf.Tensor1D);
}

/** Softmax class probabilities, [C]. */
export function classProbabilities(A: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.softmax(classLogits(A, w, b)));
}

/** Indices of the NC most probable classes, most probable first (int32 [NC]). */
export function topClasses(probabilities: tf.Tensor1D, nc: number): tf.Tensor1D {
  const C = probabilities.shape[0];
  if (!Number.isInteger(nc) || nc < 1) throw new Error(`number of classes NC must be a positive integer, got ${nc}`);
  const { values, indices } = tf.topk(probabilities, Math.min(nc, C), true);
  values.dispose();
  return indices;
}

/**
 * Class probabilities of a box of an image from its maps alone, with no forward pass on the crop: the network's
 * head on the box's cells (GAP over the box, then w, b, softmax). [C]
 */
export function boxClassProbabilities(X: tf.Tensor3D, box: { x: number; y: number; w: number; h: number }, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => classProbabilities(tf.slice(X, [box.y, box.x, 0], [box.h, box.w, X.shape[2]]) as tf.Tensor3D, w, b));
}
