/**
 * The ranking steps beyond the paper on constructed cases, cpu backend: monotone merging of a re-scored prefix,
 * the descriptor layouts (rows, blocks, overlays), alpha-QE and alpha-DBA, diffusion and SuperGlobal re-ranking.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { queryExpansion } from '../../src/cw/ranking';
import { allScores, gatherRows, type Database } from '../../src/search/descriptorLayouts';
import { BlockedDescriptors } from '../../src/search/descriptorBlocks';
import { conjugateGradient, diffuse, diffusionScores, DIFFUSION_DEFAULTS } from '../../src/search/diffusion';
import { alphaWeights, databaseAugmentation, expandedQuery } from '../../src/search/expansion';
import { assertMonotone, mergePrefix, type Ranked } from '../../src/search/ordering';
import { refineByNeighbours, superGlobalRerank, SUPERGLOBAL_DEFAULTS } from '../../src/search/superGlobal';
import { seededValues } from '../../scripts/lib/random';

const l2 = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
/** Unit vectors in the plane at these angles (degrees). */
const atAngles = (deg: number[]) => deg.map((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]);
const ranked = (ranking: number[], scores: number[]): Ranked => ({ ranking: Int32Array.from(ranking), scores: Float32Array.from(scores), kinds: ranking.map(() => 'cosine') });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mergePrefix', () => {
  it('keys the re-scored prefix by max(prior, fresh): monotone, with the kind that won; replace is the paper order', () => {
    const prior = ranked([7, 3, 5, 1], [0.9, 0.8, 0.7, 0.6]);
    const r = mergePrefix(prior, 2, [0.5, 0.95], 'region');
    expect(Array.from(r.ranking)).toEqual([3, 7, 5, 1]);
    expect(r.scores).toEqual(Float32Array.from([0.95, 0.9, 0.7, 0.6]));
    expect(r.kinds).toEqual(['region', 'cosine', 'cosine', 'cosine']);
    expect(() => assertMonotone(r, 'max')).not.toThrow();
    const paper = mergePrefix(prior, 2, [0.5, 0.65], 'region', 'replace');
    expect(Array.from(paper.ranking)).toEqual([3, 7, 5, 1]);
    expect(paper.kinds).toEqual(['region', 'region', 'cosine', 'cosine']);
    expect(() => assertMonotone(paper, 'replace')).toThrow(/above/);
  });

  it('on a prior of another scale, raises each prior score by what the new score gains over its base', () => {
    // SuperGlobal-like prior scores above 1; the photos' cosines are the base of the region scores.
    const prior: Ranked = { ...ranked([4, 2, 9], [1.3, 1.2, 1.1]), kinds: ['refined', 'refined', 'refined'] };
    const r = mergePrefix(prior, 2, [0.75, 0.9], 'region', 'boost', [0.8, 0.7]);
    expect(Array.from(r.ranking)).toEqual([2, 4, 9]);
    expect(r.scores[0]).toBeCloseTo(1.4, 6);
    expect(r.scores[1]).toBeCloseTo(1.3, 6);
    expect(r.kinds).toEqual(['region', 'refined', 'refined']);
    expect(() => assertMonotone(r, 'boost')).not.toThrow();
  });
});

describe('descriptor layouts', () => {
  it('rows, column blocks and overlays give the same rows and scores', async () => {
    const N = 10, D = 4;
    const rows = Array.from({ length: N }, (_, i) => l2(Array.from(seededValues(D, 20 + i, 0), (v) => v - 0.3)));
    const flat = tf.tensor2d(rows);
    const blocks = new BlockedDescriptors(3);
    blocks.sync(N, D, (i) => rows[i]);
    const q = tf.tensor1d(rows[4]);
    const images = [9, 0, 4, 3, 7];
    for (const db of [flat, blocks] as Database[]) {
      expect(await gatherRows(db, images).array()).toEqual(images.map((i) => Array.from(Float32Array.from(rows[i]))));
      const s = await allScores(db, q);
      rows.forEach((r, i) => expect(s[i]).toBeCloseTo(dot(r, rows[4]), 6));
    }
    // An overlay replaces images 3 and 9.
    const over = [l2([1, 0, 0, 1]), l2([0, 1, 1, 0])];
    const overlay: Database = { base: blocks, images: [3, 9], rows: tf.tensor2d(over) };
    const expected = images.map((i) => (i === 3 ? over[0] : i === 9 ? over[1] : rows[i]));
    const got = await gatherRows(overlay, images).array();
    got.forEach((r, j) => r.forEach((v, k) => expect(v).toBeCloseTo(expected[j][k], 6)));
    const s = await allScores(overlay, q);
    expect(s[3]).toBeCloseTo(dot(over[0], rows[4]), 6);
    expect(s[9]).toBeCloseTo(dot(over[1], rows[4]), 6);
    expect(s[4]).toBeCloseTo(1, 6);
    blocks.dispose();
  });
});

