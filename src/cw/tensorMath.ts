import * as tf from '@tensorflow/tfjs-core';

/** Norms below this are treated as zero: a zero vector stays zero instead of becoming NaN. */
const ZERO_NORM = 1e-12;

/** l2-normalises along `axis`; an all-zero slice stays all zeros (never NaN). */
export function l2Normalize<T extends tf.Tensor>(t: T, axis = -1): T {
  return tf.tidy(() => {
    // sqrt(sum(x^2)) rather than tf.norm, whose Pow kernel costs 1-3 ms per [64, 2048] on wasm (BENCHMARKS.md).
    const norm = tf.sqrt(tf.sum(tf.square(t), axis, true));
    return tf.div(t, tf.maximum(norm, ZERO_NORM)) as T;
  });
}

/** Throws a clear error when a tensor holds NaN or Infinity (reads the tensor back: use on inputs, not on the hot path). */
export async function assertFinite(t: tf.Tensor, what: string): Promise<void> {
  const flag = tf.tidy(() => tf.all(tf.isFinite(t)));
  const ok = (await flag.data())[0];
  flag.dispose();
  if (!ok) throw new Error(`${what} contains NaN or Infinity`);
}

/**
 * a [B, M, N] x b [B, N, P] -> [B, M, P], no transposes.
 * tfjs-backend-wasm 4.22 only sends 2D, untransposed products to XNNPACK; its batched kernel is a naive loop
 * (measured here: [16,64,192] x [16,192,768] took 317 ms batched, 1.5 ms per 2D product). On wasm the batch is
 * therefore split into 2D products; GPU backends keep the single batched dispatch.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (tf.getBackend() !== 'wasm' || a.shape[0] === 1) return tf.matMul(a, b);
  return tf.tidy(() => {
    const as = tf.unstack(a) as tf.Tensor2D[];
    const bs = tf.unstack(b) as tf.Tensor2D[];
    return tf.stack(as.map((ai, i) => tf.matMul(ai, bs[i]))) as tf.Tensor3D;
  });
}

/**
 * Images per batch for batched CW steps. On wasm one image at a time keeps every product on XNNPACK's fast
 * path and avoids splitting (250 images, ResNet-50, OnA NC=64: 8.5 s at 1 per batch, 12.5 s at 16, 34.6 s
 * at 64); GPU backends gain from fewer, larger dispatches.
 */
export function preferredBatchSize(): number {
  return tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu' ? 1 : 32;
}
