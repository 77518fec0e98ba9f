/**
 * search(): offline/online aggregation, re-ranking and QE semantics, and bad input, on the cpu backend. Re-ranking
 * is checked on a constructed case whose boxes, scores and final order are worked out by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Grid } from '../../src/cw/boxes';
import { cwDescriptor, cwDescriptors, padCellBatch, regionDescriptors } from '../../src/cw/descriptor';
import { search } from '../../src/search/search';
import { DEFAULT_SEARCH, type Collection, type Query, type SearchParams, type SearchResult } from '../../src/search/types';
import { seededValues } from '../../scripts/lib/random';

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
    await expect(search(query(0, probs), col, { ...p, qe: -1 }, { w, whitening: null })).rejects.toThrow(/QE n/);
    await expect(search(query(0, probs), col, { ...p, rerank: 1.5 }, { w, whitening: null })).rejects.toThrow(/Re-ranking R/);
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

/** The scores never increase down the list, and there is one kind per result. */
function expectMonotone(r: SearchResult) {
  for (let i = 1; i < r.scores.length; i++) expect(r.scores[i], `score ${i}`).toBeLessThanOrEqual(r.scores[i - 1]);
  expect(r.scoreKinds).toHaveLength(r.ranking.length);
}

const descriptorOf = async (d: tf.Tensor1D) => Float32Array.from(await d.data());
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const l2 = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('search: past defects of the search steps stay fixed', () => {
  it('re-ranking takes the top-2 heatmap classes and NC_re classes of the query whatever NC is', async () => {
    // All images re-ranked, so the initial ranking (which depends on NC) does not change which are.
    const run = (nc: number, ncRerank: number) =>
      search(query(1, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc, rerank: images.length, ncRerank }, { w, whitening: null });
    for (const ncRerank of [1, 2, 6]) {
      const wide = await run(8, ncRerank); // NC >= NC_re and >= 2: never capped
      for (const nc of [1, 2, 4]) {
        const r = await run(nc, ncRerank);
        expect(r.queryClasses).toHaveLength(nc);
        for (const [img, info] of wide.rerank) expect(r.rerank.get(img)).toEqual(info);
      }
    }
  });

  it('after re-ranking the scores never increase down the whole list and say what they are', async () => {
    // Stored descriptors all within a hair of the query's: every image's cosine (~1) is above the region scores of
    // the other images, so with the paper's region order rank R+1 shows a higher score than rank R.
    const q = await descriptorOf(cwDescriptor(images[1], w, tf.tensor1d([3, 7], 'int32')));
    const rows = images.map((_, i) => l2(Array.from(q, (v, k) => v + 1e-3 * Math.sin(7 * i + k))));
    const db = tf.tensor2d(rows);
    const R = 3;
    const p: SearchParams = { ...DEFAULT_SEARCH, nc: 2, rerank: R, ncRerank: 2 };
    const r = await search(query(1, probs), collection(db), p, { w, whitening: null });
    expectMonotone(r);
    const paper = await search(query(1, probs), collection(db), { ...p, rerankScore: 'region' }, { w, whitening: null });
    expect(paper.scores[R]).toBeGreaterThan(paper.scores[R - 1]); // the case the issue describes, kept as an option
    expect(paper.scoreKinds.slice(0, R)).toEqual(['region', 'region', 'region']);
    expect(paper.scoreKinds.slice(R).every((k) => k === 'cosine')).toBe(true);
    const plain = await search(query(1, probs), collection(db), { ...p, rerank: 0 }, { w, whitening: null });
    const cosine = new Map(Array.from(plain.ranking, (img, pos) => [img, plain.scores[pos]]));
    r.ranking.forEach((img, pos) => {
      const info = r.rerank.get(img);
      const region = info ? info.regionScores[info.best] : -Infinity;
      expect(r.scores[pos]).toBeCloseTo(Math.max(cosine.get(img)!, region), 6);
      expect(r.scoreKinds[pos]).toBe(region > cosine.get(img)! ? 'region' : 'cosine');
    });
    // The same images are re-ranked, the rest keep their place.
    expect(new Set(r.ranking.subarray(0, R))).toEqual(new Set(plain.ranking.subarray(0, R)));
    expect(Array.from(r.ranking.subarray(R))).toEqual(Array.from(plain.ranking.subarray(R)));
  });

  it('every step keeps the scores monotone, with their kinds', async () => {
    const classes = tf.tensor2d(images.map(() => [3, 7]), [images.length, 2], 'int32');
    const db = cwDescriptors(padCellBatch(images), w, classes);
    const steps: [Partial<SearchParams>, string[]][] = [
      [{}, ['cosine']],
      [{ qe: 3 }, ['expanded']],
      [{ qe: 3, qeAlpha: 3 }, ['expanded']],
      [{ rerank: 5, ncRerank: 2, qe: 2, qeSource: 'region' }, ['expanded']],
      [{ superGlobal: 5 }, ['refined']],
      [{ superGlobal: 5, rerank: 3, ncRerank: 2 }, ['refined', 'region']],
      [{ diffusion: 6, diffusionK: 3 }, ['diffusion']],
      [{ aggregation: 'online', onlineShortlist: 4 }, ['cosine']],
      [{ aggregation: 'online', onlineShortlist: 4, rerank: 3, ncRerank: 2 }, ['cosine', 'region']],
    ];
    for (const [step, kinds] of steps) {
      const r = await search(query(5, probs), collection(db), { ...DEFAULT_SEARCH, nc: 2, ...step }, { w, whitening: null });
      expectMonotone(r);
      expect(r.ranking).toHaveLength(images.length);
      expect(new Set(r.ranking)).toEqual(new Set(images.map((_, i) => i)));
      for (const k of r.scoreKinds) expect(kinds).toContain(k);
    }
  });

  it('every step keeps to the search scope (within)', async () => {
    const classes = tf.tensor2d(images.map(() => [3, 7]), [images.length, 2], 'int32');
    const db = cwDescriptors(padCellBatch(images), w, classes);
    const within = Uint8Array.from(images, (_, i) => (i % 2 ? 1 : 0));
    const steps: Partial<SearchParams>[] = [
      { superGlobal: 5 },
      { superGlobal: 5, rerank: 3, ncRerank: 2, qe: 2, qeSource: 'region', qeAlpha: 3 },
      { diffusion: 6, diffusionK: 3 },
      { aggregation: 'online', onlineShortlist: 2, rerank: 2, ncRerank: 2, qe: 2 },
    ];
    for (const step of steps) {
      const r = await search(query(5, probs), collection(db), { ...DEFAULT_SEARCH, nc: 2, ...step, within }, { w, whitening: null });
      expectMonotone(r);
      expect(new Set(r.ranking)).toEqual(new Set(images.map((_, i) => i).filter((i) => within[i])));
    }
  });

  it("QE after re-ranking averages the global descriptors, or the best regions as the authors' code does", async () => {
    const R = 4;
    const n = 2;
    // NC_re = 1: region descriptors (class 3) differ from the global ones (classes 3, 7) even for whole-image boxes.
    const base = { ...DEFAULT_SEARCH, aggregation: 'online' as const, nc: 2, rerank: R, ncRerank: 1 };
    const rr = await search(query(1, probs), collection(null), base, { w, whitening: null });
    const top = Array.from(rr.ranking.subarray(0, n));
    const cls = tf.tensor1d([3, 7], 'int32');
    const global = await Promise.all(images.map((X) => descriptorOf(cwDescriptor(X, w, cls))));
    const region = new Map(
      await Promise.all(
        Array.from(rr.rerank, async ([img, info]) => [img, Float32Array.from(await regionDescriptors(images[img], w, tf.tensor1d([3], 'int32'), [info.boxes[info.best]]).data())] as const),
      ),
    );
    const expand = (rows: Float32Array[]) => l2(Array.from(rows[0], (_, k) => rows.reduce((s, r) => s + r[k], 0)));

    const byGlobal = await search(query(1, probs), collection(null), { ...base, qe: n, qeSource: 'global' }, { w, whitening: null });
    const eg = expand(top.map((i) => global[i]));
    byGlobal.ranking.forEach((img, pos) => expect(byGlobal.scores[pos]).toBeCloseTo(dot(eg, global[img]), 5));

    const byRegion = await search(query(1, probs), collection(null), { ...base, qe: n, qeSource: 'region' }, { w, whitening: null });
    const er = expand(top.map((i) => region.get(i)!));
    // The re-ranked images are scored by their best region, the rest by their descriptor.
    byRegion.ranking.forEach((img, pos) => expect(byRegion.scores[pos]).toBeCloseTo(dot(er, region.get(img) ?? global[img]), 5));
    expect(Array.from(byRegion.scores)).not.toEqual(Array.from(byGlobal.scores));
  });

  it('alpha-QE adds the query and weights the top n by score^alpha', async () => {
    const r0 = await search(query(3, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null });
    const r = await search(query(3, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, qe: 3, qeAlpha: 3 }, { w, whitening: null });
    const cls = tf.tensor1d([3, 7], 'int32');
    const global = await Promise.all(images.map((X) => descriptorOf(cwDescriptor(X, w, cls))));
    const q = global[3]; // the query is image 3's whole map
    const e = l2(Array.from(q, (v, k) => v + [0, 1, 2].reduce((s, i) => s + Math.max(0, r0.scores[i]) ** 3 * global[r0.ranking[i]][k], 0)));
    r.ranking.forEach((img, pos) => expect(r.scores[pos]).toBeCloseTo(dot(e, global[img]), 5));
  });

  it('online aggregation over an OfA shortlist reads only the top M maps and keeps the rest in OfA order', async () => {
    const classes = tf.tensor2d(images.map(() => [1, 5]), [images.length, 2], 'int32');
    const db = cwDescriptors(padCellBatch(images), w, classes);
    const M = 3;
    const ofa = await search(query(2, probs), collection(db), { ...DEFAULT_SEARCH, nc: 2 }, { w, whitening: null });
    const col = collection(db);
    const r = await search(query(2, probs), col, { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, onlineShortlist: M }, { w, whitening: null });
    expect(new Set(col.reads)).toEqual(new Set(ofa.ranking.subarray(0, M)));
    expect(new Set(r.ranking.subarray(0, M))).toEqual(new Set(ofa.ranking.subarray(0, M)));
    expect(Array.from(r.ranking.subarray(M))).toEqual(Array.from(ofa.ranking.subarray(M)));
    const ona = await search(query(2, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2 }, { w, whitening: null });
    const onaScore = new Map(Array.from(ona.ranking, (img, pos) => [img, ona.scores[pos]]));
    const ofaScore = new Map(Array.from(ofa.ranking, (img, pos) => [img, ofa.scores[pos]]));
    r.ranking.subarray(0, M).forEach((img, pos) => expect(r.scores[pos]).toBeCloseTo(Math.max(onaScore.get(img)!, ofaScore.get(img)!), 5));
    // M = N is full OnA ordered by max(OfA, OnA); online without stored descriptors is still plain OnA.
    await expect(search(query(2, probs), collection(null), { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, onlineShortlist: M }, { w, whitening: null })).rejects.toThrow(/shortlist/);
  });
});

