import { Float16Array } from '@petamoriken/float16';

/**
 * How an image's feature maps X (what online aggregation and re-ranking read) are stored.
 * Post-ReLU maps are non-negative and mostly small, so:
 *  - 'float32': exact, 4 bytes per value;
 *  - 'float16': 2 bytes, ~3 significant digits;
 *  - 'uint8': 1 byte, q = round(255 * sqrt(x / max)) (square-root companding keeps small values
 *    apart), and any x > 0 stores as q >= 1 so the zero pattern CroW counts is kept exactly;
 *  - 'uint8-sparse': the same q, without its zeros: a bit mask of the non-zero values (1 bit per value) then the
 *    non-zero q in order. Decodes to exactly what 'uint8' decodes to. Post-ReLU maps are mostly zeros (85% for
 *    MobileNet v1 0.75, 88% for ResNet-50 on paris6k-mini-dev at 512), so this is about a quarter of 'uint8'.
 * Measured on paris6k-mini-dev with `npm run eval -- --codecs ...` (see BENCHMARKS.md).
 */
export type MapCodec = 'float32' | 'float16' | 'uint8' | 'uint8-sparse';

export const MAP_CODECS: readonly MapCodec[] = ['float32', 'float16', 'uint8', 'uint8-sparse'];

export interface EncodedMaps {
  codec: MapCodec;
  H: number;
  W: number;
  K: number;
  /** uint8 and uint8-sparse: the largest value of X. */
  scale: number;
  data: ArrayBuffer;
}

/** q = round(255 sqrt(x / max)), at least 1 for any x > 0; and max. */
function companded(x: Float32Array): { q: Uint8Array<ArrayBuffer>; max: number } {
  let max = 0;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const q = new Uint8Array(x.length);
  if (max > 0) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v > 0) q[i] = Math.max(1, Math.round(255 * Math.sqrt(v / max)));
    }
  }
  return { q, max };
}

/** Dense q -> bit mask (LSB first) + the non-zero values. */
export function sparsify(q: Uint8Array): ArrayBuffer {
  const maskBytes = Math.ceil(q.length / 8);
  let nonZero = 0;
  for (let i = 0; i < q.length; i++) if (q[i]) nonZero++;
  const out = new Uint8Array(maskBytes + nonZero);
  let v = maskBytes;
  for (let i = 0; i < q.length; i++) {
    if (q[i]) {
      out[i >> 3] |= 1 << (i & 7);
      out[v++] = q[i];
    }
  }
  return out.buffer;
}

export function encodeMaps(x: Float32Array, H: number, W: number, K: number, codec: MapCodec): EncodedMaps {
  if (x.length !== H * W * K) throw new Error(`encodeMaps: expected ${H * W * K} values, got ${x.length}`);
  if (codec === 'float32') return { codec, H, W, K, scale: 1, data: x.slice().buffer };
  if (codec === 'float16') {
    return { codec, H, W, K, scale: 1, data: new Float16Array(x).buffer };
  }
  const { q, max } = companded(x);
  return { codec, H, W, K, scale: max, data: codec === 'uint8' ? q.buffer : sparsify(q) };
}

export function decodeMaps(e: EncodedMaps): Float32Array {
  const n = e.H * e.W * e.K;
  if (e.codec === 'float32') return new Float32Array(e.data, 0, n);
  const out = new Float32Array(n);
  if (e.codec === 'float16') {
    out.set(new Float16Array(e.data, 0, n));
    return out;
  }
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = (i / 255) ** 2 * e.scale;
  const bytes = new Uint8Array(e.data);
  if (e.codec === 'uint8') {
    for (let i = 0; i < n; i++) out[i] = lut[bytes[i]];
    return out;
  }
  if (e.codec !== 'uint8-sparse') throw new Error(`unknown map codec ${String(e.codec)}`);
  const maskBytes = Math.ceil(n / 8);
  let v = maskBytes;
  for (let b = 0; b < maskBytes; b++) {
    let m = bytes[b];
    while (m) {
      const bit = 31 - Math.clz32(m & -m); // lowest set bit
      out[(b << 3) | bit] = lut[bytes[v++]];
      m &= m - 1;
    }
  }
  if (v !== bytes.length) throw new Error(`damaged sparse maps: the mask lists ${v - maskBytes} values, the data holds ${bytes.length - maskBytes}`);
  return out;
}

/** Bytes per value of the dense codecs (uint8-sparse varies per image: see encodedBytes). */
export const bytesPerValue = (codec: Exclude<MapCodec, 'uint8-sparse'>): number => ({ float32: 4, float16: 2, uint8: 1 })[codec];

/** Bytes an image's stored maps take (the scale included for the companded codecs). */
export const encodedBytes = (e: EncodedMaps): number => e.data.byteLength + (e.codec === 'uint8' || e.codec === 'uint8-sparse' ? 4 : 0);
