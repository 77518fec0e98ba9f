import * as tf from '@tensorflow/tfjs-core';
import type { Preprocessing } from './spec';

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
    const normalised =
      preprocessing === 'caffe' ? tf.sub(tf.reverse(x, -1), CAFFE_MEAN_BGR) : preprocessing === 'unit' ? tf.div(x, 255) : tf.sub(tf.div(x, 127.5), 1);
    return tf.expandDims(normalised, 0) as tf.Tensor4D;
  });
}

/** A crop of an image, in whole pixels: [x1, x2) x [y1, y2). */
export interface PixelCrop {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Where the network looks for the query's classes (METHOD.md, "Query": classes are predicted on the CROPPED box): the
 * box widened to whole pixels inside the image, and the long side to feed that crop at so it keeps the scale of the
 * whole image (long side of the crop = round(max(cropW, cropH) * longSide / max(W, H)), at least 32). null when the
 * crop is the whole image (its own forward pass gives the classes). One definition for the app and `npm run eval`.
 */
export function queryCrop(box: PixelCrop, width: number, height: number, longSide: number): (PixelCrop & { longSide: number }) | null {
  const x1 = Math.max(0, Math.floor(box.x1)), y1 = Math.max(0, Math.floor(box.y1));
  const x2 = Math.min(width, Math.ceil(box.x2)), y2 = Math.min(height, Math.ceil(box.y2));
  if (x1 === 0 && y1 === 0 && x2 === width && y2 === height) return null;
  return { x1, y1, x2, y2, longSide: Math.max(32, Math.round((Math.max(x2 - x1, y2 - y1) * longSide) / Math.max(width, height))) };
}
