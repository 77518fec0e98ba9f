/**
 * The collection's features for the evaluation: each photo's maps X and class probabilities from one forward pass
 * (cached per model, long side and photo name), and the descriptors built from them in one tensor.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import type { Grid } from '../../src/cw/boxes';
import { classVectorsBatch, cwDescriptors, padCellBatch } from '../../src/cw/descriptor';
import { preferredBatchSize } from '../../src/cw/tensorMath';
import type { WhiteningOnDevice } from '../../src/cw/whitening';
import type { ModelId } from '../../src/model/adapters';
import type { CwNetwork } from '../../src/model/network';
import { inputSize } from '../../src/model/preprocess';
import { imageClasses } from '../../src/search/search';
import { decodeDescriptor, encodeDescriptor, type DescriptorCodec } from './descriptorCodec';
import type { Manifest } from './manifest';
import { decodeImageFile, roundedInput, writeAtomically } from './node';

export interface ImageFeatures {
  name: string;
  grid: Grid;
  X: Float32Array;
  probabilities: Float32Array;
}

export interface ExtractOptions {
  model: ModelId;
  longSide: number;
  cacheDir?: string;
  /** 'rounded': photos resized to the input size and rounded to whole levels first (the app's indexing). */
  inputResize?: 'network' | 'rounded';
  log: (line: string) => void;
}

/**
 * Every photo of the manifest through the network, or from the cache (`<cacheDir>/<model>-<longSide>/<name>.v8`:
 * photo names must be unique across the manifests sharing a cache). msPerImage: forward pass + read back, per photo
 * not from the cache.
 */
export async function extract(net: CwNetwork, manifest: Manifest, opts: ExtractOptions, label: string): Promise<{ features: ImageFeatures[]; msPerImage: number[] }> {
  const features: ImageFeatures[] = [];
  const msPerImage: number[] = [];
  const rounded = opts.inputResize === 'rounded';
  const cache = opts.cacheDir && join(opts.cacheDir, `${opts.model}-${opts.longSide}${rounded ? '-rounded' : ''}`);
  if (cache) await mkdir(cache, { recursive: true });
  for (const [i, img] of manifest.images.entries()) {
    const cached = cache && join(cache, `${img.name}.v8`);
    if (cached && existsSync(cached)) {
      features.push(deserialize(await readFile(cached)) as ImageFeatures);
      continue;
    }
    const decoded = await decodeImageFile(join(manifest.dir, img.file));
    const [H, W] = decoded.shape;
    const pixels = rounded ? roundedInput(decoded, inputSize(W, H, opts.longSide, net.adapter.stride)) : decoded;
    const t0 = performance.now();
    const r = net.forward(pixels, opts.longSide, { width: W, height: H });
    const [X, probabilities] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
    msPerImage.push(performance.now() - t0);
    tf.dispose([decoded, pixels, r.X, r.probabilities]);
    const f = { name: img.name, grid: r.grid, X, probabilities };
    features.push(f);
    if (cached) await writeAtomically(cached, serialize(f));
    if ((i + 1) % 25 === 0 || i + 1 === manifest.images.length) opts.log(`${label}: ${i + 1}/${manifest.images.length} images`);
  }
  return { features, msPerImage };
}

export const mapsTensor = (f: { X: Float32Array; grid: Grid }, K: number): tf.Tensor3D => tf.tensor3d(f.X, [f.grid.H, f.grid.W, K]);

/** Baseline descriptors [N, K] with a pooling function, in one tensor. */
export function poolAll(features: readonly ImageFeatures[], K: number, pool: (X: tf.Tensor3D) => tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.stack(features.map((f) => pool(mapsTensor(f, K)))) as tf.Tensor2D);
}

/** OfA descriptors: each image's own top-NC classes. */
export function offlineAll(features: readonly ImageFeatures[], K: number, w: tf.Tensor2D, nc: number, whitening: WhiteningOnDevice | null): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  const size = preferredBatchSize();
  for (let s = 0; s < features.length; s += size) {
    parts.push(
      tf.tidy(() => {
        const chunk = features.slice(s, s + size);
        const batch = padCellBatch(chunk.map((f) => mapsTensor(f, K)));
        const classes = imageClasses(chunk.map((f) => f.probabilities), nc);
        return cwDescriptors(batch, w, classes, whitening);
      }),
    );
  }
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

/** Whitening training vectors [N, K]: class vectors of each image's top-npca classes. */
export function cwTrainingVectors(features: readonly ImageFeatures[], K: number, w: tf.Tensor2D, npca: number): { data: Float32Array; n: number } {
  const parts: Float32Array[] = [];
  const size = preferredBatchSize();
  for (let s = 0; s < features.length; s += size) {
    const v = tf.tidy(() => {
      const chunk = features.slice(s, s + size);
      const batch = padCellBatch(chunk.map((f) => mapsTensor(f, K)));
      const classes = imageClasses(chunk.map((f) => f.probabilities), npca);
      return classVectorsBatch(batch, w, classes);
    });
    parts.push(v.dataSync() as Float32Array);
    v.dispose();
  }
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, n: data.length / K };
}

/**
 * A descriptor database [N, D] as stored with `codec` and read back. Rows are l2-normalised again after decoding:
 * cosineScores assumes unit norm, and an implementation reading quantised descriptors would renormalise too.
 */
export function storedDescriptors(db: tf.Tensor2D, codec: DescriptorCodec): tf.Tensor2D {
  const [N, D] = db.shape;
  const data = db.dataSync() as Float32Array;
  const out = new Float32Array(N * D);
  for (let n = 0; n < N; n++) out.set(decodeDescriptor(encodeDescriptor(data.subarray(n * D, (n + 1) * D), codec)), n * D);
  return tf.tidy(() => {
    const t = tf.tensor2d(out, [N, D]);
    return tf.div(t, tf.maximum(tf.norm(t, 2, 1, true), 1e-12)) as tf.Tensor2D;
  });
}
