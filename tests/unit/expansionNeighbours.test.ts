/**
 * Expansion neighbours (src/search/expansionNeighbours.ts) on hand-made cases: a query with two true matches close to
 * it and a tight cluster of four distractors a little further away, the regime where QE and SuperGlobal over the top
 * n pull the query towards the distractors. Every expected value is worked out from the angles.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { validateSearchParams } from '../../src/search/controls';
import { beforeLargestGap, expansionNeighbours, reciprocalWithQuery } from '../../src/search/expansionNeighbours';
import type { Ranked } from '../../src/search/ordering';
import { search } from '../../src/search/search';
import { superGlobalRerank, SUPERGLOBAL_DEFAULTS } from '../../src/search/superGlobal';
import { DEFAULT_SEARCH, type Collection, type SearchParams } from '../../src/search/types';

const deg = Math.PI / 180;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

/**
 * The query descriptor u of a one-class query (tests/unit/search.test.ts, "query expansion, constructed case"): 2
 * cells X = (1, 0, 0) and (1, 1, 0), classifier column (1, 0, 0): u = unit(2 ln 1.5, ln 3, 0). Photos at angles from u
 * towards v in u's plane: matches m1 at 10 and m2 at 14 degrees, distractors t1..t4 at 30, 31, 32, 33 (one cluster).
 */
const u = ((v: number[]) => v.map((x) => x / Math.hypot(...v)))([2 * Math.log(1.5), Math.log(3), 0]);
const v = [-u[1], u[0], 0];
const inPlane = (a: number) => u.map((x, k) => Math.cos(a * deg) * x + Math.sin(a * deg) * v[k]);
const ANGLES = [10, 14, 30, 31, 32, 33];
const grid = { H: 1, W: 2, cellWidth: 32, cellHeight: 32, imageWidth: 64, imageHeight: 32 };

function run(params: Partial<SearchParams>) {
  const X = tf.tensor3d([[[1, 0, 0], [1, 1, 0]]]);
  const w3 = tf.tensor2d([[1, 0], [0, 0], [0, 1]]);
  const db = tf.tensor2d(ANGLES.map(inPlane));
  const col: Collection = { size: ANGLES.length, grids: Array(ANGLES.length).fill(grid), offlineDescriptors: db, maps: async () => [] };
  return search({ X, grid, box: { x: 0, y: 0, w: 2, h: 1 }, cropProbabilities: [0.9, 0.1] }, col, { ...DEFAULT_SEARCH, nc: 1, ...params }, { w: w3, whitening: null });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the rules', () => {
  it('gap: the scores before the largest drop among the first n + 1', () => {
    const s = [0.98, 0.97, 0.87, 0.86, 0.85];
    expect(beforeLargestGap(s, 4)).toBe(2);
    // n = 1 still sees the drop to s[1] only: one photo.
    expect(beforeLargestGap(s, 1)).toBe(1);
    expect(beforeLargestGap([0.9, 0.8, 0.7, 0.2], 3)).toBe(3);
    expect(beforeLargestGap([0.9], 5)).toBe(1);
  });

  it('reciprocal: a match with fewer than k photos closer to it than the query stays, a cluster member does not', async () => {
    const db = tf.tensor2d(ANGLES.map(inPlane));
    const q = tf.tensor1d(u);
    // m1: only m2 (4 degrees) is closer than the query (10); m2: only m1. t1: t2, t3, t4 and m2 (16 degrees) are
    // closer than the query (30 degrees).
    expect(await reciprocalWithQuery(db, q, [0, 1, 2, 3], 2)).toEqual([true, true, false, false]);
    // t1 has five photos closer than the query (t2..t4, m2 at 16, m1 at 20): in with k = 6, out with k = 5.
    expect(await reciprocalWithQuery(db, q, [2], 6)).toEqual([true]);
    expect(await reciprocalWithQuery(db, q, [2], 5)).toEqual([false]);
    // Photos outside the scope do not count: without t2..t4, t1 has only m2 (16) and m1 (20) closer than the query (30).
    expect(await reciprocalWithQuery(db, q, [2], 2, Uint8Array.from([1, 1, 1, 0, 0, 0]))).toEqual([false]);
    expect(await reciprocalWithQuery(db, q, [2], 3, Uint8Array.from([1, 1, 1, 0, 0, 0]))).toEqual([true]);
  });

  it('positions kept of the top n, with a minimum score', async () => {
    const db = tf.tensor2d(ANGLES.map(inPlane));
    const q = tf.tensor1d(u);
    const ranking = [0, 1, 2, 3, 4, 5];
    const scores = ANGLES.map((a) => Math.cos(a * deg));
    expect(await expansionNeighbours(ranking, scores, 4, { rule: 'top', k: 2 }, db, q)).toEqual([0, 1, 2, 3]);
    expect(await expansionNeighbours(ranking, scores, 4, { rule: 'reciprocal', k: 2 }, db, q)).toEqual([0, 1]);
    expect(await expansionNeighbours(ranking, scores, 4, { rule: 'gap', k: 2 }, db, q)).toEqual([0, 1]);
    expect(await expansionNeighbours(ranking, scores, 4, { rule: 'top', k: 2, minScore: Math.cos(12 * deg) }, db, q)).toEqual([0]);
  });
});

