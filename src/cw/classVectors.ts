import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from './tensorMath';

/**
 * Class vectors: f_k^c = CW_k * sum_{i,j} X[i, j, k] * cam_c[i, j], each l2-normalised.
 * X: [H, W, K], cams: [NC, H*W], channelWeights: [K]. Returns [NC, K].
 */
export function classVectors(X: tf.Tensor3D, cams: tf.Tensor2D, channelWeights: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [H, W, K] = X.shape;
    const pooled = tf.matMul(cams, tf.reshape(X, [H * W, K])); // [NC, K]
    return l2Normalize(tf.mul(pooled, channelWeights) as tf.Tensor2D);
  });
}

/** Descriptor = l2-normalise(sum of the (whitened) class vectors). [NC, D] -> [D]. */
export function aggregate(vectors: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => l2Normalize(tf.sum(vectors, 0) as tf.Tensor1D));
}
