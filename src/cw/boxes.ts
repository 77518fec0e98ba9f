import * as tf from '@tensorflow/tfjs-core';
import type { CellBox, PixelBox } from './types';

/** Feature-map geometry of one image: grid size and how many ORIGINAL pixels one cell spans. */
export interface Grid {
  H: number;
  W: number;
  /** Original-image pixels per cell, horizontally and vertically (stride x original/resized). */
  cellWidth: number;
  cellHeight: number;
  /** Original image size in pixels. */
  imageWidth: number;
  imageHeight: number;
}

const wholeGrid = (g: { H: number; W: number }): CellBox => ({ x: 0, y: 0, w: g.W, h: g.H });

/**
 * Maps a box in original pixels to feature cells: floor(x1/s), floor(y1/s), ceil(x2/s), ceil(y2/s) (METHOD.md),
 * clipped to the grid. A box smaller than one cell gets the cell(s) it touches (at least one).
 * Throws for a box with NaN, no area, or lying entirely outside the image.
 */
export function pixelBoxToCells(box: PixelBox, grid: Grid): CellBox {
  const { x1, y1, x2, y2 } = box;
  if (![x1, y1, x2, y2].every(Number.isFinite)) throw new Error(`query box has a non-finite coordinate: ${JSON.stringify(box)}`);
  if (x2 <= x1 || y2 <= y1) throw new Error(`query box is empty (needs x2 > x1 and y2 > y1): ${JSON.stringify(box)}`);
  if (x2 <= 0 || y2 <= 0 || x1 >= grid.imageWidth || y1 >= grid.imageHeight) {
    throw new Error(`query box ${JSON.stringify(box)} lies outside the ${grid.imageWidth} x ${grid.imageHeight} image`);
  }
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const cx1 = clamp(Math.floor(x1 / grid.cellWidth), grid.W - 1);
  const cy1 = clamp(Math.floor(y1 / grid.cellHeight), grid.H - 1);
  const cx2 = clamp(Math.ceil(x2 / grid.cellWidth), grid.W);
  const cy2 = clamp(Math.ceil(y2 / grid.cellHeight), grid.H);
  return { x: cx1, y: cy1, w: Math.max(1, cx2 - cx1), h: Math.max(1, cy2 - cy1) };
}

/** Cell box back to original pixels (for drawing). */
export function cellsToPixelBox(box: CellBox, grid: Grid): PixelBox {
  return {
    x1: box.x * grid.cellWidth,
    y1: box.y * grid.cellHeight,
    x2: Math.min(grid.imageWidth, (box.x + box.w) * grid.cellWidth),
    y2: Math.min(grid.imageHeight, (box.y + box.h) * grid.cellHeight),
  };
}

/** Maps [H, W, K] cut to a cell box. */
export function cropMaps(X: tf.Tensor3D, box: CellBox): tf.Tensor3D {
  const [H, W] = X.shape;
  if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.x + box.w > W || box.y + box.h > H) {
    throw new Error(`cell box ${JSON.stringify(box)} does not fit the ${H} x ${W} feature map`);
  }
  return tf.slice(X, [box.y, box.x, 0], [box.h, box.w, X.shape[2]]);
}

/**
 * Bounding box of the largest 8-connected component of `mask` (H x W, row-major), by cell count;
 * ties go to the component whose first cell comes first in raster order. null when the mask is empty.
 */
export function largestComponentBox(mask: ArrayLike<number | boolean>, H: number, W: number): CellBox | null {
  const label = new Int32Array(H * W).fill(-1);
  const stack: number[] = [];
  let best: { size: number; box: CellBox } | null = null;
  for (let start = 0; start < H * W; start++) {
    if (!mask[start] || label[start] >= 0) continue;
    let size = 0;
    let minX = W, minY = H, maxX = -1, maxY = -1;
    label[start] = start;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const y = Math.floor(p / W);
      const x = p - y * W;
      size++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= W) continue;
          const q = ny * W + nx;
          if (mask[q] && label[q] < 0) {
            label[q] = start;
            stack.push(q);
          }
        }
      }
    }
    if (!best || size > best.size) best = { size, box: { x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1 } };
  }
  return best?.box ?? null;
}

/** The paper's re-ranking thresholds on the heatmap, as fractions of its max. */
const RERANK_THRESHOLDS = [0.01, 0.1, 0.2, 0.3, 0.4] as const;

/**
 * Candidate regions for CAM re-ranking: for each threshold t, the box of the largest connected component of
 * heat > t * max(heat). A heatmap with no positive cell gives the whole grid for every threshold.
 */
export function regionBoxes(heat: ArrayLike<number>, H: number, W: number, thresholds: readonly number[] = RERANK_THRESHOLDS): CellBox[] {
  let max = -Infinity;
  for (let i = 0; i < H * W; i++) if (heat[i] > max) max = heat[i];
  return thresholds.map((t) => {
    if (!(max > 0)) return wholeGrid({ H, W });
    const mask = new Uint8Array(H * W);
    for (let i = 0; i < H * W; i++) mask[i] = heat[i] > t * max ? 1 : 0;
    return largestComponentBox(mask, H, W) ?? wholeGrid({ H, W });
  });
}
