/**
 * How stored feature maps come back (src/index/mapCodec.ts), against the float32 maps they were made from.
 *
 * uint8 stores q = round(255 * sqrt(x / M)), M = max(x), with q >= 1 for any x > 0, and decodes x' = M (q/255)^2.
 * With s = sqrt(x / M) and rounding error |q/255 - s| <= e = 1/510:
 *   |x' - x| = M |q/255 - s| (q/255 + s) <= M e (2s + e) = sqrt(x M) / 255 + M / 260100      (x >= M / 510^2)
 *   0 < x' - x <= M / 255^2, as q is raised to 1                                              (0 < x < M / 510^2)
 * and at most M (1/255 + 1/260100) anywhere (s = 1). Zeros decode to exactly 0 and nothing else does.
 * float16 rounds to the nearest half-precision value: relative error <= 2^-11 for normal values (>= 2^-14),
 * absolute error <= 2^-25 below that.
 */
import { describe, expect, it } from 'vitest';
import { bytesPerValue, decodeMaps, encodeMaps, encodedBytes, sparsify, type MapCodec } from '../../src/index/mapCodec';
import { seededValues } from '../../scripts/lib/random';

const [H, W, K] = [12, 16, 256];
const N = H * W * K;

/** Post-ReLU-like maps: per channel ReLU(N(mu_k, sigma_k)) (some channels dead), and a few strong peaks. */
function reluMaps(seed: number): Float32Array {
  const u = seededValues(2 * N + 2 * K, seed, 0);
  const x = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    const mu = 3 * (u[2 * N + k] - 0.6); // from -1.8 to 1.2: many channels mostly zero, some mostly positive
    const sigma = 0.2 + 2 * u[2 * N + K + k];
    for (let p = 0; p < H * W; p++) {
      const i = p * K + k;
      // Box-Muller on two uniforms from (0, 1].
      const z = Math.sqrt(-2 * Math.log(1 - u[2 * i])) * Math.cos(2 * Math.PI * u[2 * i + 1]);
      x[i] = Math.max(0, mu + sigma * z);
    }
  }
  for (let j = 0; j < 20; j++) x[Math.floor(u[j] * N)] *= 8; // a few activations far above the rest
  return x;
}

/** The bound on |x' - x| derived above, plus float32 rounding of x' (a few units in the last place of M). */
function uint8Bound(x: number, M: number): number {
  const slack = M * 2 ** -21;
  return (x >= M / 510 ** 2 ? Math.sqrt(x * M) / 255 + M / 260100 : M / 255 ** 2) + slack;
}

const roundTrip = (x: Float32Array, codec: MapCodec) => decodeMaps(encodeMaps(x, H, W, K, codec));

describe('uint8 maps', () => {
  for (const seed of [1, 2, 3]) {
    it(`stay within the derived error bound of float32, and the bound is tight (seed ${seed})`, () => {
      const x = reluMaps(seed);
      const M = x.reduce((m, v) => Math.max(m, v), 0);
      const back = roundTrip(x, 'uint8');
      let worstRatio = 0;
      let maxError = 0;
      for (let i = 0; i < N; i++) {
        const err = Math.abs(back[i] - x[i]);
        if (err > uint8Bound(x[i], M)) expect.fail(`value ${i}: x = ${x[i]}, decoded ${back[i]}, error ${err} > bound ${uint8Bound(x[i], M)}`);
        maxError = Math.max(maxError, err);
        if (x[i] > 0) worstRatio = Math.max(worstRatio, err / uint8Bound(x[i], M));
      }
      expect(maxError).toBeLessThanOrEqual(M * (1 / 255 + 1 / 260100) * (1 + 1e-6));
      // Some value comes close to its bound: the bound describes this codec, it is not merely loose.
      expect(worstRatio).toBeGreaterThan(0.9);
    });
  }

  it('keep the zero / non-zero pattern exactly, tiny positive values included, and the maximum exactly', () => {
    const x = reluMaps(4);
    const M = x.reduce((m, v) => Math.max(m, v), 0);
    x[5] = M * 1e-9; // far below one quantisation step
    x[6] = Number.MIN_VALUE;
    const zeros = x.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    expect(zeros / N).toBeGreaterThan(0.3); // the maps are sparse, as after a ReLU
    const back = roundTrip(x, 'uint8');
    for (let i = 0; i < N; i++) if ((back[i] === 0) !== (x[i] === 0)) expect.fail(`value ${i}: x = ${x[i]}, decoded ${back[i]}`);
    expect(back[5]).toBeCloseTo(M / 255 ** 2, 10);
    expect(back[x.indexOf(M)]).toBe(M);
  });

  it('an all-zero map decodes to zeros; one byte per value; the wrong length is refused', () => {
    const e = encodeMaps(new Float32Array(N), H, W, K, 'uint8');
    expect(e.scale).toBe(0);
    expect(Array.from(decodeMaps(e)).every((v) => v === 0)).toBe(true);
    expect(e.data.byteLength).toBe(N * bytesPerValue('uint8'));
    expect(() => encodeMaps(new Float32Array(N - 1), H, W, K, 'uint8')).toThrow(`encodeMaps: expected ${N} values, got ${N - 1}`);
  });
});

