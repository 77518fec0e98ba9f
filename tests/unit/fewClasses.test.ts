/**
 * A model with fewer classes than NC (a user's model with C = 4 classes, NC = 64 or NC_re = 6): every class is
 * used, nothing throws. Offline descriptors recomputed by the worker's CollectionIndex for another NC, online
 * aggregation and re-ranking; cpu backend. Each test leaves as many tensors as it found.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Grid } from '../../src/cw/boxes';
import { cwDescriptors, padCellBatch } from '../../src/cw/descriptor';
import type { CollectionStore } from '../../src/index/db';
import { encodeMaps } from '../../src/index/mapCodec';
import type { FeatureRecord } from '../../src/index/schema';
import { imageClasses, search } from '../../src/search/search';
import { DEFAULT_SEARCH } from '../../src/search/types';
import { CollectionIndex } from '../../src/index/memory/collectionIndex';
import { seededValues } from '../../scripts/lib/random';

const K = 5;
const C = 4;
const sizes = [[3, 4], [2, 2], [4, 3]];
const grid = ([H, W]: number[]): Grid => ({ H, W, cellWidth: 32, cellHeight: 32, imageWidth: W * 32, imageHeight: H * 32 });
let w: tf.Tensor2D;
const maps = sizes.map(([H, W], i) => seededValues(H * W * K, 300 + i));
const probabilities = sizes.map((_, i) => Float32Array.from({ length: C }, (_, c) => (c + i) % C + 1).map((v, _, a) => v / a.reduce((s, x) => s + x, 0)));

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(seededValues(K * C, 9, 0).map((v) => v - 0.5), [K, C]);
});
afterAll(() => w.dispose());

/** The maps of the three photos as tensors (each test disposes its own). */
const mapTensors = () => sizes.map(([H, W], i) => tf.tensor3d(maps[i], [H, W, K]));

let tensorsBefore = 0;
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors;
});
afterEach(() => {
  expect(tf.memory().numTensors, 'tensors left behind by the test').toBe(tensorsBefore);
});

describe('a model with fewer classes than NC', () => {
  it('imageClasses gives all C classes per image, most probable first', async () => {
    const t = imageClasses(probabilities, 64);
    expect(t.shape).toEqual([3, C]);
    expect((await t.array())[0]).toEqual([3, 2, 1, 0]);
    t.dispose();
  });

  it("the worker's CollectionIndex recomputes OfA descriptors for an NC above C", async () => {
    const records: FeatureRecord[] = sizes.map((s, i) => ({
      id: `p${i}`, modelKey: 'm', grid: grid(s), probabilities: probabilities[i], descriptor: new Float32Array(K), nc: 2, backend: 'cpu', ms: 0, indexedAt: 0,
    }));
    const store = {
      // Class probabilities are read from the store (CollectionIndex keeps them out of memory).
      getFeatures: async (ids: readonly string[]) => ids.map((id) => records.find((r) => r.id === id)),
      getMaps: async (ids: readonly string[]) => ids.map((id) => {
        const i = Number(id.slice(1));
        return { id, modelKey: 'm', maps: encodeMaps(maps[i], sizes[i][0], sizes[i][1], K, 'float32') };
      }),
    } as unknown as CollectionStore;
    const index = new CollectionIndex(store);
    index.reset(records);
    const blocks = await index.offlineDescriptors(64, w);
    const gotT = tf.transpose(blocks.blocks[0]);
    const got = (await gotT.array()) as number[][];
    gotT.dispose();
    const X = mapTensors();
    const wantT = tf.tidy(() => cwDescriptors(padCellBatch(X), w, tf.tensor2d(probabilities.map(() => [0, 1, 2, 3]), [3, C], 'int32')));
    const want = (await wantT.array()) as number[][];
    tf.dispose([wantT, ...X]);
    index.dispose();
    // One descriptor of K values per photo, each as the CW maths gives it with all C classes.
    expect(got.map((row) => row.length)).toEqual([K, K, K]);
    expect(want.map((row) => row.length)).toEqual([K, K, K]);
    const worst = Math.max(...got.flatMap((row, i) => row.map((v, k) => Math.abs(v - want[i][k]))));
    expect(worst, 'largest difference from the CW descriptor').toBeLessThan(1e-5);
  });

  it('search with NC = 64 and NC_re = 6 uses the C classes there are', async () => {
    const X = mapTensors();
    const db = tf.tidy(() => cwDescriptors(padCellBatch(X), w, imageClasses(probabilities, 64)));
    const collection = { size: 3, grids: sizes.map(grid), offlineDescriptors: db, maps: async (ix: readonly number[]) => ix.map((i) => tf.clone(X[i])) };
    const query = { X: X[0], grid: grid(sizes[0]), box: { x: 0, y: 0, w: 4, h: 3 }, cropProbabilities: probabilities[0] };
    for (const aggregation of ['offline', 'online'] as const) {
      const r = await search(query, collection, { ...DEFAULT_SEARCH, aggregation, nc: 64, rerank: 3, ncRerank: 6, qe: 2 }, { w, whitening: null });
      expect(r.queryClasses).toEqual([3, 2, 1, 0]);
      expect(r.ranking).toHaveLength(3);
      expect(r.rerank.size).toBe(3);
    }
    tf.dispose([db, ...X]);
  });
});
