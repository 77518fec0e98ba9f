/**
 * Which of a ranking's top n photos an expansion step may trust: query expansion averages them, SuperGlobal max-pools
 * them on the query side. The papers take the top n as they are, which is right when a query has many matches and
 * wrong when it has a few among many photos of the same kind: the top 10 of a query with 3 matches holds 7 other
 * photos, and expanding with them pulls the query towards those. The rules here keep a neighbour only on evidence:
 *  - 'top': the top n (QE, alpha-QE and SuperGlobal as published);
 *  - 'reciprocal': the k-reciprocal neighbours of Zhong, Zheng, Cao, Li ("Re-ranking person re-identification with
 *    k-reciprocal encoding", CVPR 2017): photo i of the top n is kept only if the query is among i's own k nearest,
 *    i.e. fewer than k other photos of the collection are more similar to i than the query is. A photo of a
 *    distractor cluster has its cluster closer than the query and drops out; a true match usually has few photos
 *    closer than the query (its other views), so it stays;
 *  - 'gap': the top photos before the largest drop between consecutive scores among the top n + 1 (a query-adaptive
 *    n: the matches score in a block above the rest);
 * and `minScore` keeps only neighbours scoring at least that (the score of the ranking they come from).
 */
import * as tf from '@tensorflow/tfjs-core';
import { allScores, gatherRows, readAndDispose, type Database } from './descriptorLayouts';

export type NeighbourRule = 'top' | 'reciprocal' | 'gap';

export interface NeighbourSelection {
  rule: NeighbourRule;
  /** The k of 'reciprocal'. */
  k: number;
  /** Keep only neighbours whose score is at least this; absent: no threshold. */
  minScore?: number;
}

export const TOP_NEIGHBOURS: NeighbourSelection = { rule: 'top', k: 10 };

/** 'gap': how many of the first n scores (sorted, best first) come before the largest drop, counting s[n] as well. */
export function beforeLargestGap(scores: ArrayLike<number>, n: number): number {
  const last = Math.min(n, scores.length - 1);
  if (last < 1) return Math.min(n, scores.length);
  let best = 0, cut = 1;
  for (let r = 0; r < last; r++) {
    const drop = scores[r] - scores[r + 1];
    if (drop > best) [best, cut] = [drop, r + 1];
  }
  return cut;
}

/**
 * 'reciprocal': for each image of `images`, whether the query is among its k nearest photos of the collection (itself
 * left out; images outside `within` do not count). `db` holds the descriptors both are compared with, q the query's.
 */
export async function reciprocalWithQuery(db: Database, q: tf.Tensor1D, images: readonly number[], k: number, within?: Uint8Array): Promise<boolean[]> {
  if (images.length === 0) return [];
  const rows = gatherRows(db, images);
  try {
    const toQuery = await readAndDispose(tf.tidy(() => tf.squeeze(tf.matMul(rows, tf.expandDims(q, 1)), [1])));
    const out: boolean[] = [];
    for (let r = 0; r < images.length; r++) {
      const row = tf.tidy(() => tf.reshape(tf.slice(rows, [r, 0], [1, -1]), [-1]) as tf.Tensor1D);
      const s = await allScores(db, row).finally(() => row.dispose());
      let closer = 0;
      for (let j = 0; j < s.length && closer < k; j++) if (j !== images[r] && (!within || within[j]) && s[j] > toQuery[r]) closer++;
      out.push(closer < k);
    }
    return out;
  } finally {
    rows.dispose();
  }
}

/**
 * The positions (0-based, in ranking order) of the first n of a ranking that the selection keeps. `scores` are the
 * ranking's scores (at least n + 1 of them when there are, for 'gap'); `db` and `q` are what 'reciprocal' compares.
 */
export async function expansionNeighbours(
  ranking: ArrayLike<number>,
  scores: ArrayLike<number>,
  n: number,
  sel: NeighbourSelection,
  db: Database,
  q: tf.Tensor1D,
  within?: Uint8Array,
): Promise<number[]> {
  n = Math.min(n, ranking.length);
  let kept = Array.from({ length: sel.rule === 'gap' ? beforeLargestGap(scores, n) : n }, (_, r) => r);
  if (sel.minScore !== undefined) kept = kept.filter((r) => scores[r] >= sel.minScore!);
  if (sel.rule === 'reciprocal' && kept.length) {
    const ok = await reciprocalWithQuery(db, q, kept.map((r) => ranking[r]), sel.k, within);
    kept = kept.filter((_, i) => ok[i]);
  }
  return kept;
}
