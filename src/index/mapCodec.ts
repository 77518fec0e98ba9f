import { Float16Array } from '@petamoriken/float16';

/**
 * How an image's feature maps X (what online aggregation and re-ranking read) are stored.
 * Post-ReLU maps are non-negative and mostly small, so:
 *  - 'float32': exact, 4 bytes per value;
 *  - 'float16': 2 bytes, ~3 significant digits;
 *  - 'uint8': 1 byte, q = round(255 * sqrt(x / max)) (square-root companding keeps small values
 *    apart), and any x > 0 stores as q >= 1 so the zero pattern CroW counts is kept exactly.
 * Measured on paris6k-mini-dev with `npm run eval -- --codec ...` (see BENCHMARKS.md).
 */
export type MapCodec = 'float32' | 'float16' | 'uint8';

export interface EncodedMaps {
  codec: MapCodec;
  H: number;
  W: number;
  K: number;
  /** uint8 only: the largest value of X. */
  scale: number;
  data: ArrayBuffer;
}

export function encodeMaps(x: Float32Array, H: number, W: number, K: number, codec: MapCodec): EncodedMaps {
  if (x.length !== H * W * K) throw new Error(`encodeMaps: expected ${H * W * K} values, got ${x.length}`);
  if (codec === 'float32') return { codec, H, W, K, scale: 1, data: x.slice().buffer };
  if (codec === 'float16') {
    return { codec, H, W, K, scale: 1, data: new Float16Array(x).buffer };
  }
  let max = 0;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const out = new Uint8Array(x.length);
  if (max > 0) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v > 0) out[i] = Math.max(1, Math.round(255 * Math.sqrt(v / max)));
    }
  }
  return { codec, H, W, K, scale: max, data: out.buffer };
}

export function decodeMaps(e: EncodedMaps): Float32Array {
  const n = e.H * e.W * e.K;
  if (e.codec === 'float32') return new Float32Array(e.data, 0, n);
  const out = new Float32Array(n);
  if (e.codec === 'float16') {
    out.set(new Float16Array(e.data, 0, n));
    return out;
  }
  const q = new Uint8Array(e.data, 0, n);
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = (i / 255) ** 2 * e.scale;
  for (let i = 0; i < n; i++) out[i] = lut[q[i]];
  return out;
}

export const bytesPerValue = (codec: MapCodec): number => ({ float32: 4, float16: 2, uint8: 1 })[codec];
