import * as tf from '@tensorflow/tfjs-core';

/**
 * CroW channel weights (Kalantidis et al. 2016), as in the CW paper: Q_k = fraction of non-zero positions
 * of channel k, CW_k = log(sum_n Q_n / Q_k), 0 for an all-zero channel. X: [H, W, K] -> [K].
 */
export function crowChannelWeights(X: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    // step(x) = 1 where x > 0, else 0 (a float op: no bool->float cast, which tfjs-webgpu 4.22 gets wrong).
    const Q = tf.mean(tf.step(X), [0, 1]) as tf.Tensor1D;
    return channelWeightsFromQ(Q);
  });
}

/** CW_k from the non-zero fractions Q ([..., K]); rows are independent. */
export function channelWeightsFromQ<T extends tf.Tensor>(Q: T): T {
  return tf.tidy(() => {
    const total = tf.sum(Q, -1, true);
    const positive = tf.greater(Q, 0);
    const safeQ = tf.where(positive, Q, tf.onesLike(Q));
    return tf.where(positive, tf.log(tf.div(total, safeQ)), tf.zerosLike(Q)) as T;
  });
}
