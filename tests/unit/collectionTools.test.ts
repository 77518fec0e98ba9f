/**
 * The pure algorithms of the collection tools on constructed cases: the keep policy, duplicate grouping
 * at a threshold and its live counts, the layout check, neighbour lists kept incrementally (against brute force),
 * mutual-kNN groups with a link check, pairwise precision/recall and the adjusted Rand index, class counts, and a
 * search restricted to a scope.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { countClasses, topClassIndices } from '../../src/collection-tools/classStats';
import { clusterAgreement, pairPrecisionRecall } from '../../src/collection-tools/clusterMetrics';
import { duplicateGroups, groupCounts, layoutCellScores, layoutDescriptor, layoutScore, suggestKeep, type KeepCandidate, type ScoredPair } from '../../src/collection-tools/duplicates';
import { mutualKnnGroups, mutualLinks } from '../../src/collection-tools/groups';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { rankTop, search } from '../../src/search/search';
import { DEFAULT_SEARCH } from '../../src/search/types';
import { seededValues } from '../../scripts/lib/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('suggestKeep (keep one of a duplicate group)', () => {
  const photo = (id: string, bytes: number, width: number, height: number, addedAt: number): KeepCandidate => ({ id, bytes, width, height, addedAt });

  it('keeps the largest file, then the highest resolution, then the oldest, whatever the order given', () => {
    const a = photo('a', 900_000, 1024, 768, 5);
    const b = photo('b', 1_200_000, 800, 600, 9);
    const c = photo('c', 1_200_000, 1600, 1200, 9);
    const d = photo('d', 1_200_000, 1600, 1200, 3);
    expect(suggestKeep([a, b])).toBe('b'); // largest file wins over resolution
    expect(suggestKeep([a, b, c])).toBe('c'); // same size: the higher resolution
    expect(suggestKeep([c, d, b, a])).toBe('d'); // same size and resolution: the oldest
    expect(suggestKeep([d, c, a, b])).toBe('d');
    expect(suggestKeep([photo('y', 1, 1, 1, 1), photo('x', 1, 1, 1, 1)])).toBe('x'); // all equal: the smallest id
    expect(() => suggestKeep([])).toThrow(/empty/);
  });
});

describe('duplicate groups at a threshold', () => {
  const pairs: ScoredPair[] = [
    { a: 'a', b: 'b', score: 0.97 },
    { a: 'b', b: 'c', score: 0.91 },
    { a: 'd', b: 'e', score: 0.95 },
    { a: 'c', b: 'd', score: 0.85 },
    { a: 'f', b: 'g', score: 0.82 },
  ];

  it('links photos through pairs at or above the threshold (connected components)', () => {
    expect(duplicateGroups(pairs, 0.96)).toEqual([['a', 'b']]);
    expect(duplicateGroups(pairs, 0.9)).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    expect(duplicateGroups(pairs, 0.85)).toEqual([['a', 'b', 'c', 'd', 'e']]);
    expect(duplicateGroups(pairs, 0.8)).toEqual([['a', 'b', 'c', 'd', 'e'], ['f', 'g']]);
    expect(duplicateGroups(pairs, 0.99)).toEqual([]);
  });

  it('counts groups and photos at every threshold as grouping at each one would', () => {
    const thresholds = [0.8, 0.85, 0.9, 0.91, 0.96, 0.99];
    expect(groupCounts(pairs, thresholds)).toEqual(
      thresholds.map((t) => {
        const g = duplicateGroups(pairs, t);
        return { threshold: t, groups: g.length, photos: g.reduce((s, m) => s + m.length, 0) };
      }),
    );
    // And on a random graph with merges in every order.
    const values = seededValues(400, 7, 0);
    const random: ScoredPair[] = Array.from({ length: 200 }, (_, i) => ({ a: `p${Math.floor(values[2 * i] * 60)}`, b: `p${Math.floor(values[2 * i + 1] * 60)}`, score: 0.8 + 0.2 * values[(i * 7) % 400] })).filter(
      (p) => p.a !== p.b,
    );
    const ts = Array.from({ length: 21 }, (_, i) => 0.8 + i / 100);
    for (const c of groupCounts(random, ts)) {
      const g = duplicateGroups(random, c.threshold);
      expect(c).toEqual({ threshold: c.threshold, groups: g.length, photos: g.reduce((s, m) => s + m.length, 0) });
    }
  });
});

describe('layout check', () => {
  const K = 3;
  // A 4 x 4 map whose content differs by quadrant: channel 0 top-left, 1 top-right, 2 bottom half.
  const scene = (flip: boolean) =>
    Float32Array.from({ length: 4 * 4 * K }, (_, i) => {
      const k = i % K, cell = Math.floor(i / K), x = cell % 4, y = Math.floor(cell / 4);
      const xx = flip ? 3 - x : x;
      const channel = y >= 2 ? 2 : xx < 2 ? 0 : 1;
      return k === channel ? 1 : 0;
    });

  it('pools each cell of a 2 x 2 layout from the feature cells under it (exact on an aligned grid)', () => {
    const d = layoutDescriptor(scene(false), 4, 4, K, 2);
    expect(Array.from(d)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
  });

  it('scores the same layout 1 in every cell and a mirrored one low where it differs', () => {
    const a = layoutDescriptor(scene(false), 4, 4, K, 2);
    expect(layoutCellScores(a, a, K).map((s) => Number(s.toFixed(6)))).toEqual([1, 1, 1, 1]);
    const cells = layoutCellScores(a, layoutDescriptor(scene(true), 4, 4, K, 2), K);
    expect(cells.map((s) => Number(s.toFixed(6)))).toEqual([0, 0, 1, 1]); // the top half swapped sides
    expect(layoutScore(cells)).toBeCloseTo(0.5, 6);
  });

  it('weighs feature cells by their overlap when the grid does not divide (3 x 3 over 4 x 4)', () => {
    const d = layoutDescriptor(scene(false), 4, 4, K, 3);
    // The middle column of the top row covers 2/3 of cells x = 1 and x = 2 (channels 0 and 1) equally.
    expect(d[1 * K + 0]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(d[1 * K + 1]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(() => layoutDescriptor(new Float32Array(5), 4, 4, K)).toThrow(/expected 4 x 4 x 3/);
  });
});

describe('NeighbourLists', () => {
  const D = 8;
  const vec = (seed: number) => {
    const v = seededValues(D, seed, 0).map((x) => x - 0.5);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

  /** Brute force: the top k (>= floor) of each present photo, best first, ties by insertion order. */
  function expected(present: string[], vectors: Map<string, Float32Array>, k: number, floor: number, order: string[]) {
    return new Map(
      present.map((id) => [
        id,
        present
          .filter((o) => o !== id)
          .map((o) => ({ id: o, sim: Math.fround(dot(vectors.get(id)!, vectors.get(o)!)) }))
          .filter((n) => n.sim >= floor)
          .sort((x, y) => y.sim - x.sim || order.indexOf(x.id) - order.indexOf(y.id))
          .slice(0, k)
          .map((n) => n.id),
      ]),
    );
  }

  it('keeps exactly the top k of every photo through batch inserts, removals and refills', () => {
    const k = 4, floor = -0.2;
    const lists = new NeighbourLists(k, floor);
    const vectors = new Map<string, Float32Array>();
    const present: string[] = [];
    const order: string[] = [];
    const row = (id: string) => Float32Array.from(present, (o) => dot(vectors.get(id)!, vectors.get(o)!));
    let seed = 1;
    const add = (n: number) => {
      const ids = Array.from({ length: n }, () => `p${seed}`).map((_, i) => `p${seed + i}`);
      ids.forEach((id) => vectors.set(id, vec(seed++)));
      present.push(...ids);
      order.push(...ids);
      const rows = new Float32Array(ids.length * present.length);
      ids.forEach((id, b) => rows.set(row(id), b * present.length));
      lists.insertRows(ids, rows, present);
    };
    const remove = (ids: string[]) => {
      ids.forEach((id) => present.splice(present.indexOf(id), 1));
      for (const id of lists.remove(ids)) lists.refill(id, row(id), present);
    };
    const check = () => {
      const want = expected(present, vectors, k, floor, order);
      for (const id of present) expect(lists.neighbours(id).map((n) => n.id), id).toEqual(want.get(id));
      expect(lists.size).toBe(present.length);
    };
    add(1);
    add(7);
    check();
    add(12);
    check();
    remove(['p3', 'p9', 'p10']);
    check();
    add(5);
    remove(['p1', 'p22']);
    check();
    expect(() => lists.insertRows(['p2'], row('p2'), present)).toThrow(/already/);
  });

  it('keeps nothing below the floor and rejects a row of the wrong length', () => {
    const lists = new NeighbourLists(3, 0.5);
    lists.insert('a', [], []);
    lists.insert('b', [0.4], ['a']);
    lists.insert('c', [0.9, 0.6], ['a', 'b']);
    expect(lists.neighbours('a')).toEqual([{ id: 'c', sim: 0.9 }]);
    expect(lists.neighbours('b')).toEqual([{ id: 'c', sim: 0.6 }]);
    expect(() => lists.insert('d', [0.1], ['a', 'b'])).toThrow(/1 values for 1 x 2 photos/);
    expect(() => new NeighbourLists(0, 0.5)).toThrow(/k must be/);
  });
});

