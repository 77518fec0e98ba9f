/**
 * Deterministic pseudo-random values in [0, 1) (a linear congruential generator), so tests never depend on
 * Math.random. A fraction `sparsity` of them is exactly 0, like post-ReLU feature maps.
 */
export function seededValues(n: number, seed: number, sparsity = 0.4): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return u < sparsity ? 0 : u;
  });
}