/**
 * CAM re-ranking on a constructed case. Four channels: 0 and 1 fire on the object (OBJ), 2 and 3 on background
 * texture (BG). Classes 0 and 1 are the object's, their classifier columns weigh the background a little (1/16 and
 * 1/8), class 2 is the background's. The query's crop probabilities rank classes 0, 1, 2.
 *
 * Worked out by hand (CW: CAM_c = relu(w_c . X) / max, CroW CW_k = ln(sum_n Q_n / Q_k), class vectors
 * CW * sum_cells CAM_c X, l2-normalised and summed):
 *  - the query box holds only OBJ cells: Q = (1, 1, 0, 0), flat CAMs, so q = (1, 1, 0, 0) / sqrt 2;
 *  - A, 8 x 8, OBJ = (2, 2, 0, 0) in its bottom-right 2 x 2 corner, BG = (0, 0, 4, 4) elsewhere: both CAMs are 2 on
 *    OBJ, on BG 0.5 and 1, normalised 0.25 and 0.5; pooled (8, 8, 60, 60) and (8, 8, 120, 120);
 *    Q = (1/16, 1/16, 15/16, 15/16), CW = (ln 32, ln 32, ln 32/15, ln 32/15); whole-image score ~0.41 (scoreA);
 *  - B, 5 x 5, (1, 1, 0.5, 0.5) everywhere: every CAM flat, equal CroW weights: score 2 / sqrt 5 (~0.89);
 *  - E, 4 x 4, (1, 1, 3, 3) everywhere: 1 / sqrt 10 (~0.32);
 *  - D, 5 x 5, BG everywhere: descriptor (0, 0, 1, 1) / sqrt 2, score 0.
 * Re-ranking heatmap = mean of the normalised CAMs of classes 0 and 1: on A 1 on the corner and 0.375 elsewhere,
 * so thresholds 0.01, 0.1, 0.2, 0.3 of the max keep all of A (whole image) and 0.4 keeps the corner: the corner
 * region holds only OBJ, so its descriptor is q's and its score 1. B, E and D have flat heatmaps: one region, the
 * whole image, scoring as before.
 */
