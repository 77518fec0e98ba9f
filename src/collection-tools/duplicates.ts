/**
 * Near-duplicates: photos that are the same shot (resized, re-encoded, slightly cropped, brightness-shifted, burst
 * neighbours). Candidates are pairs of very similar OfA descriptors (./neighbours.ts); a region check then compares
 * WHERE things are: each photo's feature maps pooled over a LAYOUT_CELLS x LAYOUT_CELLS grid laid over the whole
 * photo, cell by cell. The same shot matches in every cell, another shot of the same landmark (a step aside, another
 * zoom) keeps the OfA similarity but not the layout. Pure: typed arrays in, numbers out.
 */

/** The layout grid is LAYOUT_CELLS x LAYOUT_CELLS over the photo. */
export const LAYOUT_CELLS = 4;

/**
 * The layout descriptor of feature maps X [H, W, K] (row-major): for each layout cell, the sum of the feature
 * vectors weighted by how much of each feature cell lies in it, then l2-normalised. [cells * cells * K]
 */
export function layoutDescriptor(X: ArrayLike<number>, H: number, W: number, K: number, cells = LAYOUT_CELLS): Float32Array {
  if (X.length !== H * W * K) throw new Error(`feature maps hold ${X.length} values, expected ${H} x ${W} x ${K}`);
  const out = new Float32Array(cells * cells * K);
  // Overlap of feature cell i (of n) with layout cell c (of cells), as a fraction of the feature cell.
  const overlap = (i: number, n: number, c: number) => Math.max(0, Math.min((i + 1) / n, (c + 1) / cells) - Math.max(i / n, c / cells)) * n;
  for (let y = 0; y < H; y++) {
    for (let cy = 0; cy < cells; cy++) {
      const wy = overlap(y, H, cy);
      if (wy <= 0) continue;
      for (let x = 0; x < W; x++) {
        for (let cx = 0; cx < cells; cx++) {
          const w = wy * overlap(x, W, cx);
          if (w <= 0) continue;
          const src = (y * W + x) * K;
          const dst = (cy * cells + cx) * K;
          for (let k = 0; k < K; k++) out[dst + k] += w * X[src + k];
        }
      }
    }
  }
  for (let c = 0; c < cells * cells; c++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += out[c * K + k] ** 2;
    const n = Math.sqrt(s) || 1;
    for (let k = 0; k < K; k++) out[c * K + k] /= n;
  }
  return out;
}

/** Cell-by-cell cosine of two layout descriptors: [cells * cells], row-major. */
export function layoutCellScores(a: Float32Array, b: Float32Array, K: number): number[] {
  if (a.length !== b.length || a.length % K) throw new Error(`layout descriptors of ${a.length} and ${b.length} values do not match (K = ${K})`);
  const scores: number[] = [];
  for (let c = 0; c < a.length / K; c++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[c * K + k] * b[c * K + k];
    scores.push(s);
  }
  return scores;
}

/** The layout score of a pair: the mean of its cell scores. */
export const layoutScore = (cellScores: readonly number[]): number => cellScores.reduce((s, v) => s + v, 0) / cellScores.length;

/**
 * A candidate pair's duplicate score: the mean of its OfA similarity (the same content) and its layout score (in
 * the same places), one number for one threshold. On the generated set it keeps the recall of a threshold on the
 * OfA similarity alone and rejects most different shots of the same landmark (docs/COLLECTION-TOOLS.md, "Near-duplicates").
 */
export const duplicateScore = (sim: number, layout: number): number => (sim + layout) / 2;

export interface ScoredPair {
  a: string;
  b: string;
  score: number;
}

/** Union-find over photo ids. */
class Components {
  private parent = new Map<string, string>();
  find(x: string): string {
    let r = x;
    while (this.parent.has(r) && this.parent.get(r) !== r) r = this.parent.get(r)!;
    this.parent.set(x, r);
    return r;
  }
  /** Joins the components of a and b; true when they were apart. */
  union(a: string, b: string): boolean {
    const ra = this.find(a), rb = this.find(b);
    if (ra === rb) return false;
    this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
    return true;
  }
  has(x: string): boolean {
    return this.parent.has(x);
  }
}

/** Groups of photos linked by pairs scoring >= threshold (connected components), largest first, members sorted. */
export function duplicateGroups(pairs: readonly ScoredPair[], threshold: number): string[][] {
  const c = new Components();
  for (const p of pairs) if (p.score >= threshold) c.union(p.a, p.b);
  const byRoot = new Map<string, string[]>();
  for (const p of pairs) {
    if (p.score < threshold) continue;
    for (const id of [p.a, p.b]) {
      const r = c.find(id);
      const g = byRoot.get(r) ?? byRoot.set(r, []).get(r)!;
      if (!g.includes(id)) g.push(id);
    }
  }
  return [...byRoot.values()].map((g) => g.sort()).sort((x, y) => y.length - x.length || (x[0] < y[0] ? -1 : 1));
}

/**
 * Groups and grouped photos at each threshold (for a slider's live counts), in one pass: pairs are joined from the
 * best down, and the counts read off as the threshold passes each value. thresholds: any order.
 */
export function groupCounts(pairs: readonly ScoredPair[], thresholds: readonly number[]): { threshold: number; groups: number; photos: number }[] {
  const sorted = [...pairs].sort((x, y) => y.score - x.score);
  const ts = [...thresholds].sort((x, y) => y - x);
  const c = new Components();
  let groups = 0, photos = 0, i = 0;
  const out = new Map<number, { groups: number; photos: number }>();
  for (const t of ts) {
    for (; i < sorted.length && sorted[i].score >= t; i++) {
      const { a, b } = sorted[i];
      const newA = !c.has(a), newB = !c.has(b);
      photos += (newA ? 1 : 0) + (newB ? 1 : 0);
      // Two new photos start a group, one joins one, two old ones merge two groups (or are already together).
      if (newA && newB) groups++;
      else if (!newA && !newB && c.find(a) !== c.find(b)) groups--;
      c.union(a, b);
    }
    out.set(t, { groups, photos });
  }
  return thresholds.map((t) => ({ threshold: t, ...out.get(t)! }));
}

/** What the keep policy looks at. */
export interface KeepCandidate {
  id: string;
  /** File size of the original, bytes. */
  bytes: number;
  /** Pixel size of the original. */
  width: number;
  height: number;
  /** When it entered the collection (ms since 1970). */
  addedAt: number;
}

/**
 * The photo to keep of a duplicate group: the largest file, then the highest resolution, then the oldest in the
 * collection, then the smallest id (so the choice never depends on the order given).
 */
export function suggestKeep(members: readonly KeepCandidate[]): string {
  if (!members.length) throw new Error('suggestKeep: the group is empty');
  const best = [...members].sort((x, y) => y.bytes - x.bytes || y.width * y.height - x.width * x.height || x.addedAt - y.addedAt || (x.id < y.id ? -1 : 1));
  return best[0].id;
}
