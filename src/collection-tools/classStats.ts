/**
 * Class statistics of a collection from each photo's stored class probabilities: its top classes (a partial
 * selection, not a sort of all C), how many photos have each class among their top k, and which. Pure.
 */

/** Indices of the k largest values, largest first (ties: lower index first). O(C k) for small k. */
export function topClassIndices(probabilities: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let c = 0; c < probabilities.length; c++) {
    const p = probabilities[c];
    if (top.length === k && !(p > probabilities[top[k - 1]])) continue;
    let at = top.length;
    while (at > 0 && p > probabilities[top[at - 1]]) at--;
    top.splice(at, 0, c);
    if (top.length > k) top.pop();
  }
  return top;
}

/** Photos per class, counting each photo's first `topK` classes; [class index, count], most frequent first (ties: lower index). */
export function countClasses(tops: Iterable<readonly number[]>, topK: number): [number, number][] {
  const counts = new Map<number, number>();
  for (const t of tops) for (const c of t.slice(0, topK)) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
}
