/**
 * What the evaluation shares between the methods of a query gives the same results as computing it per search:
 * search()'s onlineMemo and queryMemo, the batched OnA rows of scripts/lib/evalOnline.ts (with and without
 * whitening), and classColumns' JavaScript copy on the cpu backend. cpu backend, small seeded maps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Grid } from '../../src/cw/boxes';
import { classColumns } from '../../src/cw/cam';
import { padCellBatch, cwDescriptors } from '../../src/cw/descriptor';
import { fitWhitening, uploadWhitening, type WhiteningOnDevice } from '../../src/cw/whitening';
import { onlineDescriptors, search, topIndices } from '../../src/search/search';
import { DEFAULT_SEARCH, type Collection, type Query, type SearchParams } from '../../src/search/types';
import { onlineRowsForQueries } from '../../scripts/lib/evalOnline';
import { seededValues } from '../../scripts/lib/random';

const K = 8;
const C = 12;
let w: tf.Tensor2D;
let images: tf.Tensor3D[];
let grids: Grid[];
const grid = (H: number, W: number): Grid => ({ H, W, cellWidth: 32, cellHeight: 32, imageWidth: W * 32, imageHeight: H * 32 });

const collection = (offline: tf.Tensor2D | null, reads: number[] = []): Collection => ({
  size: images.length,
  grids,
  offlineDescriptors: offline,
  maps: async (indices) => {
    reads.push(...indices);
    return indices.map((i) => tf.clone(images[i]));
  },
});
const probsOf = (seed: number) => Array.from(seededValues(C, seed, 0));
const query = (i: number, seed: number): Query => ({ X: images[i], grid: grids[i], box: { x: 0, y: 0, w: grids[i].W, h: grids[i].H }, cropProbabilities: probsOf(seed) });

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(seededValues(K * C, 5, 0).map((v) => v - 0.5), [K, C]);
  const sizes = [[3, 4], [4, 3], [2, 5], [5, 5], [3, 3], [4, 4], [2, 2], [6, 3], [3, 5], [4, 2]];
  images = sizes.map(([H, W], i) => tf.tensor3d(seededValues(H * W * K, 200 + i), [H, W, K]));
  grids = sizes.map(([H, W]) => grid(H, W));
});

describe('classColumns', () => {
  it('copies w[:, classes] exactly on the cpu backend, and rejects a class out of range', () => {
    const classes = tf.tensor1d([7, 0, 11, 3], 'int32');
    expect(Array.from(classColumns(w, classes).dataSync())).toEqual(Array.from(tf.gather(w, classes, 1).dataSync()));
    expect(() => classColumns(w, tf.tensor1d([C], 'int32'))).toThrow(/out of range/);
  });
});

describe('batched online rows', () => {
  for (const whiten of [false, true]) {
    it(`equal onlineDescriptors() per query (${whiten ? 'with' : 'no'} whitening), for lists of two lengths`, async () => {
      let wh: WhiteningOnDevice | null = null;
      if (whiten) {
        const data = new Float32Array(40 * K).map((_, i) => seededValues(1, 900 + i, 0)[0]);
        wh = uploadWhitening(await fitWhitening(data, 40, K, { whiten: true, shrinkage: 0.1 }));
      }
      const lists = [[3, 7, 1], [0, 3, 9], [5, 2], [11, 3]];
      const rows = await onlineRowsForQueries(images.length, collection(null).maps, w, lists, wh);
      for (const [j, list] of lists.entries()) {
        const expected = (await onlineDescriptors(collection(null), tf.tensor1d(list, 'int32'), { w, whitening: wh })).dataSync();
        expect(rows[j].length).toBe(expected.length);
        rows[j].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      }
    });
  }
});

describe('search() memos', () => {
  const params = (p: Partial<SearchParams>): SearchParams => ({ ...DEFAULT_SEARCH, nc: 3, ...p });
  it('onlineMemo and queryMemo give the same rankings and scores as fresh searches, and the memo spares the reads', async () => {
    const ofa = cwDescriptors(padCellBatch(images), w, tf.tensor2d(images.map((_, i) => topIndices(probsOf(50 + i), 3)), [images.length, 3], 'int32'));
    const q = query(4, 77);
    const onlineMemo = new Map<number, Float32Array>();
    const queryMemo = new Map<string, tf.Tensor1D>();
    for (const p of [{ aggregation: 'online' as const }, { aggregation: 'online' as const, onlineShortlist: 4 }, { rerank: 3 }, { qe: 2, superGlobal: 5 }]) {
      const fresh = await search(q, collection(ofa), params(p), { w, whitening: null });
      const reads: number[] = [];
      const memo = await search(q, collection(ofa, reads), params(p), { w, whitening: null, onlineMemo, queryMemo });
      expect(Array.from(memo.ranking)).toEqual(Array.from(fresh.ranking));
      Array.from(memo.scores).forEach((s, i) => expect(s).toBeCloseTo(fresh.scores[i], 6));
      if (p.aggregation === 'online') expect(reads.length).toBe(p.onlineShortlist ? 0 : images.length);
    }
    expect([...queryMemo.keys()].sort()).toEqual(['3', 're 6']);
    expect(onlineMemo.size).toBe(images.length);
    queryMemo.forEach((t) => expect(t.isDisposed).toBe(false));
  });
});
