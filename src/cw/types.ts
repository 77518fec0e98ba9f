/** Shared types of the CW math. Maps are channels-last: X[y, x, k]. */

/** A rectangle in FEATURE-MAP CELLS: x, y of the top-left cell, w x h cells (as in the golden fixture). */
export interface CellBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A rectangle in IMAGE PIXELS of the original photo: [x1, y1) to [x2, y2). */
export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * PCA-whitening learnt on class vectors of some collection: v' = (v - mean) . components^T / sqrt(variance + shrinkage).
 * Plain arrays, so it can be stored, exported and refitted without the network.
 */
export interface Whitening {
  /** Input dimension (channels K). */
  inputDim: number;
  /** Output dimension d <= inputDim. */
  outputDim: number;
  mean: Float32Array;
  /** d x D row-major, unit rows. */
  components: Float32Array;
  /** d eigenvalues of the training covariance, descending. */
  variance: Float32Array;
  /** Added to every eigenvalue before the 1/sqrt: keeps tiny eigenvalues of a small collection from blowing up. */
  shrinkage: number;
  /** How many vectors it was fitted on. */
  trainedOn: number;
}