describe('CAM re-ranking, constructed case', () => {
  const OBJ = [2, 2, 0, 0];
  const BG = [0, 0, 4, 4];
  const scene = (H: number, W: number, at: (x: number, y: number) => number[]) =>
    tf.tensor3d(Array.from({ length: H * W }, (_, p) => at(p % W, Math.floor(p / W))).flat(), [H, W, 4]);
  const [D, A, E, B] = [0, 1, 2, 3]; // image indices in the collection
  const whole = (n: number) => ({ x: 0, y: 0, w: n, h: n });
  const corner = { x: 6, y: 6, w: 2, h: 2 };
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const crowA = [Math.log(32), Math.log(32), Math.log(32 / 15), Math.log(32 / 15)];
  const classVector = (pooled: number[]) => unit(pooled.map((v, k) => v * crowA[k]));
  const [c0, c1] = [classVector([8, 8, 60, 60]), classVector([8, 8, 120, 120])];
  const descriptorA = unit(c0.map((v, k) => v + c1[k]));
  const scoreA = (descriptorA[0] + descriptorA[1]) / Math.SQRT2;
  const [scoreB, scoreE] = [2 / Math.sqrt(5), 1 / Math.sqrt(10)];
  let wc: tf.Tensor2D;
  let maps: tf.Tensor3D[];
  let q: Query;

  beforeAll(() => {
    wc = tf.tensor2d([[1, 0, 0], [0, 1, 0], [1 / 16, 1 / 8, 1], [1 / 16, 1 / 8, 1]]);
    maps = [
      scene(5, 5, () => BG),
      scene(8, 8, (x, y) => (x >= 6 && y >= 6 ? OBJ : BG)),
      scene(4, 4, () => [1, 1, 3, 3]),
      scene(5, 5, () => [1, 1, 0.5, 0.5]),
    ];
    const X = scene(4, 4, (x, y) => (x >= 1 && x <= 2 && y >= 1 && y <= 2 ? OBJ : BG));
    q = { X, grid: grid(4, 4), box: { x: 1, y: 1, w: 2, h: 2 }, cropProbabilities: [0.5, 0.3, 0.2] };
  });

  const scenes = (): Collection & { reads: number[] } => {
    const reads: number[] = [];
    return { size: 4, grids: maps.map((m) => grid(m.shape[0], m.shape[1])), offlineDescriptors: null, reads, maps: async (ids) => (reads.push(...ids), ids.map((i) => tf.clone(maps[i]))) };
  };
  // Chunks of 2: re-ranking batches B and A together (zero-padded to A's 64 cells).
  const run = (rerank: number, col = scenes()) =>
    search(q, col, { ...DEFAULT_SEARCH, aggregation: 'online', nc: 2, rerank, ncRerank: 2 }, { w: wc, whitening: null, chunkSize: 2 });

  it('without re-ranking: the distractor B ranks above A, whose object is small and in a corner', async () => {
    const r = await run(0);
    expect(r.queryClasses).toEqual([0, 1]);
    expect(Array.from(r.ranking)).toEqual([B, A, E, D]);
    [scoreB, scoreA, scoreE, 0].forEach((s, i) => expect(r.scores[i]).toBeCloseTo(s, 5));
  });

  it('re-ranking the top 2 finds the corner box of A and moves A above B; E and D, below R, are not read again', async () => {
    const col = scenes();
    const r = await run(2, col);
    expect(Array.from(r.ranking)).toEqual([A, B, E, D]);
    [1, scoreB, scoreE, 0].forEach((s, i) => expect(r.scores[i]).toBeCloseTo(s, 5));
    const infoA = r.rerank.get(A)!;
    expect(infoA.boxes).toEqual([whole(8), whole(8), whole(8), whole(8), corner]);
    expect(infoA.boxes[infoA.best]).toEqual(corner);
    [scoreA, scoreA, scoreA, scoreA, 1].forEach((s, i) => expect(infoA.regionScores[i]).toBeCloseTo(s, 5));
    expect(r.rerank.get(B)!.boxes).toEqual(new Array(5).fill(whole(5)));
    expect([...r.rerank.keys()].sort()).toEqual([A, B]);
    // Online aggregation reads every image once; re-ranking reads the top R once more.
    expect(col.reads.slice(4).sort()).toEqual([A, B]);
  });

  it('re-ranking only the top 1 leaves A where it was: only the top R are reordered', async () => {
    const r = await run(1);
    expect(Array.from(r.ranking)).toEqual([B, A, E, D]);
    expect([...r.rerank.keys()]).toEqual([B]);
  });

  it('re-ranking everything: E and D keep their whole-image scores, D (all background) stays last', async () => {
    const r = await run(4);
    expect(Array.from(r.ranking)).toEqual([A, B, E, D]);
    [1, scoreB, scoreE, 0].forEach((s, i) => expect(r.scores[i]).toBeCloseTo(s, 5));
    expect(r.rerank.get(E)!.boxes).toEqual(new Array(5).fill(whole(4)));
    expect(r.rerank.get(D)!.boxes).toEqual(new Array(5).fill(whole(5)));
  });
});

