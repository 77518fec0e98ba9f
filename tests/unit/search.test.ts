/** search(): offline/online aggregation, re-ranking and QE semantics, and bad input, on the cpu backend. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Grid } from '../../src/cw/boxes';
import { cwDescriptor, cwDescriptors, padCellBatch } from '../../src/cw/descriptor';
import { search } from '../../src/search/search';
import { DEFAULT_SEARCH, type Collection, type Query } from '../../src/search/types';
import { seededValues } from '../helpers/random';

const K = 6;
const C = 10;
let w: tf.Tensor2D;
let images: tf.Tensor3D[];
let grids: Grid[];

const rand = (n: number, seed: number, sparsity = 0.3) => seededValues(n, seed, sparsity);
const grid = (H: number, W: number): Grid => ({ H, W, cellWidth: 32, cellHeight: 32, imageWidth: W * 32, imageHeight: H * 32 });

function collection(offline: tf.Tensor2D | null): Collection & { reads: number[] } {
  const reads: number[] = [];
  return {
    size: images.length,
    grids,
    offlineDescriptors: offline,
    reads,
    maps: async (indices) => {
      reads.push(...indices);
      return indices.map((i) => tf.clone(images[i]));
    },
  };
}

function query(i: number, probs: number[]): Query {
  return { X: images[i], grid: grids[i], box: { x: 0, y: 0, w: grids[i].W, h: grids[i].H }, cropProbabilities: probs };
}
const probs = Array.from({ length: C }, (_, c) => (c === 3 ? 0.5 : c === 7 ? 0.3 : 0.2 / (C - 2)));

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(rand(K * C, 3, 0).map((v) => v - 0.5), [K, C]);
  const sizes = [[3, 4], [4, 3], [2, 5], [5, 5], [3, 3], [4, 4], [2, 2], [6, 3]];
  images = sizes.map(([H, W], i) => tf.tensor3d(rand(H * W * K, 100 + i), [H, W, K]));
  grids = sizes.map(([H, W]) => grid(H, W));
});

describe('search', () => {
  it('offline aggregation ranks by cosine with the stored descriptors; the query image ranks first', async () => {
    const classes = tf.tensor2d(images.map(() => [3, 7]), [images.length, 2], 'int32');
    const batch = padCellBatch(images);
    const db = cwDescriptors(batch, w, classes);
    const r = await search(query(2, probs), collection(db), { ...DEFAULT_SEARCH, nc: 2 }, { w, whitening: null });
    expect(r.ranking[0]).toBe(2);
    expect(r.scores[0]).toBeCloseTo(1, 5);
    expect(r.queryClasses).toEqual([3, 7]);
    expect(Array.from(r.scores).every((s, i) => i === 0 || s <= r.scores[i - 1])).toBe(true);
  });

  it('online aggregation equals descriptors computed image by image with the query classes', async () => {
    const col = collection(null);
    const r = await search(query(0, probs), col, { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null, chunkSize: 3 });
    const q = cwDescriptor(images[0], w, tf.tensor1d([3, 7], 'int32'));
    const expected = await Promise.all(images.map(async (X) => (await tf.dot(cwDescriptor(X, w, tf.tensor1d([3, 7], 'int32')), q).data())[0]));
    r.ranking.forEach((img, pos) => expect(r.scores[pos]).toBeCloseTo(expected[img], 5));
    expect(new Set(col.reads).size).toBe(images.length);
  });

  it('re-ranking reorders only the top R by their best region score and reads only their maps', async () => {
    const col = collection(null);
    const base = await search(query(1, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null });
    const R = 4;
    const r = await search(query(1, probs), col, { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, rerank: R, ncRerank: 2 }, { w, whitening: null });
    expect(new Set(r.ranking.subarray(0, R))).toEqual(new Set(base.ranking.subarray(0, R)));
    expect(Array.from(r.ranking.subarray(R))).toEqual(Array.from(base.ranking.subarray(R)));
    expect(r.rerank.size).toBe(R);
    for (const [img, info] of r.rerank) {
      expect(info.boxes).toHaveLength(5);
      expect(info.regionScores[info.best]).toBe(Math.max(...info.regionScores));
      const pos = Array.from(r.ranking).indexOf(img);
      expect(r.scores[pos]).toBeCloseTo(info.regionScores[info.best], 6);
    }
    for (let i = 1; i < R; i++) expect(r.scores[i]).toBeLessThanOrEqual(r.scores[i - 1]);
    // OnA reads every image once, re-ranking the top R once more.
    expect(col.reads.length).toBe(images.length + R);
  });

  it('query expansion re-scores with the mean of the top-n', async () => {
    const plain = await search(query(3, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null });
    const qe = await search(query(3, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, qe: 2 }, { w, whitening: null });
    const top2 = Array.from(plain.ranking.subarray(0, 2));
    const db = images.map((X) => cwDescriptor(X, w, tf.tensor1d([3, 7], 'int32')));
    const expanded = tf.div(tf.add(db[top2[0]], db[top2[1]]), tf.norm(tf.add(db[top2[0]], db[top2[1]])));
    const expected = await Promise.all(db.map(async (d) => (await tf.dot(d, expanded).data())[0]));
    qe.ranking.forEach((img, pos) => expect(qe.scores[pos]).toBeCloseTo(expected[img], 5));
  });

  it('an empty collection gives an empty result', async () => {
    const empty: Collection = { size: 0, grids: [], offlineDescriptors: null, maps: async () => [] };
    const r = await search(query(0, probs), empty, { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null });
    expect(r.ranking.length).toBe(0);
    expect(r.scores.length).toBe(0);
  });

  it('rejects bad parameters, a NaN query and offline search without stored descriptors', async () => {
    const col = collection(null);
    const p = { ...DEFAULT_SEARCH, nc: 2 };
    await expect(search(query(0, probs), col, { ...p, nc: 0 }, { w, whitening: null })).rejects.toThrow(/NC/);
    await expect(search(query(0, probs), col, { ...p, qe: -1 }, { w, whitening: null })).rejects.toThrow(/query expansion/);
    await expect(search(query(0, probs), col, { ...p, rerank: 1.5 }, { w, whitening: null })).rejects.toThrow(/re-ranking R/);
    await expect(search(query(0, probs), col, p, { w, whitening: null })).rejects.toThrow(/stored descriptors/);
    const bad = { ...query(0, probs), X: tf.fill([2, 2, K], NaN) as tf.Tensor3D };
    await expect(search(bad, col, { ...p, aggregation: 'online' }, { w, whitening: null })).rejects.toThrow(/NaN/);
  });

  it('leaks no tensors across a full search with re-ranking and QE', async () => {
    const before = tf.memory().numTensors;
    await search(query(4, probs), collection(null), { aggregation: 'online', nc: 2, qe: 2, rerank: 3, ncRerank: 2 }, { w, whitening: null });
    expect(tf.memory().numTensors).toBe(before);
  });
});
