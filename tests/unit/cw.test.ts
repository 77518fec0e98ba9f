/**
 * CW core beyond the golden fixture: invariances the fixture does not cover, and a defined result or a clear
 * error for every kind of bad input (empty collection, boxes outside the image or smaller than a cell, NaN,
 * zero vectors). Runs on the cpu backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { classActivationMaps } from '../../src/cw/cam';
import { topClasses } from '../../src/cw/classifier';
import { aggregate } from '../../src/cw/classVectors';
import { cropMaps, largestComponentBox, pixelBoxToCells, regionBoxes, type Grid } from '../../src/cw/boxes';
import { cwDescriptor, cwDescriptors, padCellBatch, regionDescriptors } from '../../src/cw/descriptor';
import { oxfordAveragePrecision, meanAveragePrecision } from '../../src/cw/oxfordAp';
import { cosineScores, queryExpansion, rankDescending } from '../../src/cw/ranking';
import { assertFinite, l2Normalize } from '../../src/cw/tensorMath';
import { applyWhitening, fitWhitening, uploadWhitening } from '../../src/cw/whitening';
import { inputSize } from '../../src/model/preprocess';
import { seededValues } from '../../scripts/lib/random';

const K = 8;
const C = 12;
let w: tf.Tensor2D;

const rand = (n: number, seed: number, sparsity = 0.4) => seededValues(n, seed, sparsity);
const maps = (H: number, W: number, seed: number) => tf.tensor3d(rand(H * W * K, seed), [H, W, K]);

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(rand(K * C, 7, 0).map((v) => v - 0.5), [K, C]);
});

describe('batched descriptors', () => {
  it('zero-padding maps of different sizes gives the same descriptors as one image at a time', async () => {
    const images = [maps(3, 5, 1), maps(5, 3, 2), maps(4, 4, 3), maps(1, 1, 4)];
    const classes = tf.tensor1d([3, 1, 7], 'int32');
    const batch = padCellBatch(images);
    const batched = await cwDescriptors(batch, w, classes).array();
    for (const [i, X] of images.entries()) {
      const single = await cwDescriptor(X, w, classes).array();
      single.forEach((v, k) => expect(batched[i][k]).toBeCloseTo(v, 6));
    }
    tf.dispose([...images, classes, batch.X, batch.cellCounts]);
  });

  it('per-image classes (offline aggregation) match one image at a time', async () => {
    const images = [maps(3, 5, 11), maps(2, 6, 12)];
    const perImage = [[0, 5], [9, 2]];
    const batch = padCellBatch(images);
    const batched = await cwDescriptors(batch, w, tf.tensor2d(perImage, [2, 2], 'int32')).array();
    for (const [i, X] of images.entries()) {
      const single = await cwDescriptor(X, w, tf.tensor1d(perImage[i], 'int32')).array();
      single.forEach((v, k) => expect(batched[i][k]).toBeCloseTo(v, 6));
    }
  });

  it('a box cut of the maps equals the descriptor of the cropped maps', async () => {
    const X = maps(6, 7, 21);
    const classes = tf.tensor1d([2, 4], 'int32');
    const box = { x: 2, y: 1, w: 3, h: 4 };
    const viaBox = await cwDescriptor(X, w, classes, null, box).array();
    const viaCrop = await cwDescriptor(cropMaps(X, box), w, classes).array();
    viaBox.forEach((v, k) => expect(viaCrop[k]).toBeCloseTo(v, 6));
  });

  it('region descriptors as masks equal one cut per box, with and without whitening', async () => {
    const X = maps(5, 6, 25);
    const classes = tf.tensor1d([0, 6, 9], 'int32');
    const boxes = [{ x: 0, y: 0, w: 6, h: 5 }, { x: 1, y: 2, w: 2, h: 3 }, { x: 5, y: 4, w: 1, h: 1 }, { x: 2, y: 0, w: 4, h: 2 }];
    const wh = uploadWhitening(await fitWhitening(rand(30 * K, 26, 0), 30, K));
    for (const whitening of [null, wh]) {
      const all = await regionDescriptors(X, w, classes, boxes, whitening).array();
      for (const [r, box] of boxes.entries()) {
        const one = await cwDescriptor(X, w, classes, whitening, box).array();
        one.forEach((v, k) => expect(all[r][k]).toBeCloseTo(v, 5));
      }
    }
    expect(() => regionDescriptors(X, w, classes, [{ x: 5, y: 0, w: 2, h: 1 }])).toThrow(/does not fit/);
    wh.dispose();
  });

  it('leaks no tensors', () => {
    const X = maps(4, 5, 31);
    const classes = tf.tensor1d([1, 2, 3], 'int32');
    const before = tf.memory().numTensors;
    const d = cwDescriptor(X, w, classes, null, { x: 1, y: 1, w: 2, h: 2 });
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('zero vectors and degenerate maps give zeros, never NaN', () => {
  it('l2Normalize keeps a zero vector at zero', async () => {
    expect(Array.from(await l2Normalize(tf.zeros([4])).data())).toEqual([0, 0, 0, 0]);
  });

  it('all-zero maps give an all-zero descriptor and zero scores', async () => {
    const X = tf.zeros([3, 3, K]) as tf.Tensor3D;
    const d = cwDescriptor(X, w, tf.tensor1d([0, 1], 'int32'));
    expect(Array.from(await d.data()).every((v) => v === 0)).toBe(true);
    const scores = await cosineScores(tf.stack([d, d]) as tf.Tensor2D, d).data();
    expect(Array.from(scores)).toEqual([0, 0]);
  });

  it('a class whose CAM is negative everywhere has an all-zero CAM', async () => {
    const X = tf.ones([2, 2, K]) as tf.Tensor3D;
    const negative = tf.concat([tf.fill([K, 1], -1), tf.fill([K, 1], 1)], 1) as tf.Tensor2D;
    const cams = await classActivationMaps(X, negative, tf.tensor1d([0, 1], 'int32')).array();
    expect(cams[0]).toEqual([0, 0, 0, 0]);
    expect(cams[1]).toEqual([1, 1, 1, 1]);
  });

  it('aggregating zero class vectors stays zero', async () => {
    expect(Array.from(await aggregate(tf.zeros([3, K])).data()).every((v) => v === 0)).toBe(true);
  });

  it('whitening keeps a zero class vector at zero (absent class adds nothing)', async () => {
    const train = rand(40 * K, 41, 0);
    const wh = uploadWhitening(await fitWhitening(train, 40, K));
    const out = await applyWhitening(tf.zeros([1, K]), wh).data();
    expect(Array.from(out).every((v) => v === 0)).toBe(true);
    wh.dispose();
  });
});

describe('PCA-whitening on small collections', () => {
  it('with fewer vectors than dimensions keeps at most N - 1 components, all with positive variance', async () => {
    const D = 64;
    const N = 10;
    const wh = await fitWhitening(rand(N * D, 51, 0), N, D);
    expect(wh.outputDim).toBeLessThanOrEqual(N - 1);
    expect(Array.from(wh.variance).every((v) => v > 0)).toBe(true);
    // Components are orthonormal.
    for (let a = 0; a < wh.outputDim; a++) {
      for (let b = a; b < wh.outputDim; b++) {
        let dot = 0;
        for (let k = 0; k < D; k++) dot += wh.components[a * D + k] * wh.components[b * D + k];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 4);
      }
    }
    // Applying it to new vectors gives finite, unit-norm rows.
    const dev = uploadWhitening(wh);
    const out = await applyWhitening(tf.tensor2d(rand(5 * D, 52, 0), [5, D]), dev).array();
    for (const row of out) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    }
    dev.dispose();
  });

  it('the Gram-matrix path (N - 1 < D) and the covariance path agree on the same data', async () => {
    const D = 6;
    const N = 6; // N - 1 < D: Gram path
    const data = rand(N * D, 61, 0);
    const gram = await fitWhitening(data, N, D);
    // Same data twice: 2N - 1 >= D, covariance path; same covariance up to 2(N - 1)/(2N - 1).
    const twice = new Float32Array(2 * N * D);
    twice.set(data);
    twice.set(data, N * D);
    const cov = await fitWhitening(twice, 2 * N, D);
    const ratio = (2 * N - 1) / (2 * (N - 1));
    for (let r = 0; r < gram.outputDim; r++) {
      expect(cov.variance[r] * ratio).toBeCloseTo(gram.variance[r], 4);
      let dot = 0;
      for (let k = 0; k < D; k++) dot += gram.components[r * D + k] * cov.components[r * D + k];
      expect(Math.abs(dot)).toBeCloseTo(1, 4);
    }
  });

  it('shrinkage damps the directions of small variance: scale 1/sqrt(lambda + s mean(lambda)), worked out in 2-D', async () => {
    // Four points (+-sqrt 3, +-sqrt 3 / 4): mean 0, covariance (divided by N - 1 = 3) diag(4, 1/4), mean eigenvalue 2.125.
    const [x, y] = [Math.sqrt(3), Math.sqrt(3) / 4];
    const data = Float32Array.from([x, y, x, -y, -x, y, -x, -y]);
    const plain = await fitWhitening(data, 4, 2);
    const shrunk = await fitWhitening(data, 4, 2, { shrinkage: 0.5 });
    for (const wh of [plain, shrunk]) [4, 0.25].forEach((v, i) => expect(wh.variance[i]).toBeCloseTo(v, 5));
    // (1, 1) whitened: 1/sqrt(4 + s) on the wide axis, 1/sqrt(1/4 + s) on the narrow one. Without shrinkage the
    // narrow axis is 4 times the wide one; with s = 0.5 x 2.125 only sqrt(5.0625 / 1.3125) ~ 1.96 times.
    for (const [wh, ratio] of [[plain, 4], [shrunk, Math.sqrt(5.0625 / 1.3125)]] as const) {
      const dev = uploadWhitening(wh);
      const [out] = await applyWhitening(tf.tensor2d([[1, 1]]), dev).array();
      expect(Math.abs(out[1] / out[0])).toBeCloseTo(ratio, 4);
      dev.dispose();
    }
  });

  it('rejects what cannot be fitted, with a clear message', async () => {
    await expect(fitWhitening(new Float32Array(K), 1, K)).rejects.toThrow(/at least 2/);
    await expect(fitWhitening(new Float32Array(3 * K).fill(0.5), 3, K)).rejects.toThrow(/identical/);
    const nan = rand(4 * K, 81, 0);
    nan[5] = NaN;
    await expect(fitWhitening(nan, 4, K)).rejects.toThrow(/NaN/);
    await expect(fitWhitening(rand(4 * K, 82), 4, K, { dims: 0 })).rejects.toThrow(/dims/);
    await expect(fitWhitening(rand(5, 83), 4, K)).rejects.toThrow(/expected/);
  });
});

describe('boxes', () => {
  const grid: Grid = { H: 12, W: 16, cellWidth: 64, cellHeight: 64, imageWidth: 1024, imageHeight: 768 };

  it('maps pixels to cells with floor/ceil and clips to the grid', () => {
    expect(pixelBoxToCells({ x1: 70, y1: 10, x2: 200, y2: 130 }, grid)).toEqual({ x: 1, y: 0, w: 3, h: 3 });
    expect(pixelBoxToCells({ x1: -50, y1: -50, x2: 5000, y2: 5000 }, grid)).toEqual({ x: 0, y: 0, w: 16, h: 12 });
  });

  it('gives a box smaller than one cell the cell it lies in', () => {
    expect(pixelBoxToCells({ x1: 100, y1: 100, x2: 101, y2: 101 }, grid)).toEqual({ x: 1, y: 1, w: 1, h: 1 });
    expect(pixelBoxToCells({ x1: 1023, y1: 767, x2: 1024, y2: 768 }, grid)).toEqual({ x: 15, y: 11, w: 1, h: 1 });
  });

  it('rejects boxes outside the image, empty or with NaN', () => {
    expect(() => pixelBoxToCells({ x1: 2000, y1: 0, x2: 2100, y2: 100 }, grid)).toThrow(/outside/);
    expect(() => pixelBoxToCells({ x1: -200, y1: 0, x2: -100, y2: 100 }, grid)).toThrow(/outside/);
    expect(() => pixelBoxToCells({ x1: 10, y1: 10, x2: 10, y2: 50 }, grid)).toThrow(/empty/);
    expect(() => pixelBoxToCells({ x1: NaN, y1: 0, x2: 10, y2: 10 }, grid)).toThrow(/non-finite/);
    expect(() => cropMaps(tf.zeros([3, 3, 2]) as tf.Tensor3D, { x: 2, y: 0, w: 2, h: 1 })).toThrow(/does not fit/);
  });

  it('largest 8-connected component, ties to the first in raster order, null when empty', () => {
    // Two components of 3 cells: the first one found (top-left) wins the tie; the diagonal joins cells.
    const mask = [
      1, 0, 0, 0, 1,
      0, 1, 0, 0, 1,
      0, 0, 1, 0, 1,
    ];
    expect(largestComponentBox(mask, 3, 5)).toEqual({ x: 0, y: 0, w: 3, h: 3 });
    expect(largestComponentBox(new Array(15).fill(0), 3, 5)).toBeNull();
  });

  it('a heatmap with no positive cell gives the whole grid for every threshold', () => {
    const boxes = regionBoxes(new Float32Array(12), 3, 4);
    expect(boxes).toHaveLength(5);
    boxes.forEach((b) => expect(b).toEqual({ x: 0, y: 0, w: 4, h: 3 }));
  });
});

describe('ranking, QE and AP on edge cases', () => {
  it('ranks NaN last and keeps ties in index order', () => {
    expect(Array.from(rankDescending([0.2, NaN, 0.5, 0.2]))).toEqual([2, 0, 3, 1]);
    expect(Array.from(rankDescending([]))).toEqual([]);
  });

  it('QE with n = 0 returns the query, n beyond the collection uses it all, negative n is an error', async () => {
    const db = tf.tensor2d([[1, 0], [0, 1]]);
    const q = tf.tensor1d([1, 0]);
    expect(Array.from(await queryExpansion(db, [0, 1], 0, q).data())).toEqual([1, 0]);
    const all = await queryExpansion(db, [0, 1], 10, q).data();
    expect(all[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(() => queryExpansion(db, [0, 1], -1, q)).toThrow(/n must be/);
  });

  it('cosine scores reject mismatched dimensions', () => {
    expect(() => cosineScores(tf.zeros([2, 3]), tf.zeros([4]))).toThrow(/dimensions differ/);
  });

  it('topClasses rejects NC < 1 and caps NC at the number of classes', async () => {
    const p = tf.tensor1d([0.1, 0.7, 0.2]);
    expect(() => topClasses(p, 0)).toThrow(/positive integer/);
    expect(Array.from(await topClasses(p, 10).data())).toEqual([1, 2, 0]);
  });

  it('Oxford AP: perfect ranking 1, junk ignored, no positives is an error', () => {
    expect(oxfordAveragePrecision(['a', 'b', 'c'], new Set(['a', 'b']))).toBeCloseTo(1, 10);
    expect(oxfordAveragePrecision(['j', 'a', 'b', 'c'], new Set(['a', 'b']), new Set(['j']))).toBeCloseTo(1, 10);
    // Precision drops to 0 at rank 1, then recall 1 at precision 1/2: trapezoid (0 + 1/2) / 2.
    expect(oxfordAveragePrecision(['c', 'a'], new Set(['a']))).toBeCloseTo(0.25, 10);
    expect(() => oxfordAveragePrecision(['a'], new Set())).toThrow(/positive/);
    expect(() => meanAveragePrecision([])).toThrow(/zero queries/);
  });

  it('assertFinite names what holds NaN', async () => {
    await expect(assertFinite(tf.tensor1d([1, NaN]), 'feature maps')).rejects.toThrow(/feature maps contains NaN/);
    await expect(assertFinite(tf.tensor1d([1, 2]), 'x')).resolves.toBeUndefined();
  });
});

describe('network input size', () => {
  it('keeps the aspect ratio with the long side as asked, short side at least one cell', () => {
    expect(inputSize(1024, 768, 512)).toEqual({ width: 512, height: 384 });
    expect(inputSize(1, 1, 512)).toEqual({ width: 512, height: 512 });
    expect(inputSize(8000, 1, 1024)).toEqual({ width: 1024, height: 32 });
    expect(() => inputSize(0, 10, 512)).toThrow(/no pixels/);
  });
});
