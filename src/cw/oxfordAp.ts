/**
 * Oxford5k / Paris6k average precision, as in Oxford's compute_ap.cpp: junk images are skipped, positives are
 * good + ok, and precision is integrated with the trapezoidal rule starting from precision 1 at recall 0.
 */
export function oxfordAveragePrecision(ranked: readonly string[], positives: ReadonlySet<string>, junk: ReadonlySet<string> = new Set()): number {
  if (positives.size === 0) throw new Error('average precision needs at least one positive');
  let ap = 0;
  let hits = 0;
  let rank = 0; // position among non-junk images
  let oldRecall = 0;
  let oldPrecision = 1;
  for (const id of ranked) {
    if (junk.has(id)) continue;
    if (positives.has(id)) hits++;
    const recall = hits / positives.size;
    const precision = hits / (rank + 1);
    ap += (recall - oldRecall) * ((oldPrecision + precision) / 2);
    oldRecall = recall;
    oldPrecision = precision;
    rank++;
  }
  return ap;
}

export function meanAveragePrecision(aps: readonly number[]): number {
  if (aps.length === 0) throw new Error('mean average precision over zero queries');
  return aps.reduce((s, a) => s + a, 0) / aps.length;
}
