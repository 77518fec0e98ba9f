/** Synthetic CW-like descriptors for the collection graph benchmarks (bench-groups.ts, bench-group-cut.ts). */
import { seededValues } from '../lib/random';

/** N descriptors of D dims around N/10 centres (places), each a centre plus noise, non-negative, unit length. */
export function synthetic(N: number, D: number): Float32Array {
  const places = Math.max(1, Math.floor(N / 10));
  const centres = seededValues(places * D, 11, 0.5);
  const noise = seededValues(N * D, 12, 0.5);
  const out = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = (i * 7919) % places;
    let s = 0;
    for (let d = 0; d < D; d++) {
      const v = centres[c * D + d] + 0.6 * noise[i * D + d];
      out[i * D + d] = v;
      s += v * v;
    }
    const n = Math.sqrt(s);
    for (let d = 0; d < D; d++) out[i * D + d] /= n;
  }
  return out;
}