describe('alpha-QE and alpha-DBA', () => {
  it("alpha = 0 is the paper's QE; alpha > 0 adds the query and weights max(0, s)^alpha", async () => {
    const rows = atAngles([0, 20, 40, 100]);
    const db = tf.tensor2d(rows);
    const q = tf.tensor1d(l2([1, 0.1]));
    const top = [0, 1, 3];
    const scores = top.map((i) => dot(rows[i], l2([1, 0.1])));
    expect(await expandedQuery(db, top, scores, 0, q).array()).toEqual(await queryExpansion(db, top, 3, q).array());
    expect(alphaWeights([0.5, -0.2], 3)).toEqual([0.125, 0]);
    const e = await expandedQuery(db, top, scores, 3, q).array();
    const want = l2([0, 1].map((k) => l2([1, 0.1])[k] + top.reduce((s, i, r) => s + Math.max(0, scores[r]) ** 3 * rows[i][k], 0)));
    e.forEach((v, k) => expect(v).toBeCloseTo(want[k], 6));
  });

  it('alpha-DBA replaces each descriptor by l2(itself + its n nearest weighted by s^alpha)', async () => {
    const rows = atAngles([0, 30, 50, 170]);
    const out = await (await databaseAugmentation(tf.tensor2d(rows), 1, 3, 3)).array();
    const cos = (i: number, j: number) => dot(rows[i], rows[j]);
    // Nearest other: 0 -> 1, 1 -> 2, 2 -> 1, 3 -> 2 (cos 170-50 = 120 degrees < 0: weight 0).
    const want = [[0, 1], [1, 2], [2, 1], [3, 2]].map(([i, j]) => l2([0, 1].map((k) => rows[i][k] + Math.max(0, cos(i, j)) ** 3 * rows[j][k])));
    out.forEach((r, i) => r.forEach((v, k) => expect(v).toBeCloseTo(want[i][k], 5)));
    // The chunked path (2 rows at a time) gives the same.
    expect(await (await databaseAugmentation(tf.tensor2d(rows), 1, 3, 2)).array()).toEqual(out);
  });
});

