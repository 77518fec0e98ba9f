import * as tf from '@tensorflow/tfjs-core';

/**
 * CAM normalisation along the last axis (cells), as the golden fixture fixes it:
 * max(cam, 0) / max(cam), all zeros when max(cam) <= 0 (the original code divides by a non-positive max
 * and flips signs).
 */
export function normalizeCams<T extends tf.Tensor>(raw: T): T {
  return tf.tidy(() => {
    const max = tf.max(raw, -1, true);
    // max <= 0 -> divide by +Infinity -> zeros.
    const safeMax = tf.where(tf.greater(max, 0), max, tf.fill(max.shape, Infinity));
    return tf.div(tf.relu(raw), safeMax) as T;
  });
}

/**
 * Class Activation Maps (Zhou et al. 2016) of the given classes: cam_c = sum_k w[k, c] * A[:, :, k], normalised.
 * A: [H, W, K] (the layer feeding GAP), w: [K, C], classes: int32 [NC]. Returns [NC, H*W].
 */
export function classActivationMaps(A: tf.Tensor3D, w: tf.Tensor2D, classes: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [H, W, K] = A.shape;
    const wc = tf.gather(w, classes, 1); // [K, NC]
    return normalizeCams(tf.matMul(wc, tf.reshape(A, [H * W, K]), true, true) as tf.Tensor2D);
  });
}

/**
 * CAMs for a batch of zero-padded cell lists X [B, P, K]: [B, NC, P], normalised per item and class.
 * classes: int32 [NC] shared by every item, or [B, NC] per item.
 */
export function classActivationMapsBatch(X: tf.Tensor3D, w: tf.Tensor2D, classes: tf.Tensor1D | tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const B = X.shape[0];
    const wT = tf.transpose(w); // [C, K]
    // [B, NC, K]: the classifier columns of each item's classes.
    const wc = classes.rank === 1 ? tf.tile(tf.expandDims(tf.gather(wT, classes), 0), [B, 1, 1]) : tf.gather(wT, classes);
    return normalizeCams(tf.matMul(wc, X, false, true) as tf.Tensor3D);
  });
}
