/**
 * A geometric check of a group link, measured by eval-groups.ts (not in the app): do the two photos' feature-map
 * cells match in one consistent layout? Each photo keeps its stronger half of cells (by norm, after a square root of
 * the activations), each cell l2-normalised; cells that are each other's best match (mutual nearest neighbours)
 * are the candidate matches; the score is the most matches that one scale-and-shift map of a's grid onto b's
 * (scale 0.5-2, no rotation) puts within one cell of their match, every pair of matches tried as the hypothesis
 * (spatial verification as in RANSAC, exhaustive at these sizes). Photos of one place or object share many such
 * matches; two look-alike objects or two buildings share a few scattered ones.
 */

/** The kept cells of one photo's maps X [H, W, K]: unit features and their centres (in cells). */
export interface LayoutCells {
  features: Float32Array[];
  x: number[];
  y: number[];
}

export function layoutCells(X: ArrayLike<number>, H: number, W: number, K: number, keep = 0.5): LayoutCells {
  const cells = Array.from({ length: H * W }, (_, c) => {
    const f = new Float32Array(K);
    let n = 0;
    for (let k = 0; k < K; k++) {
      f[k] = Math.sqrt(Math.max(0, X[c * K + k]));
      n += f[k] * f[k];
    }
    return { c, f, n: Math.sqrt(n) };
  });
  const least = cells.map((c) => c.n).sort((p, q) => p - q)[Math.min(H * W - 1, Math.floor((1 - keep) * H * W))];
  const kept = cells.filter((c) => c.n >= least && c.n > 0);
  return { features: kept.map((c) => c.f.map((v) => v / c.n)), x: kept.map((c) => (c.c % W) + 0.5), y: kept.map((c) => Math.floor(c.c / W) + 0.5) };
}

/** The most mutual-best cell matches of a and b that one scale-and-shift map agrees with (within `tol` cells). */
export function layoutMatches(a: LayoutCells, b: LayoutCells, tol = 1): number {
  const best = (from: Float32Array[], to: Float32Array[]) =>
    from.map((f) => {
      let top = -Infinity, at = -1;
      to.forEach((g, j) => {
        let s = 0;
        for (let k = 0; k < f.length; k++) s += f[k] * g[k];
        if (s > top) [top, at] = [s, j];
      });
      return at;
    });
  const ab = best(a.features, b.features), ba = best(b.features, a.features);
  const m = ab.flatMap((j, i) => (j >= 0 && ba[j] === i ? [[i, j]] : []));
  if (m.length < 3) return m.length;
  const [ax, ay, bx, by] = [m.map(([i]) => a.x[i]), m.map(([i]) => a.y[i]), m.map(([, j]) => b.x[j]), m.map(([, j]) => b.y[j])];
  let most = 2;
  for (let u = 0; u < m.length; u++) {
    for (let v = u + 1; v < m.length; v++) {
      const la = Math.hypot(ax[v] - ax[u], ay[v] - ay[u]), lb = Math.hypot(bx[v] - bx[u], by[v] - by[u]);
      if (la < 1.5) continue;
      const s = lb / la;
      if (s < 0.5 || s > 2) continue;
      const [tx, ty] = [bx[u] - s * ax[u], by[u] - s * ay[u]];
      let n = 0;
      for (let w = 0; w < m.length; w++) if (Math.hypot(bx[w] - (s * ax[w] + tx), by[w] - (s * ay[w] + ty)) <= tol) n++;
      if (n > most) most = n;
    }
  }
  return most;
}