describe('QE with the rules, in search()', () => {
  it("'top' averages the top 4, two of them distractors: m1 falls below t1, t2 and t3", async () => {
    const r = await run({ qe: 4 });
    // The paper's QE: the mean of 10, 14, 30 and 31 degrees, the direction at 21.25.
    const e = 21.25;
    expect(Array.from(r.ranking)).toEqual([1, 2, 3, 4, 0, 5]);
    Array.from(r.ranking).forEach((img, i) => expect(r.scores[i]).toBeCloseTo(Math.cos((ANGLES[img] - e) * deg), 4));
  });

  it("'reciprocal' and 'gap' average m1 and m2 only: the matches stay first", async () => {
    for (const qeNeighbours of ['reciprocal', 'gap'] as const) {
      const r = await run({ qe: 4, qeNeighbours, reciprocalK: 2 });
      expect(Array.from(r.ranking)).toEqual([0, 1, 2, 3, 4, 5]);
      Array.from(r.ranking).forEach((img, i) => expect(r.scores[i]).toBeCloseTo(Math.cos((ANGLES[img] - 12) * deg), 4));
      expect(r.scoreKinds.every((k) => k === 'expanded')).toBe(true);
    }
  });

  it('in a small collection k is at most half the other photos: the default k = 10 keeps m1 and m2 only here', async () => {
    // 5 other photos: k = 2, as above. Uncapped, k = 10 would keep all four (every photo has the query among its 10
    // nearest) and give the 'top' ranking [1, 2, 3, 4, 0, 5].
    const r = await run({ qe: 4, qeNeighbours: 'reciprocal' });
    expect(Array.from(r.ranking)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('no neighbour kept: the ranking is left as it was (cosines)', async () => {
    const r = await run({ qe: 4, qeMinScore: 0.999 });
    expect(Array.from(r.ranking)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.scoreKinds.every((k) => k === 'cosine')).toBe(true);
    ANGLES.forEach((a, i) => expect(r.scores[i]).toBeCloseTo(Math.cos(a * deg), 5));
  });
});

describe('SuperGlobal with the rules', () => {
  const db = () => tf.tensor2d(ANGLES.map(inPlane));
  const prior: Ranked = { ranking: Int32Array.from([0, 1, 2, 3, 4, 5]), scores: Float32Array.from(ANGLES, (a) => Math.cos(a * deg)), kinds: ANGLES.map(() => 'cosine') };

  /** By hand: refined descriptors (K nearest among the top M), s1, the max-pool of `pool` and the score. */
  function expected(K: number, pool: (s1: number[]) => number[]): number[] {
    const rows = ANGLES.map(inPlane);
    const refined = rows.map((x, i) => {
      const near = rows.map((y, j) => [dot(x, y), j]).filter(([, j]) => j !== i).sort((a, b) => b[0] - a[0]).slice(0, K);
      const total = 1 + near.reduce((s, [c]) => s + 0.15 * c, 0);
      return x.map((xk, k) => (xk + near.reduce((s, [c, j]) => s + 0.15 * c * rows[j][k], 0)) / total);
    });
    const s1 = refined.map((x) => dot(x, u));
    const chosen = pool(s1);
    const pooled = chosen.length ? [0, 1, 2].map((k) => Math.max(...chosen.map((i) => refined[i][k]))) : u;
    return refined.map((x, i) => (s1[i] + dot(pooled, x)) / 2);
  }
  const bestBy = (s1: number[], n: number) => s1.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, n).map(([, i]) => i);

  it("the query side pools the K + 1 best ('top'), or only those the rule keeps ('reciprocal': m1 and m2)", async () => {
    const K = 3;
    for (const [rule, pool] of [['top', (s1: number[]) => bestBy(s1, K + 1)], ['reciprocal', (s1: number[]) => bestBy(s1, K + 1).filter((i) => i < 2)]] as const) {
      const r = await superGlobalRerank(db(), tf.tensor1d(u), prior, 6, 6, undefined, { ...SUPERGLOBAL_DEFAULTS, K, select: { rule, k: 2 } });
      const want = expected(K, pool);
      Array.from(r.ranking).forEach((img, i) => expect(r.scores[i]).toBeCloseTo(want[img], 5));
      expect(r.kinds.every((k) => k === 'refined')).toBe(true);
    }
  });

  it('nothing kept: the query side is the query itself, the score is s1', async () => {
    const r = await superGlobalRerank(db(), tf.tensor1d(u), prior, 6, 6, undefined, { ...SUPERGLOBAL_DEFAULTS, K: 2, select: { rule: 'top', k: 2, minScore: 2 } });
    const want = expected(2, () => []);
    Array.from(r.ranking).forEach((img, i) => expect(r.scores[i]).toBeCloseTo(want[img], 5));
  });
});

describe('parameters', () => {
  it('rejects unknown rules and out-of-range K, beta, k and thresholds with a specific message', () => {
    const p = { ...DEFAULT_SEARCH };
    expect(() => validateSearchParams({ ...p, qeNeighbours: 'best' as never })).toThrow(/QE neighbours must be top, reciprocal, gap, got best/);
    expect(() => validateSearchParams({ ...p, superGlobalNeighbours: 'x' as never })).toThrow(/SuperGlobal neighbours must be/);
    expect(() => validateSearchParams({ ...p, superGlobalK: 0 })).toThrow(/SuperGlobal neighbours K must be a whole number from 1/);
    expect(() => validateSearchParams({ ...p, reciprocalK: 2.5 })).toThrow(/Reciprocal neighbours k must be a whole number/);
    expect(() => validateSearchParams({ ...p, superGlobalBeta: -1 })).toThrow(/SuperGlobal beta must be a number from 0 to 10/);
    expect(() => validateSearchParams({ ...p, qeMinScore: Number.NaN })).toThrow(/QE minimum score must be a finite number/);
    expect(() => validateSearchParams({ ...p, qeNeighbours: 'reciprocal', reciprocalK: 20, superGlobalK: 3, superGlobalBeta: 0.15, qeMinScore: 0.5 })).not.toThrow();
  });
});
