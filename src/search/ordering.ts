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
 * Re-scores the first L results and reorders them; the rest keep their place after them. fresh[i] is the new score
 * of prior.ranking[i] and base[i] the score of the same kind it improves on (for CAM re-ranking: the photo's cosine;
 * by default the prior score itself). The key of a re-scored photo is its prior score raised by what the new score
 * gains over its base: prior + max(0, fresh - base), with the new kind where it gained. With base = prior (a cosine
 * prior) that is max(prior, fresh).
 *
 * Monotone by construction, whatever scale the prior has (cosine, SuperGlobal's): the first L are the L best prior
 * scores and each key is at least its prior score, so at least every score left after them. Replacing the prior
 * score by the new one instead (the paper's "new score = best region score", mode 'replace') gives the paper's order
 * but not this: a result just after the top R could show a higher score than the R-th. In METHOD terms, on a cosine
 * prior the key is "the best match of the query found in this photo: the whole photo or one of its CAM regions".
 */
export function mergePrefix(prior: Ranked, L: number, fresh: ArrayLike<number>, kind: ScoreKind, mode: 'boost' | 'replace' = 'boost', base: ArrayLike<number> = prior.scores): Ranked {
  L = Math.min(L, prior.ranking.length);
  if (fresh.length < L || base.length < L) throw new Error(`mergePrefix: ${fresh.length} fresh and ${base.length} base scores for ${L} results`);
  const gain = (i: number) => Math.max(0, fresh[i] - base[i]);
  const key = Float32Array.from({ length: L }, (_, i) => (mode === 'boost' ? prior.scores[i] + gain(i) : fresh[i]));
  // rankDescending: ties keep index order = prior position.
  const order = rankDescending(key);
  const ranking = Int32Array.from(prior.ranking);
  const scores = Float32Array.from(prior.scores);
  const kinds = [...prior.kinds];
  order.forEach((from, to) => {
    ranking[to] = prior.ranking[from];
    scores[to] = key[from];
    kinds[to] = mode === 'replace' || gain(from) > 0 ? kind : prior.kinds[from];
  });
  return { ranking, scores, kinds };
}

/** A full ranking of N images by scores[N] (ties: lower index first), the first k kept. */
export function rankedBy(scores: ArrayLike<number>, kind: ScoreKind, k: number): Ranked {
  const ranking = topRanking(scores, k);
  return { ranking, scores: Float32Array.from(ranking, (i) => scores[i]), kinds: Array.from(ranking, () => kind) };
}