describe('mutual-kNN groups', () => {
  /** Lists from a similarity table (symmetric), inserted in the order given. */
  function listsOf(ids: string[], sim: (a: string, b: string) => number, k: number) {
    const lists = new NeighbourLists(k, 0);
    const seen: string[] = [];
    for (const id of ids) {
      seen.push(id);
      lists.insert(id, seen.map((o) => (o === id ? 1 : sim(id, o))), seen);
    }
    return lists;
  }
  // Two places (a*, b*), members 0.9 alike within a place and 0.3 across, plus a bridge a1~b1 at 0.95 and a loner.
  const ids = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'z'];
  const sim = (x: string, y: string) => {
    if ((x === 'a1' && y === 'b1') || (x === 'b1' && y === 'a1')) return 0.95;
    if (x === 'z' || y === 'z') return 0.2;
    return x[0] === y[0] ? 0.9 : 0.3;
  };

  it('joins mutual neighbours above the link threshold; a failing link check splits a bridged pair of places', () => {
    const lists = listsOf(ids, sim, 3);
    const bridged = mutualKnnGroups(lists, { k: 3, minSim: 0.5 });
    expect(bridged.map((g) => g.members.slice().sort())).toEqual([['a1', 'a2', 'a3', 'b1', 'b2', 'b3']]);
    expect(mutualLinks(lists, 3, 0.5)).toContainEqual({ a: 'a1', b: 'b1', sim: 0.95 });

    const checked = mutualKnnGroups(lists, { k: 3, minSim: 0.5, accept: (a, b) => a[0] === b[0] });
    expect(checked.map((g) => g.members.slice().sort())).toEqual([
      ['a1', 'a2', 'a3'],
      ['b1', 'b2', 'b3'],
    ]);
    // Representative: the most linked member; ties by the sum of link similarities, then the id.
    expect(checked[0]).toMatchObject({ id: 'g:a1', representative: 'a1', links: 3 });
    expect(checked[0].meanSim).toBeCloseTo(0.9, 6);
  });

  it('leaves photos with no mutual link above the threshold ungrouped', () => {
    const lists = listsOf(ids, sim, 3);
    expect(mutualKnnGroups(lists, { k: 3, minSim: 0.96 })).toEqual([]);
    expect(mutualKnnGroups(lists, { k: 3, minSim: 0.5 }).flatMap((g) => g.members)).not.toContain('z');
  });
});

