import * as tf from '@tensorflow/tfjs-core';

/** Norms below this are treated as zero: a zero vector stays zero instead of becoming NaN. */
const ZERO_NORM = 1e-12;

/** l2-normalises along `axis`; an all-zero slice stays all zeros (never NaN). */
export function l2Normalize<T extends tf.Tensor>(t: T, axis = -1): T {
  return tf.tidy(() => {
    const norm = tf.norm(t, 'euclidean', axis, true);
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

/** Same check for a plain array. */
export function assertFiniteArray(a: ArrayLike<number>, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${what} contains NaN or Infinity (at index ${i})`);
  }
}
