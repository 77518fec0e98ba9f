/** OfA descriptor quantisers of the storage comparison (npm run eval -- --codecs): round-trip error bounds. */
import { describe, expect, it } from 'vitest';
import { decodeDescriptor, descriptorBytes, encodeDescriptor, type DescriptorCodec } from '../../scripts/lib/evaluate';
import { seededValues } from '../../scripts/lib/random';

const D = 2048;
/** An l2-normalised vector like a CW descriptor; `signed` like a whitened one. */
function unitVector(seed: number, signed: boolean): Float32Array {
  const v = Float32Array.from(seededValues(D, seed, 0.3), (x) => (signed ? x - 0.5 : x));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
const cosine = (a: Float32Array, b: Float32Array) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};

describe('descriptor codecs', () => {
  for (const signed of [false, true]) {
    it(`round trips within the error bound of each codec (${signed ? 'signed' : 'non-negative'})`, () => {
      const x = unitVector(signed ? 11 : 7, signed);
      const max = Math.max(...x.map(Math.abs));
      const f32 = decodeDescriptor(encodeDescriptor(x, 'float32'));
      expect(Array.from(f32)).toEqual(Array.from(x));
      const f16 = decodeDescriptor(encodeDescriptor(x, 'float16'));
      // Half an ulp: 2^-11 relative for normal float16 values, 2^-25 absolute in the subnormal range.
      x.forEach((v, i) => expect(Math.abs(f16[i] - v)).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -11, 2 ** -25)));
      const i8 = decodeDescriptor(encodeDescriptor(x, 'int8'));
      // Half a step of the per-vector scale max|x|/127 (plus float32 rounding).
      x.forEach((v, i) => expect(Math.abs(i8[i] - v)).toBeLessThanOrEqual((max / 127) * 0.5 * (1 + 1e-6)));
      // The largest component is stored exactly (q = +-127), signs are kept.
      const arg = x.findIndex((v) => Math.abs(v) === max);
      expect(i8[arg]).toBeCloseTo(x[arg], 6);
      x.forEach((v, i) => expect(i8[i] * v).toBeGreaterThanOrEqual(0));
      expect(cosine(x, i8)).toBeGreaterThan(0.999);
      expect(cosine(x, f16)).toBeGreaterThan(0.999999);
    });
  }

  it('keeps the zero vector and exact zeros at zero', () => {
    for (const codec of ['float32', 'float16', 'int8'] as DescriptorCodec[]) {
      const zero = decodeDescriptor(encodeDescriptor(new Float32Array(16), codec));
      expect(Array.from(zero)).toEqual(new Array(16).fill(0));
      const sparse = Float32Array.from({ length: 16 }, (_, i) => (i % 3 ? 0 : 0.25 + i / 64));
      const back = decodeDescriptor(encodeDescriptor(sparse, codec));
      sparse.forEach((v, i) => v === 0 && expect(back[i]).toBe(0));
    }
  });

  it('stores int8 in D bytes + a float32 scale, and refuses non-finite values', () => {
    const e = encodeDescriptor(unitVector(3, true), 'int8');
    expect(e.data.byteLength + 4).toBe(descriptorBytes(D, 'int8'));
    expect(encodeDescriptor(unitVector(3, true), 'float16').data.byteLength).toBe(descriptorBytes(D, 'float16'));
    expect(() => encodeDescriptor(Float32Array.of(0.5, NaN), 'int8')).toThrow(/NaN/);
  });
});