describe('cluster agreement', () => {
  const truth = new Map([
    ['1', 'x'], ['2', 'x'], ['3', 'x'], ['4', 'y'], ['5', 'y'], ['6', 'y'],
  ]);

  it('gives 1 for the same partition and hand-worked values for another', () => {
    const same = clusterAgreement(truth, new Map([['1', 'A'], ['2', 'A'], ['3', 'A'], ['4', 'B'], ['5', 'B'], ['6', 'B']]));
    expect(same).toMatchObject({ pairPrecision: 1, pairRecall: 1, adjustedRand: 1 });
    // Groups {1,2} {3,4} {5,6}: grouped pairs 3, of them 2 within a label; true pairs 3 + 3 = 6; total pairs 15.
    // ARI = (2 - 3*6/15) / ((3 + 6)/2 - 3*6/15) = 0.8 / 3.3.
    const r = clusterAgreement(truth, new Map([['1', 'A'], ['2', 'A'], ['3', 'B'], ['4', 'B'], ['5', 'C'], ['6', 'C']]));
    expect(r.pairPrecision).toBeCloseTo(2 / 3, 10);
    expect(r.pairRecall).toBeCloseTo(2 / 6, 10);
    expect(r.adjustedRand).toBeCloseTo(0.8 / 3.3, 10);
  });

  it('counts ungrouped photos as groups of one', () => {
    const r = clusterAgreement(truth, new Map([['1', 'A'], ['2', 'A']]));
    expect(r).toMatchObject({ pairPrecision: 1, groupedPairs: 1, truePairs: 6, bothPairs: 1 });
    expect(r.pairRecall).toBeCloseTo(1 / 6, 10);
    const none = clusterAgreement(truth, new Map());
    expect(none.pairRecall).toBe(0);
    expect(none.adjustedRand).toBeCloseTo(0, 10);
  });

  it('scores predicted pairs against true pairs in either order', () => {
    expect(pairPrecisionRecall([['a', 'b'], ['c', 'b'], ['a', 'd']], [['b', 'a'], ['b', 'c'], ['c', 'e']])).toEqual({ precision: 2 / 3, recall: 2 / 3, tp: 2, fp: 1, fn: 1 });
  });
});

