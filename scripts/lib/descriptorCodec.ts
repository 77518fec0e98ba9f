/** How OfA descriptors could be stored (the evaluation's storage comparison, --codecs). */
import { Float16Array } from '@petamoriken/float16';

/**
 * How an OfA descriptor (l2-normalised, D values) could be stored:
 *  - 'float32': exact, 4 bytes per value;
 *  - 'float16': 2 bytes, relative error <= 2^-11 (absolute <= 2^-25 below 2^-14, float16's subnormal range);
 *  - 'int8': 1 byte + one float32 scale per vector, q = round(127 * x / max|x|). A per-vector scale, not the
 *    fixed 1/127 that unit norm would allow: with D = 768..2048 a typical component is ~1/sqrt(D) = 0.02..0.04,
 *    which a fixed scale would store as 3..5 levels; max|x| is ~0.1..0.3, so the per-vector scale gives 5-10x
 *    finer steps for 4 bytes. Symmetric (signed) because whitened descriptors have negative components.
 */
export type DescriptorCodec = 'float32' | 'float16' | 'int8';

export interface EncodedDescriptor {
  codec: DescriptorCodec;
  /** int8 only: max|x| / 127 (0 for the zero vector). */
  scale: number;
  data: ArrayBuffer;
}

export function encodeDescriptor(x: Float32Array, codec: DescriptorCodec): EncodedDescriptor {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error(`encodeDescriptor: value ${i} is ${x[i]}`);
  if (codec === 'float32') return { codec, scale: 1, data: x.slice().buffer };
  if (codec === 'float16') return { codec, scale: 1, data: new Float16Array(x).buffer };
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]));
  const scale = max / 127;
  const q = new Int8Array(x.length);
  // scale 0 only for the zero vector: it stays all zeros (no 0/0).
  if (scale > 0) for (let i = 0; i < x.length; i++) q[i] = Math.round(x[i] / scale);
  return { codec, scale, data: q.buffer };
}

export function decodeDescriptor(e: EncodedDescriptor): Float32Array {
  if (e.codec === 'float32') return new Float32Array(e.data.slice(0));
  if (e.codec === 'float16') return Float32Array.from(new Float16Array(e.data));
  return Float32Array.from(new Int8Array(e.data), (q) => q * e.scale);
}

/** Bytes one stored descriptor of D values takes (int8: + its float32 scale). */
export const descriptorBytes = (D: number, codec: DescriptorCodec): number => ({ float32: 4 * D, float16: 2 * D, int8: D + 4 })[codec];

