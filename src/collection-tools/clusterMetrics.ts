/**
 * How well a grouping agrees with ground truth labels: pairwise precision and recall (over pairs of photos: put in
 * one group by the grouping, and of one label in the truth) and the adjusted Rand index (Hubert & Arabie 1985:
 * 1 = the same partition, about 0 = no better than chance). Photos left ungrouped count as groups of one. Pure.
 */

const pairs = (n: number) => (n * (n - 1)) / 2;

export interface ClusterAgreement {
  /** Same-group pairs that share a label, over all same-group pairs (1 when no pair is grouped). */
  pairPrecision: number;
  /** Same-label pairs put in one group, over all same-label pairs. */
  pairRecall: number;
  adjustedRand: number;
  /** Pairs grouped, pairs of one label, and both. */
  groupedPairs: number;
  truePairs: number;
  bothPairs: number;
}

/**
 * @param truth every photo's label
 * @param predicted each photo's group; photos absent from it (or mapped to undefined) are groups of one
 */
export function clusterAgreement(truth: ReadonlyMap<string, string>, predicted: ReadonlyMap<string, string | undefined>): ClusterAgreement {
  const table = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  for (const [id, label] of truth) {
    const group = predicted.get(id) ?? `single:${id}`;
    const cell = `${group}\u0000${label}`;
    table.set(cell, (table.get(cell) ?? 0) + 1);
    rows.set(group, (rows.get(group) ?? 0) + 1);
    cols.set(label, (cols.get(label) ?? 0) + 1);
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + pairs(n), 0);
  const both = sum(table);
  const grouped = sum(rows);
  const trueP = sum(cols);
  const total = pairs(truth.size);
  const expected = total ? (grouped * trueP) / total : 0;
  const max = (grouped + trueP) / 2;
  return {
    pairPrecision: grouped ? both / grouped : 1,
    pairRecall: trueP ? both / trueP : 1,
    adjustedRand: max === expected ? 1 : (both - expected) / (max - expected),
    groupedPairs: grouped,
    truePairs: trueP,
    bothPairs: both,
  };
}

/** Precision and recall of predicted pairs against true pairs (unordered: 'a|b' with a < b). */
export function pairPrecisionRecall(predicted: Iterable<[string, string]>, truth: Iterable<[string, string]>): { precision: number; recall: number; tp: number; fp: number; fn: number } {
  const key = ([a, b]: [string, string]) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  const t = new Set([...truth].map(key));
  const p = new Set([...predicted].map(key));
  let tp = 0;
  for (const x of p) if (t.has(x)) tp++;
  return { precision: p.size ? tp / p.size : 1, recall: t.size ? tp / t.size : 1, tp, fp: p.size - tp, fn: t.size - tp };
}