describe('class statistics', () => {
  it('finds the top classes without sorting all and counts them per photo', () => {
    expect(topClassIndices([0.1, 0.5, 0.2, 0.5, 0.05], 3)).toEqual([1, 3, 2]);
    expect(topClassIndices([0.3], 5)).toEqual([0]);
    const tops = [[1, 3, 2], [3, 1, 0], [1, 0, 4], [2, 1, 3]];
    expect(countClasses(tops, 1)).toEqual([[1, 2], [2, 1], [3, 1]]);
    expect(countClasses(tops, 2)).toEqual([[1, 4], [3, 2], [0, 1], [2, 1]]);
  });
});

describe('search within a scope', () => {
  it('ranks only the photos in scope, and the scope caps the results', async () => {
    const db = tf.tensor2d([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1]]);
    const q = tf.tensor1d([1, 0]);
    const all = await rankTop(db, q, 4);
    expect(Array.from(all.ranking)).toEqual([0, 1, 2, 3]);
    const within = Uint8Array.from([0, 0, 1, 1]);
    const some = await rankTop(db, q, 2, within);
    expect(Array.from(some.ranking)).toEqual([2, 3]);
    expect(some.scores[0]).toBeCloseTo(0.6, 6);

    // Through search(): a query whose own photo is out of scope does not come back; the scope size caps the list.
    const X = tf.tensor3d([1, 0, 0, 1], [1, 2, 2]);
    const w = tf.tensor2d([[1, 0], [0, 1]]);
    const query = { X, grid: { H: 1, W: 2, cellWidth: 1, cellHeight: 1, imageWidth: 2, imageHeight: 1 }, box: { x: 0, y: 0, w: 2, h: 1 }, cropProbabilities: [0.9, 0.1] };
    const collection = { size: 4, grids: [], offlineDescriptors: db, maps: async () => [] };
    const r = await search(query, collection, { ...DEFAULT_SEARCH, nc: 1, within: Uint8Array.from([0, 1, 0, 1]) }, { w, whitening: null });
    expect(Array.from(r.ranking).sort()).toEqual([1, 3]);
    const none = await search(query, collection, { ...DEFAULT_SEARCH, nc: 1, within: new Uint8Array(4) }, { w, whitening: null });
    expect(none.ranking.length).toBe(0);
    await expect(search(query, collection, { ...DEFAULT_SEARCH, nc: 1, within: new Uint8Array(3) }, { w, whitening: null })).rejects.toThrow(/scope covers 3 images/);
    tf.dispose([db, q, X, w]);
  });
});
