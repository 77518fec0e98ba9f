/**
 * Diffusion on a kNN graph of global descriptors (Iscen, Tolias, Avrithis, Furon, Chum, "Efficient diffusion on
 * region manifolds", CVPR 2017; settings of their code for global descriptors: k = 50, k_q = 10, gamma = 3,
 * alpha = 0.99, 20 conjugate-gradient iterations, tolerance 1e-6), truncated to the top M of the current ranking:
 * the graph is the mutual kNN graph of those M descriptors, built per query; images outside it score 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { topRanking } from '../cw/ranking';
import { gatherRows, readAndDispose, type Database } from './descriptorLayouts';
import type { Ranked } from './ordering';

export interface DiffusionOptions {
  /** Neighbours per node of the kNN graph, itself included (Iscen et al.: 50). */
  k: number;
  /** Non-zero entries of y: the query's top k_q (10). */
  kq: number;
  /** Similarity exponent of the affinities and of y (3). */
  gamma: number;
  /** (I - alpha S) f = y (0.99). */
  alpha: number;
  iterations: number;
  tolerance: number;
}

export const DIFFUSION_DEFAULTS: DiffusionOptions = { k: 50, kq: 10, gamma: 3, alpha: 0.99, iterations: 20, tolerance: 1e-6 };

/**
 * Diffusion scores f of M nodes with pairwise similarities sims [M * M] (row-major) and query vector y [M]:
 * affinities a_ij = max(0, s_ij)^gamma on the mutual kNN graph (j among i's k nearest and i among j's), zero
 * diagonal; S = D^-1/2 A D^-1/2; f solves (I - alpha S) f = y by conjugate gradient (the matrix is symmetric
 * positive definite for alpha < 1). An isolated node keeps f_i = y_i.
 */
export function diffusionScores(sims: Float32Array, M: number, y: ArrayLike<number>, opts: DiffusionOptions = DIFFUSION_DEFAULTS): Float64Array {
  const k = Math.min(opts.k, M);
  const knn = Array.from({ length: M }, (_, i) => new Set(topRanking(sims.subarray(i * M, (i + 1) * M), k)));
  // Sparse symmetric A as adjacency lists.
  const adj: { j: number; a: number }[][] = Array.from({ length: M }, () => []);
  for (let i = 0; i < M; i++) {
    for (const j of knn[i]) {
      if (j !== i && knn[j].has(i)) adj[i].push({ j, a: Math.max(0, sims[i * M + j]) ** opts.gamma });
    }
  }
  const dInv = adj.map((row) => {
    const d = row.reduce((s, e) => s + e.a, 0);
    return d > 0 ? 1 / Math.sqrt(d) : 0;
  });
  // x -> (I - alpha S) x
  const apply = (x: Float64Array): Float64Array => {
    const out = Float64Array.from(x);
    for (let i = 0; i < M; i++) {
      let s = 0;
      for (const { j, a } of adj[i]) s += a * dInv[j] * x[j];
      out[i] -= opts.alpha * dInv[i] * s;
    }
    return out;
  };
  return conjugateGradient(apply, Float64Array.from(y), opts.iterations, opts.tolerance);
}

/** Solves A x = b for symmetric positive definite A (given as x -> A x), from x = 0, as MATLAB's pcg without preconditioner. */
export function conjugateGradient(apply: (x: Float64Array) => Float64Array, b: Float64Array, iterations: number, tolerance: number): Float64Array {
  const n = b.length;
  const x = new Float64Array(n);
  const r = Float64Array.from(b);
  const p = Float64Array.from(b);
  const dot = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const normB = Math.sqrt(dot(b, b));
  if (normB === 0) return x;
  let rr = dot(r, r);
  for (let it = 0; it < iterations && Math.sqrt(rr) > tolerance * normB; it++) {
    const Ap = apply(p);
    const step = rr / dot(p, Ap);
    for (let i = 0; i < n; i++) {
      x[i] += step * p[i];
      r[i] -= step * Ap[i];
    }
    const next = dot(r, r);
    for (let i = 0; i < n; i++) p[i] = r[i] + (next / rr) * p[i];
    rr = next;
  }
  return x;
}

/**
 * Truncated diffusion of a ranking: the graph of its top M images' descriptors, y = max(0, score)^gamma on its top
 * k_q. The top M are reordered by f / max(f) ('diffusion', in [0, 1]); the rest keep their order with score 0,
 * as the truncated diffusion of Iscen et al. leaves them (monotone: f >= 0 because y >= 0 and the inverse of
 * I - alpha S has no negative entry).
 */
export async function diffuse(db: Database, prior: Ranked, M: number, opts: DiffusionOptions = DIFFUSION_DEFAULTS): Promise<Ranked> {
  M = Math.min(M, prior.ranking.length);
  if (M === 0) return prior;
  const top = Array.from(prior.ranking.subarray(0, M));
  const sims = await readAndDispose(tf.tidy(() => {
    const X = gatherRows(db, top);
    return tf.matMul(X, X, false, true);
  }));
  const y = Float64Array.from({ length: M }, (_, i) => (i < opts.kq ? Math.max(0, prior.scores[i]) ** opts.gamma : 0));
  const f = diffusionScores(sims, M, y, opts);
  const max = f.reduce((m, v) => Math.max(m, v), 0);
  const key = Float32Array.from(f, (v) => (max > 0 ? Math.max(0, v) / max : 0));
  const order = topRanking(key, M);
  const ranking = Int32Array.from(prior.ranking);
  const scores = new Float32Array(prior.ranking.length);
  order.forEach((from, to) => {
    ranking[to] = top[from];
    scores[to] = key[from];
  });
  return { ranking, scores, kinds: Array.from(ranking, () => 'diffusion' as const) };
}
