import * as tf from '@tensorflow/tfjs-core';
import type { Preprocessing } from './adapters';

/** Network input size: long side = `longSide`, aspect ratio kept, short side at least one feature cell (`minSide`). */
export function inputSize(width: number, height: number, longSide: number, minSide = 32): { width: number; height: number } {
  if (!(width >= 1 && height >= 1)) throw new Error(`image has no pixels (${width} x ${height})`);
  const scale = longSide / Math.max(width, height);
  return {
    width: Math.max(minSide, Math.round(width * scale)),
    height: Math.max(minSide, Math.round(height * scale)),
  };
}

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

/** RGB pixels [h, w, 3] (0..255) -> the network's input [1, height, width, 3]. */
export function toNetworkInput(pixels: tf.Tensor3D, size: { width: number; height: number }, preprocessing: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    if (pixels.shape[2] !== 3) throw new Error(`expected RGB pixels [h, w, 3], got shape [${pixels.shape}]`);
    let x = tf.cast(pixels, 'float32') as tf.Tensor3D;
    if (x.shape[0] !== size.height || x.shape[1] !== size.width) {
      // Half-pixel centres: a 2x downscale averages each 2 x 2 block exactly.
      x = tf.image.resizeBilinear(x, [size.height, size.width], false, true);
    }
    const normalised = preprocessing === 'caffe' ? tf.sub(tf.reverse(x, -1), CAFFE_MEAN_BGR) : tf.sub(tf.div(x, 127.5), 1);
    return tf.expandDims(normalised, 0) as tf.Tensor4D;
  });
}
