/**
 * The region check of a link between two photos, with the app's CAM re-ranking (src/search/search.ts camRerank): photo a is
 * the query (its whole frame, its top NC_re classes), photo b's heatmap of a's top-2 classes gives the five
 * threshold boxes, and b's score is its best region's cosine with a. Two photos of the same place score high both
 * ways; a photo that only shares generic content (sky, trees, a crowd) with another scores low one way at least.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classActivationMaps } from '../cw/cam';
import { regionBoxes } from '../cw/boxes';
import { cwDescriptor, regionDescriptors } from '../cw/descriptor';
import { cosineScores } from '../cw/ranking';
import { topIndices } from '../search/search';

/** Re-ranking classes NC_re (the paper's 6, as DEFAULT_SEARCH.ncRerank). */
const NC_RE = 6;

/** The best region score of photo b (maps Xb) for photo a (maps Xa, class probabilities pa) as the query. */
async function regionScore(Xa: tf.Tensor3D, pa: ArrayLike<number>, Xb: tf.Tensor3D, w: tf.Tensor2D, ncRe = NC_RE): Promise<number> {
  const top = topIndices(pa, ncRe);
  const [H, W] = Xb.shape;
  const heatT = tf.tidy(() => tf.mean(classActivationMaps(Xb, w, tf.tensor1d(top.slice(0, 2), 'int32')), 0));
  const heat = (await heatT.data()) as Float32Array;
  heatT.dispose();
  const boxes = regionBoxes(heat, H, W);
  const scoresT = tf.tidy(() => {
    const classes = tf.tensor1d(top, 'int32');
    return cosineScores(regionDescriptors(Xb, w, classes, boxes), cwDescriptor(Xa, w, classes, null));
  });
  const scores = (await scoresT.data()) as Float32Array;
  scoresT.dispose();
  return Math.max(...scores);
}

/** A link's region score: the smaller of the two directions (both photos must find the other). */
export async function linkRegionScore(Xa: tf.Tensor3D, pa: ArrayLike<number>, Xb: tf.Tensor3D, pb: ArrayLike<number>, w: tf.Tensor2D): Promise<number> {
  return Math.min(await regionScore(Xa, pa, Xb, w), await regionScore(Xb, pb, Xa, w));
}
