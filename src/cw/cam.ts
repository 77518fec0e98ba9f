import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul } from './tensorMath';

/**
 * CAM normalisation along the cells axis (default: last), as the golden fixture fixes it:
 * max(cam, 0) / max(cam), all zeros when max(cam) <= 0 (the original code divides by a non-positive max
 * and flips signs).
 */
function normalizeCams<T extends tf.Tensor>(raw: T, axis = -1): T {
  return tf.tidy(() => {
    const max = tf.max(raw, axis, true);
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
    const wc = classColumns(w, classes); // [K, NC]
    return normalizeCams(tf.matMul(wc, tf.reshape(A, [H * W, K]), true, true) as tf.Tensor2D);
  });
}

/**
 * CAMs for a batch of zero-padded cell lists X [B, P, K], normalised per item and class, laid out [B, P, NC]
 * (cells first, ready to pool with batchMatMul). classes: int32 [NC] shared by every item (one 2D product over
 * all cells), or [B, NC] per item.
 */
export function classActivationMapsBatch(X: tf.Tensor3D, w: tf.Tensor2D, classes: tf.Tensor1D | tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    if (classes.rank === 1) return classActivationMapsFromColumns(X, classColumns(w, classes as tf.Tensor1D));
    const wc = tf.transpose(tf.gather(tf.transpose(w), classes), [0, 2, 1]) as unknown as tf.Tensor3D; // [B, K, NC]
    return normalizeCams(batchMatMul(X, wc), 1);
  });
}

/**
 * The classifier columns of classes shared by every item, w[:, classes]: [K, NC]. Gather them once per query and
 * reuse them for every chunk of images (tf.gather along axis 1 costs 4-25 ms per call on wasm, BENCHMARKS.md, so the
 * wasm and cpu backends copy the columns in JavaScript instead).
 */
export function classColumns(w: tf.Tensor2D, classes: tf.Tensor1D): tf.Tensor2D {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return tf.gather(w, classes, 1) as tf.Tensor2D;
  // On the CPU backends the same copy in JavaScript, from w's values read once, takes well under 1 ms.
  let data = hostWeights.get(w);
  if (!data) hostWeights.set(w, (data = (w.dataSync() as Float32Array).slice()));
  const [K, C] = w.shape;
  const idx = classes.dataSync();
  const NC = idx.length;
  for (const c of idx) if (!(Number.isInteger(c) && c >= 0 && c < C)) throw new Error(`class index ${c} is out of range (${C} classes)`);
  const out = new Float32Array(K * NC);
  for (let k = 0; k < K; k++) {
    const row = k * C, at = k * NC;
    for (let j = 0; j < NC; j++) out[at + j] = data[row + idx[j]];
  }
  return tf.tensor2d(out, [K, NC]);
}

/** The classifier's values on the JavaScript side, per weight tensor (wasm and cpu backends only). */
const hostWeights = new WeakMap<tf.Tensor2D, Float32Array>();

/** classActivationMapsBatch for shared classes given their columns wc = classColumns(w, classes): [B, P, NC]. */
export function classActivationMapsFromColumns(X: tf.Tensor3D, wc: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, P, K] = X.shape;
    return normalizeCams(tf.reshape(tf.matMul(tf.reshape(X, [B * P, K]), wc), [B, P, wc.shape[1]]) as tf.Tensor3D, 1);
  });
}
