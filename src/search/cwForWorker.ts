/**
 * What the worker asks of the CW maths, in one place (the worker never imports src/cw itself): an image's OfA
 * descriptor, many at once from stored maps (another NC), a class heatmap, and pixel boxes <-> feature cells.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CellBox } from '../cw/types';
import { classActivationMaps } from '../cw/cam';
import { boxClassProbabilities } from '../cw/classifier';
import { cwDescriptor, cwDescriptors, padCellBatch } from '../cw/descriptor';
import { preferredBatchSize } from '../cw/tensorMath';
import { topIndices } from './search';

export { cellsToPixelBox, pixelBoxToCells, type Grid } from '../cw/boxes';
export type { CellBox } from '../cw/types';
export { preferredBatchSize };

/** The offline (OfA) descriptor of one image: its own top-`nc` classes by `probabilities`. [D] */
export function describeImage(X: tf.Tensor3D, w: tf.Tensor2D, probabilities: ArrayLike<number>, nc: number): tf.Tensor1D {
  return tf.tidy(() => cwDescriptor(X, w, tf.tensor1d(topIndices(probabilities, nc), 'int32'), null));
}

/**
 * OfA descriptors of several images at once (each its own top-`nc` classes), e.g. for an NC other than the stored
 * one, from their stored maps. Returns the descriptors as rows of one array [B * D] and D.
 */
export async function describeImages(maps: readonly tf.Tensor3D[], w: tf.Tensor2D, probabilities: readonly ArrayLike<number>[], nc: number): Promise<{ values: Float32Array; D: number }> {
  const d = tf.tidy(() => {
    const classes = tf.tensor2d(probabilities.map((p) => topIndices(p, nc)), [maps.length, Math.min(nc, w.shape[1])], 'int32');
    return cwDescriptors(padCellBatch(maps), w, classes, null);
  });
  try {
    return { values: (await d.data()) as Float32Array, D: d.shape[1] };
  } finally {
    d.dispose();
  }
}

/** The normalised Class Activation Map of one class over an image's cells: [H * W], row-major, 0..1. */
export async function classHeatmap(X: tf.Tensor3D, w: tf.Tensor2D, classIndex: number): Promise<Float32Array> {
  const cam = tf.tidy(() => classActivationMaps(X, w, tf.tensor1d([classIndex], 'int32')));
  try {
    return (await cam.data()) as Float32Array;
  } finally {
    cam.dispose();
  }
}

/**
 * Class probabilities of a box of an image from its (stored) maps, with no forward pass: the classifier on the
 * box's pooled features (GAP over its cells, w, b, softmax). Measured against a pass on the crop in `npm run eval
 * -- --query-from stored` (docs/STORAGE.md). [C]
 */
export async function storedBoxProbabilities(X: tf.Tensor3D, box: CellBox, w: tf.Tensor2D, b: tf.Tensor1D): Promise<Float32Array> {
  const p = boxClassProbabilities(X, box, w, b);
  try {
    return (await p.data()) as Float32Array;
  } finally {
    p.dispose();
  }
}