describe('float16 and float32 maps', () => {
  it('float16: relative error <= 2^-11 for normal values, absolute <= 2^-25 for subnormal ones, zeros kept', () => {
    // Values spread over magnitudes from 1e-8 to 6e4 (float16's largest finite value is 65504).
    const x = Float32Array.from(seededValues(N, 9, 0.4), (v, i) => (v === 0 ? 0 : v * 10 ** ((i % 13) - 8)));
    x[0] = 60000;
    const back = roundTrip(x, 'float16');
    for (let i = 0; i < N; i++) {
      const bound = Math.abs(x[i]) >= 2 ** -14 ? Math.abs(x[i]) * 2 ** -11 : 2 ** -25;
      if (Math.abs(back[i] - x[i]) > bound) expect.fail(`value ${i}: x = ${x[i]}, decoded ${back[i]}`);
      if (x[i] === 0 && back[i] !== 0) expect.fail(`value ${i}: 0 decoded as ${back[i]}`);
    }
    expect(encodeMaps(x, H, W, K, 'float16').data.byteLength).toBe(N * 2);
  });

  it('float32: exact, and a copy (changing the maps afterwards does not change what was stored)', () => {
    const x = reluMaps(5);
    const e = encodeMaps(x, H, W, K, 'float32');
    const original = x.slice();
    x.fill(7);
    expect(Array.from(decodeMaps(e))).toEqual(Array.from(original));
    expect(e.data.byteLength).toBe(N * 4);
  });
});

describe('uint8-sparse maps', () => {
  for (const seed of [1, 2]) {
    it(`decode to exactly what uint8 decodes to, in a bit mask plus one byte per non-zero value (seed ${seed})`, () => {
      const x = reluMaps(seed);
      const dense = encodeMaps(x, H, W, K, 'uint8');
      const sparse = encodeMaps(x, H, W, K, 'uint8-sparse');
      expect(Array.from(decodeMaps(sparse))).toEqual(Array.from(decodeMaps(dense)));
      expect(sparse.scale).toBe(dense.scale);
      const nonZero = new Uint8Array(dense.data).reduce((n, q) => n + (q ? 1 : 0), 0);
      expect(sparse.data.byteLength).toBe(Math.ceil(N / 8) + nonZero);
      expect(new Uint8Array(sparsify(new Uint8Array(dense.data)))).toEqual(new Uint8Array(sparse.data));
      expect(encodedBytes(sparse)).toBe(sparse.data.byteLength + 4);
    });
  }

  it('all zeros take the mask only; a mask that promises more values than the data holds is an error', () => {
    const zeros = encodeMaps(new Float32Array(N), H, W, K, 'uint8-sparse');
    expect(zeros.data.byteLength).toBe(N / 8);
    expect(Array.from(decodeMaps(zeros)).every((v) => v === 0)).toBe(true);
    const cut = { ...encodeMaps(reluMaps(3), H, W, K, 'uint8-sparse') };
    cut.data = cut.data.slice(0, cut.data.byteLength - 5);
    expect(() => decodeMaps(cut)).toThrow(/damaged sparse maps/);
  });
});