describe('diffusion', () => {
  it('conjugate gradient solves a symmetric positive definite system', () => {
    const A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]];
    const x = conjugateGradient((v) => Float64Array.from(A.map((row) => dot(row, v))), Float64Array.from([1, 2, 3]), 20, 1e-12);
    A.forEach((row, i) => expect(dot(row, x)).toBeCloseTo([1, 2, 3][i], 9));
  });

  it('follows the manifold: the far end of a chain of neighbours outranks a closer image off the chain', async () => {
    // A chain at 0..80 degrees (10 apart) and an isolated pair at -45, -50. Query at 0 degrees.
    const deg = [0, 10, 20, 30, 40, 50, 60, 70, 80, -45, -50];
    const rows = atAngles(deg);
    const M = rows.length;
    const sims = Float32Array.from({ length: M * M }, (_, t) => dot(rows[Math.floor(t / M)], rows[t % M]));
    const opts = { ...DIFFUSION_DEFAULTS, k: 3, kq: 2 };
    const y = Float64Array.from(deg, (d) => (d === 0 || d === 10 ? Math.cos((d * Math.PI) / 180) ** 3 : 0));
    const f = diffusionScores(sims, M, y, opts);
    expect(f[8]).toBeGreaterThan(0); // 80 degrees: cosine 0.17
    expect(f[9]).toBe(0); // -45 degrees: cosine 0.71, not connected to the chain
    expect(dot(rows[9], rows[0])).toBeGreaterThan(dot(rows[8], rows[0]));
    // Through diffuse(): a ranking by cosine, truncated to the top M; the rest scores 0.
    const db = tf.tensor2d([...rows, ...atAngles([180])]);
    const order = Array.from(rankByCosine(db.arraySync(), [1, 0]));
    const scores = order.map((i) => dot(db.arraySync()[i], [1, 0]));
    const r = await diffuse(db, { ranking: Int32Array.from(order), scores: Float32Array.from(scores), kinds: order.map(() => 'cosine') }, M, opts);
    expect(r.kinds.every((k) => k === 'diffusion')).toBe(true);
    expect(() => assertMonotone(r, 'diffusion')).not.toThrow();
    expect(r.scores[0]).toBe(1);
    expect(Array.from(r.ranking).indexOf(8)).toBeLessThan(Array.from(r.ranking).indexOf(9));
    expect(r.ranking[M]).toBe(11);
    expect(r.scores[M]).toBe(0);
  });
});

function rankByCosine(rows: number[][], q: number[]): number[] {
  return rows.map((r, i) => [dot(r, q), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
}

describe('SuperGlobal re-ranking', () => {
  it('refines each descriptor by its K nearest (itself weight 1, others beta x similarity)', async () => {
    const rows = atAngles([0, 20, 90]);
    const refined = await (await refineByNeighbours(tf.tensor2d(rows), { ...SUPERGLOBAL_DEFAULTS, K: 1, beta: 0.15 })).array();
    const c = (i: number, j: number) => dot(rows[i], rows[j]);
    const nearest = [1, 0, 1];
    nearest.forEach((j, i) => {
      const wj = 0.15 * c(i, j);
      [0, 1].forEach((k) => expect(refined[i][k]).toBeCloseTo((rows[i][k] + wj * rows[j][k]) / (1 + wj), 6));
    });
  });

  it("scores (q . x' + maxpool . x') / 2, refined in the top M, own descriptor outside; monotone; raw or l2-normalised", async () => {
    const rows = atAngles([0, 15, 30, 60, 100, 140]);
    const db = tf.tensor2d(rows);
    const q = [Math.cos(0.1), Math.sin(0.1)];
    const order = rankByCosine(rows, q);
    const prior = ranked(order, order.map((i) => dot(rows[i], q)));
    const M = 4, K = 1, beta = 0.15;
    for (const normalize of [false, true]) {
      const r = await superGlobalRerank(db, tf.tensor1d(q), prior, M, rows.length, undefined, { ...SUPERGLOBAL_DEFAULTS, K, beta, normalize });
      expect(r.kinds.every((k) => k === 'refined')).toBe(true);
      expect(() => assertMonotone(r, 'superglobal')).not.toThrow();
      // By hand.
      const top = order.slice(0, M);
      const unit = (v: number[]) => (normalize ? l2(v) : v);
      const refined = new Map(top.map((i) => {
        const j = top.filter((t) => t !== i).sort((a, b) => dot(rows[b], rows[i]) - dot(rows[a], rows[i]))[0];
        const wj = beta * dot(rows[i], rows[j]);
        return [i, unit([0, 1].map((k) => (rows[i][k] + wj * rows[j][k]) / (1 + wj)))];
      }));
      const x = (i: number) => refined.get(i) ?? rows[i];
      const best = top.slice().sort((a, b) => dot(x(b), q) - dot(x(a), q)).slice(0, K + 1);
      const pooled = unit([0, 1].map((k) => Math.max(...best.map((i) => x(i)[k]))));
      r.ranking.forEach((img, pos) => expect(r.scores[pos]).toBeCloseTo((dot(q, x(img)) + dot(pooled, x(img))) / 2, 5));
    }
  });
});
