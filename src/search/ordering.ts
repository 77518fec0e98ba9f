/**
 * How the steps of a search keep its scores monotone. Every step returns a Ranked list whose scores never increase
 * down the list, each with what it is (ScoreKind). A step that re-scores only a prefix of the list (CAM re-ranking
 * of the top R, online aggregation of an OfA shortlist) merges with mergePrefix; a step that re-scores every image
 * (QE, SuperGlobal) sorts them all again; diffusion scores its shortlist and gives the rest 0 (truncated diffusion).
 */
import { rankDescending, topRanking } from '../cw/ranking';
import type { ScoreKind } from './types';

/** A ranking (image indices, best first), its ordering key and what each key is. */
export interface Ranked {
  ranking: Int32Array;
  scores: Float32Array;
  kinds: ScoreKind[];
}

/** Throws when the scores increase anywhere down the list (a bug in a step, never expected). */
export function assertMonotone(r: Ranked, step: string): void {
  for (let i = 1; i < r.scores.length; i++) {
    if (!(r.scores[i] <= r.scores[i - 1])) throw new Error(`${step}: score ${i} (${r.scores[i]}) is above score ${i - 1} (${r.scores[i - 1]})`);
  }
}

/**
 * Re-scores the first L results with `fresh` (fresh[i] for prior.ranking[i], the same scale as the prior scores,
 * e.g. cosines) and reorders them; the rest keep their place after them. The key of a re-scored image is the best
 * of its two scores, max(prior, fresh), with the kind of the one that won.
 *
 * Monotone by construction: the first L are the L best prior scores, so every re-scored key (>= its prior score)
 * is >= every prior score left after them. Replacing the prior score instead (the paper's "new score = best region
 * score") gives the paper's order but not this: a result just after the top R could show a higher score than the
 * R-th. In METHOD terms max(prior, fresh) is "the best match of the query found in this image: the whole image or
 * one of its CAM regions".
 *
 * mode 'replace' keys the first L by `fresh` alone (the paper's re-ranking order), which is NOT monotone across
 * position L; each result's kind still says what its score is.
 */
export function mergePrefix(prior: Ranked, L: number, fresh: ArrayLike<number>, kind: ScoreKind, mode: 'max' | 'replace' = 'max'): Ranked {
  L = Math.min(L, prior.ranking.length);
  if (fresh.length < L) throw new Error(`mergePrefix: ${fresh.length} fresh scores for ${L} results`);
  const key = Float32Array.from({ length: L }, (_, i) => (mode === 'max' ? Math.max(prior.scores[i], fresh[i]) : fresh[i]));
  // rankDescending: ties keep index order = prior position.
  const order = rankDescending(key);
  const ranking = Int32Array.from(prior.ranking);
  const scores = Float32Array.from(prior.scores);
  const kinds = [...prior.kinds];
  order.forEach((from, to) => {
    ranking[to] = prior.ranking[from];
    scores[to] = key[from];
    kinds[to] = mode === 'replace' || fresh[from] > prior.scores[from] ? kind : prior.kinds[from];
  });
  return { ranking, scores, kinds };
}

/** A full ranking of N images by scores[N] (ties: lower index first), the first k kept. */
export function rankedBy(scores: ArrayLike<number>, kind: ScoreKind, k: number): Ranked {
  const ranking = topRanking(scores, k);
  return { ranking, scores: Float32Array.from(ranking, (i) => scores[i]), kinds: Array.from(ranking, () => kind) };
}
