import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { l2Normalize } from './tensorMath';
import type { Whitening } from './types';

export interface WhiteningOptions {
  /** Output dimension (e.g. 2048 -> 512 for ResNet-50). Default: all the training data supports. */
  dims?: number;
  /**
   * Added to each eigenvalue, as a fraction of the mean eigenvalue (trace / D), before whitening:
   * 1/sqrt(lambda_i + shrinkage * mean(lambda)). 0 = plain PCA-whitening (the paper).
   */
  shrinkage?: number;
  /**
   * false: PCA projection only (rotate and truncate, no 1/sqrt(lambda) scaling): a dimension reduction that
   * keeps cosine similarities close, for large collections. Default true (PCA-whitening, the paper).
   */
  whiten?: boolean;
}

/** Eigenvalues below this fraction of the largest are numerically zero and are never kept. */
const RELATIVE_EIGEN_FLOOR = 1e-9;

/**
 * Learns PCA-whitening on class vectors [N, D] (the learn step; apply with `applyWhitening`).
 *
 * With fewer vectors than dimensions (N - 1 < D) the covariance has rank <= N - 1: the components come from
 * the N x N Gram matrix (same non-zero eigenvalues, far cheaper) and only directions with a non-zero
 * eigenvalue are kept, so the output has at most N - 1 dimensions and no eigenvalue near zero is inverted.
 * `shrinkage` further damps the small eigenvalues; whether to whiten a small collection at all is the
 * caller's decision (see METHOD.md: on 250 images self-whitening hurts).
 */
export async function fitWhitening(vectors: Float32Array, N: number, D: number, options: WhiteningOptions = {}): Promise<Whitening> {
  if (vectors.length !== N * D) throw new Error(`fitWhitening: expected ${N} x ${D} values, got ${vectors.length}`);
  if (N < 2) throw new Error(`fitWhitening: needs at least 2 training vectors, got ${N}`);
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) throw new Error('fitWhitening: training vectors contain NaN or Infinity');
  }
  const shrinkage = options.shrinkage ?? 0;
  if (!(shrinkage >= 0)) throw new Error(`fitWhitening: shrinkage must be >= 0, got ${shrinkage}`);
  if (options.dims !== undefined && !(Number.isInteger(options.dims) && options.dims >= 1)) {
    throw new Error(`fitWhitening: dims must be a positive integer, got ${options.dims}`);
  }

  // Covariance [D, D], or the Gram matrix [N, N] when that is smaller; both divided by N - 1 (unbiased, as sklearn).
  const useGram = N - 1 < D;
  const x = tf.tensor2d(vectors, [N, D]);
  const m = tf.mean(x, 0);
  const c = tf.sub(x, m);
  const g = tf.tidy(() => tf.div(useGram ? tf.matMul(c, c, false, true) : tf.matMul(c, c, true, false), N - 1));
  // Async reads: synchronous ones return zeros on WebGPU in headless Chromium (SwiftShader).
  const mean = (await m.data()) as Float32Array;
  const centered = useGram ? ((await c.array()) as number[][]) : null;
  const gram = (await g.array()) as number[][];
  tf.dispose([x, m, c, g]);

  const evd = new EigenvalueDecomposition(new Matrix(gram), { assumeSymmetric: true });
  const eigenvalues = evd.realEigenvalues; // ascending
  const eigenvectors = evd.eigenvectorMatrix; // columns
  const order = Array.from(eigenvalues.keys()).sort((a, b) => eigenvalues[b] - eigenvalues[a]);
  const top = eigenvalues[order[0]];
  // The trace is the same for covariance and Gram matrix.
  const meanEigenvalue = eigenvalues.reduce((s, v) => s + Math.max(v, 0), 0) / D;
  const supported = order.filter((i) => eigenvalues[i] > top * RELATIVE_EIGEN_FLOOR && eigenvalues[i] > 0);
  const d = Math.min(options.dims ?? D, supported.length);
  if (d < 1) throw new Error('fitWhitening: the training vectors are all identical (zero variance)');

  const components = new Float32Array(d * D);
  const variance = new Float32Array(d);
  for (let r = 0; r < d; r++) {
    const col = supported[r];
    const lambda = eigenvalues[col];
    variance[r] = lambda;
    if (!useGram) {
      for (let k = 0; k < D; k++) components[r * D + k] = eigenvectors.get(k, col);
    } else {
      // v = Xc^T u / sqrt((N - 1) lambda) is the unit covariance eigenvector for the Gram eigenvector u.
      const scale = 1 / Math.sqrt((N - 1) * lambda);
      for (let n = 0; n < N; n++) {
        const u = eigenvectors.get(n, col) * scale;
        if (u === 0) continue;
        const row = centered![n];
        for (let k = 0; k < D; k++) components[r * D + k] += u * row[k];
      }
    }
  }
  if (options.whiten === false) variance.fill(1); // unit scale: projection only
  return { inputDim: D, outputDim: d, mean, components, variance, shrinkage: options.whiten === false ? 0 : shrinkage * meanEigenvalue, trainedOn: N };
}

/** Whitening as device tensors, uploaded once and reused (dispose when done). */
export interface WhiteningOnDevice {
  mean: tf.Tensor1D;
  /** [D, d]: components^T scaled by 1/sqrt(variance + shrinkage). */
  projection: tf.Tensor2D;
  dispose(): void;
}

export function uploadWhitening(w: Whitening): WhiteningOnDevice {
  const { mean, projection } = tf.tidy(() => {
    const scale = tf.rsqrt(tf.add(tf.tensor1d(w.variance), w.shrinkage));
    const comps = tf.tensor2d(w.components, [w.outputDim, w.inputDim]);
    return { mean: tf.tensor1d(w.mean), projection: tf.transpose(tf.mul(comps, tf.expandDims(scale, 1))) as tf.Tensor2D };
  });
  return { mean, projection, dispose: () => tf.dispose([mean, projection]) };
}

/** Applies whitening to vectors [N, D] and l2-normalises each row: [N, d]. Zero rows stay zero. */
export function applyWhitening(vectors: tf.Tensor2D, w: WhiteningOnDevice): tf.Tensor2D {
  return tf.tidy(() => {
    // A zero class vector (class absent from the region) must stay zero, not become -mean . P.
    const isZero = tf.equal(tf.sum(tf.abs(vectors), 1, true), 0);
    const whitened = tf.matMul(tf.sub(vectors, w.mean), w.projection);
    return l2Normalize(tf.where(isZero, tf.zerosLike(whitened), whitened) as tf.Tensor2D);
  });
}
