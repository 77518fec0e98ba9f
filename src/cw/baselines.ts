import * as tf from '@tensorflow/tfjs-core';
import { crowChannelWeights } from './crow';
import { l2Normalize } from './tensorMath';

/**
 * The paper's baselines, for the evaluation table. X: [H, W, K] -> l2-normalised [K].
 */

/** Raw sum-pooling (SPoC without centre prior): l2(sum_{i,j} X[i, j, :]). */
export function sumPooling(X: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => l2Normalize(tf.sum(X, [0, 1]) as tf.Tensor1D));
}

/** Raw sum-pooling weighted by CroW channel weights only. */
export function crowChannelPooling(X: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => l2Normalize(tf.mul(tf.sum(X, [0, 1]), crowChannelWeights(X)) as tf.Tensor1D));
}

/**
 * Full CroW (Kalantidis et al. 2016), spatial and channel weights, a = b = 2:
 * S = sum_k X; S = (S / ||S||_2)^(1/2); f = CW . sum_{i,j} S[i, j] X[i, j, :].
 */
export function crowPooling(X: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const S = tf.sum(X, 2);
    const spatial = tf.sqrt(l2Normalize(tf.reshape(S, [-1]) as tf.Tensor1D));
    const pooled = tf.sum(tf.mul(X, tf.reshape(spatial, [X.shape[0], X.shape[1], 1])), [0, 1]);
    return l2Normalize(tf.mul(pooled, crowChannelWeights(X)) as tf.Tensor1D);
  });
}