/**
 * Query expansion on a constructed case. The query (2 cells, X = (1, 0, 0) and (1, 1, 0), class 0 with classifier
 * column (1, 0, 0)) has flat CAMs, CroW Q = (1, 1/2, 0), CW = (ln 1.5, ln 3, 0), pooled (2, 1, 0): its descriptor
 * is u = unit(2 ln 1.5, ln 3, 0). With v orthogonal to u in the same plane and e3 = (0, 0, 1), the stored OfA
 * descriptors are d0, d1, d2 at 10, 30 and 50 degrees from u towards v, and d3 at 45 degrees from u towards e3.
 * Plain ranking: cos 10, cos 30, cos 45, cos 50: d0, d1, d3, d2. QE with n = 2 searches with the mean of d0 and d1,
 * the direction at 20 degrees: d0 and d1 score cos 10, d2 cos 30, d3 cos 45 cos 20: d2 now ranks above d3.
 */
describe('query expansion, constructed case', () => {
  const deg = Math.PI / 180;
  const u = ((v: number[]) => v.map((x) => x / Math.hypot(...v)))([2 * Math.log(1.5), Math.log(3), 0]);
  const v = [-u[1], u[0], 0];
  const inPlane = (a: number) => u.map((x, k) => Math.cos(a * deg) * x + Math.sin(a * deg) * v[k]);
  const d3 = u.map((x, k) => Math.cos(45 * deg) * x + Math.sin(45 * deg) * [0, 0, 1][k]);
  const run = (qe: number) => {
    const X = tf.tensor3d([[[1, 0, 0], [1, 1, 0]]]);
    const w3 = tf.tensor2d([[1, 0], [0, 0], [0, 1]]);
    const db = tf.tensor2d([inPlane(10), inPlane(30), inPlane(50), d3]);
    const col: Collection = { size: 4, grids: Array(4).fill(grid(1, 2)), offlineDescriptors: db, maps: async () => [] };
    return search({ X, grid: grid(1, 2), box: { x: 0, y: 0, w: 2, h: 1 }, cropProbabilities: [0.9, 0.1] }, col, { ...DEFAULT_SEARCH, nc: 1, qe }, { w: w3, whitening: null });
  };

  it('without QE ranks by the cosine with the query', async () => {
    const r = await run(0);
    expect(Array.from(r.ranking)).toEqual([0, 1, 3, 2]);
    [10, 30, 45, 50].forEach((a, i) => expect(r.scores[i]).toBeCloseTo(Math.cos(a * deg), 5));
  });

  it('QE with n = 2 searches with the mean of the top 2, which lifts d2 above d3', async () => {
    const r = await run(2);
    expect(new Set(r.ranking.subarray(0, 2))).toEqual(new Set([0, 1]));
    expect(Array.from(r.ranking.subarray(2))).toEqual([2, 3]);
    [Math.cos(10 * deg), Math.cos(10 * deg), Math.cos(30 * deg), Math.cos(45 * deg) * Math.cos(20 * deg)].forEach((s, i) => expect(r.scores[i]).toBeCloseTo(s, 5));
  });
});
