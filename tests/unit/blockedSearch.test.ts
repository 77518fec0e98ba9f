/**
 * OfA on the app's resident layout (descriptors transposed in column blocks, src/search/descriptorBlocks.ts) and
 * the `limit` of search(): the same ranking and scores as the plain [N, D] full ranking, ties included, after
 * appends and removals across block boundaries; topRanking is the prefix of rankDescending. cpu backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Grid } from '../../src/cw/boxes';
import { rankDescending, topRanking } from '../../src/cw/ranking';
import { BlockedDescriptors } from '../../src/search/descriptorBlocks';
import { search } from '../../src/search/search';
import { DEFAULT_SEARCH, type Collection, type Query, type SearchParams } from '../../src/search/types';
import { seededValues } from '../../scripts/lib/random';

const K = 8;
const C = 12;
const BLOCK = 4;
let w: tf.Tensor2D;

const grid = (H: number, W: number): Grid => ({ H, W, cellWidth: 32, cellHeight: 32, imageWidth: W * 32, imageHeight: H * 32 });

/** N l2-normalised descriptors; some are copies of earlier ones (exact ties), one across a block boundary. */
function descriptors(N: number, seed: number): Float32Array[] {
  const rows = Array.from({ length: N }, (_, i) => {
    const v = seededValues(K, seed + i, 0.2).map((x) => x - 0.4);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  for (const [copy, of] of [[5, 1], [9, 2], [10, 9]]) if (copy < N) rows[copy] = Float32Array.from(rows[of]);
  return rows;
}

function collectionOf(rows: Float32Array[], offline: Collection['offlineDescriptors']): Collection {
  const sizes = rows.map((_, i) => [2 + (i % 3), 3 + (i % 2)] as const);
  return {
    size: rows.length,
    grids: sizes.map(([H, W]) => grid(H, W)),
    offlineDescriptors: offline,
    maps: async (indices) => indices.map((i) => tf.tensor3d(seededValues(sizes[i][0] * sizes[i][1] * K, 500 + i), [sizes[i][0], sizes[i][1], K])),
  };
}

function theQuery(): Query {
  const X = tf.tensor3d(seededValues(3 * 4 * K, 77), [3, 4, K]);
  const probs = Array.from({ length: C }, (_, c) => (c === 4 ? 0.4 : c === 9 ? 0.3 : 0.3 / (C - 2)));
  return { X, grid: grid(3, 4), box: { x: 0, y: 0, w: 4, h: 3 }, cropProbabilities: probs };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(seededValues(K * C, 3, 0).map((v) => v - 0.5), [K, C]);
});

describe('topRanking', () => {
  it('is the first k of rankDescending, ties by index and NaN last', () => {
    const scores = Float32Array.from(seededValues(200, 11, 0.1), (v, i) => (i % 17 === 0 ? NaN : i % 5 === 0 ? 0.5 : Math.round(v * 40) / 40));
    const full = Array.from(rankDescending(scores));
    for (const k of [0, 1, 2, 7, 49, 50, 51, 120, 199, 200, 500]) {
      expect(Array.from(topRanking(scores, k))).toEqual(full.slice(0, k));
    }
  });
});

describe('blocked, transposed OfA descriptors', () => {
  it('search on the blocks equals the full [N, D] ranking, after appends across a block boundary and a removal', async () => {
    const all = descriptors(14, 40);
    const blocks = new BlockedDescriptors(BLOCK);
    const params: SearchParams[] = [
      { ...DEFAULT_SEARCH, nc: 2 },
      { ...DEFAULT_SEARCH, nc: 2, limit: 3 },
      { ...DEFAULT_SEARCH, nc: 2, qe: 3 },
      { ...DEFAULT_SEARCH, nc: 2, qe: 3, limit: 2 },
      { ...DEFAULT_SEARCH, nc: 2, rerank: 4, ncRerank: 2, limit: 2 },
      { ...DEFAULT_SEARCH, nc: 2, rerank: 5, ncRerank: 2, qe: 2, limit: 6 },
    ];
    const query = theQuery();
    const check = async (rows: Float32Array[]) => {
      const flat = new Float32Array(rows.length * K);
      rows.forEach((r, i) => flat.set(r, i * K));
      const db = tf.tensor2d(flat, [rows.length, K]);
      for (const p of params) {
        const plain = await search(query, collectionOf(rows, db), { ...p, limit: undefined }, { w, whitening: null });
        const before = tf.memory().numTensors;
        const fast = await search(query, collectionOf(rows, blocks), p, { w, whitening: null });
        expect(tf.memory().numTensors).toBe(before);
        const n = Math.min(p.limit ?? rows.length, rows.length);
        expect(fast.ranking.length).toBe(n);
        expect(Array.from(fast.ranking)).toEqual(Array.from(plain.ranking.subarray(0, n)));
        expect(Array.from(fast.scores)).toEqual(Array.from(plain.scores.subarray(0, n)));
        // The plain layout with the same limit: the same prefix.
        const limited = await search(query, collectionOf(rows, db), p, { w, whitening: null });
        expect(Array.from(limited.ranking)).toEqual(Array.from(fast.ranking));
      }
      // The copies tie exactly and keep index order (checked above to be the same in both layouts).
      const plain = await search(query, collectionOf(rows, db), { ...DEFAULT_SEARCH, nc: 2 }, { w, whitening: null });
      const ties = Array.from(plain.ranking).filter((img, r) => r > 0 && plain.scores[r] === plain.scores[r - 1] && img > plain.ranking[r - 1]);
      expect(ties.length).toBeGreaterThan(0);
      db.dispose();
    };

    let rows = all.slice(0, 6);
    blocks.sync(rows.length, K, (i) => rows[i], 0);
    expect(blocks.blocks.map((b) => b.shape)).toEqual([[K, 4], [K, 2]]);
    await check(rows);
    await blocks.warmUp();

    // Appending 5 photos: the full first block is kept (same tensor), the rest rebuilt across the boundary.
    const first = blocks.blocks[0];
    rows = all.slice(0, 11);
    blocks.sync(rows.length, K, (i) => rows[i], 6);
    expect(blocks.blocks[0]).toBe(first);
    expect(blocks.blocks.map((b) => b.shape[1])).toEqual([4, 4, 3]);
    await check(rows);

    // Nothing changed: every block kept, the last partial one too.
    const kept = [...blocks.blocks];
    blocks.sync(rows.length, K, (i) => rows[i], rows.length);
    expect(blocks.blocks).toEqual(kept);
    blocks.blocks.forEach((b, i) => expect(b).toBe(kept[i]));

    // One more, then a removal in the second block: the later photos move up.
    rows = all.slice(0, 12);
    blocks.sync(rows.length, K, (i) => rows[i], 11);
    await check(rows);
    rows = [...rows.slice(0, 6), ...rows.slice(7), all[13]];
    blocks.sync(rows.length, K, (i) => rows[i], 6);
    expect(blocks.blocks[0]).toBe(first);
    expect(blocks.blocks.map((b) => b.shape[1])).toEqual([4, 4, 4]);
    expect(blocks.size).toBe(12);
    await check(rows);

    const fresh = new BlockedDescriptors(BLOCK);
    fresh.sync(rows.length, K, (i) => rows[i], 0);
    for (let b = 0; b < 3; b++) expect(Array.from(blocks.blocks[b].dataSync())).toEqual(Array.from(fresh.blocks[b].dataSync()));
    fresh.dispose();
    blocks.dispose();
    query.X.dispose();
    expect(blocks.blocks.length).toBe(0);
  });

  it('rejects a descriptor of the wrong length and a bad limit', async () => {
    const blocks = new BlockedDescriptors(BLOCK);
    expect(() => blocks.sync(2, K, (i) => new Float32Array(i === 1 ? K - 1 : K))).toThrow(/dimensions/);
    blocks.dispose();
    const query = theQuery();
    const rows = descriptors(3, 1);
    const ok = new BlockedDescriptors(BLOCK);
    ok.sync(3, K, (i) => rows[i]);
    await expect(search(query, collectionOf(rows, ok), { ...DEFAULT_SEARCH, nc: 2, limit: 0 }, { w, whitening: null })).rejects.toThrow(/limit/);
    ok.dispose();
    query.X.dispose();
  });
});
