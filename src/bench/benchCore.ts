/**
 * Benchmark building blocks shared by `npm run bench` (Node, scripts/bench.ts) and the in-browser page
 * (bench.html + src/bench/page.ts): statistics, timing loops, deterministic synthetic data, memory probes and
 * per-image storage sizes. Only tfjs-core and the project's own modules: no Node or DOM APIs (performance.now()
 * exists in both).
 *
 * Rules every figure follows (BENCHMARKS.md): warm-up runs first, then repeated runs; report medians (and the
 * spread), and ratios of medians measured in the same run. Nothing here asserts a timing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { median } from '../util/median';
import { prng } from '../util/prng';

// ---------------------------------------------------------------------------------------------------------------
// Statistics


export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many timed runs (warm-up runs excluded). */
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    median: median(samples),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
    n: samples.length,
  };
}

/** a / b, NaN when either is not a finite number or b is 0. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// Timing

export interface TimingOptions {
  /** Untimed runs first (shader compilation, XNNPACK operator creation, JIT). */
  warmup: number;
  /** Timed runs. */
  repeats: number;
}

export const now = (): number => performance.now();

/** Runs `fn` warmup + repeats times, one after the other; returns the timed durations in ms. */
export async function timeRuns(fn: () => Promise<unknown>, { warmup, repeats }: TimingOptions): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    await fn();
    samples.push(now() - t0);
  }
  return samples;
}

/**
 * Times several variants round-robin (A B C, A B C, ...), so slow drift and bursts of load on a shared machine
 * hit every variant alike and ratios of their medians stay meaningful. Each variant gets `warmup` untimed runs
 * first. Returns the durations (ms) per variant name.
 */
export async function timeInterleaved(
  variants: Record<string, () => Promise<unknown>>,
  { warmup, repeats }: TimingOptions,
  onRound?: (round: number) => void,
): Promise<Record<string, number[]>> {
  const names = Object.keys(variants);
  for (let i = 0; i < warmup; i++) for (const n of names) await variants[n]();
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < repeats; r++) {
    for (const n of names) {
      const t0 = now();
      await variants[n]();
      samples[n].push(now() - t0);
    }
    onRound?.(r + 1);
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic synthetic data


/**
 * A deterministic RGB test image [height, width, 3] (int32, 0..255): smooth colour gradients, a few rectangles and
 * noise, so the network sees some structure. Used when no real photo is available.
 */
export function syntheticImage(height: number, width: number, seed = 1): tf.Tensor3D {
  const rand = prng(seed);
  const data = new Int32Array(height * width * 3);
  const boxes = Array.from({ length: 6 }, () => ({
    x: rand() * width, y: rand() * height, w: (0.1 + 0.3 * rand()) * width, h: (0.1 + 0.3 * rand()) * height,
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      let rgb = [(255 * x) / width, (255 * y) / height, 128 + 100 * Math.sin((x + y) / 37)];
      for (const b of boxes) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) rgb = b.c;
      for (let c = 0; c < 3; c++) data[i + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + 24 * (rand() - 0.5))));
    }
  }
  return tf.tensor3d(data, [height, width, 3], 'int32');
}

/** How a real feature map looks, to make synthetic ones alike: fraction of zeros and mean of the non-zero values. */
export interface MapStatistics {
  zeroFraction: number;
  nonZeroMean: number;
}

export function mapStatistics(x: ArrayLike<number>): MapStatistics {
  let zeros = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > 0) sum += x[i];
    else zeros++;
  }
  const nonZero = x.length - zeros;
  return { zeroFraction: x.length ? zeros / x.length : 0, nonZeroMean: nonZero ? sum / nonZero : 0 };
}

/** Stand-in statistics when no real photo is available (ResNet-50 at long side 512 on Paris photos: about half zeros). */
export const DEFAULT_MAP_STATISTICS: MapStatistics = { zeroFraction: 0.5, nonZeroMean: 1 };

/**
 * Synthetic post-ReLU feature maps [H * W * K] (channels last): each value is 0 with probability zeroFraction, else
 * exponential with mean nonZeroMean (a heavy right tail, like real activations). Deterministic for a seed.
 */
export function syntheticMaps(H: number, W: number, K: number, stats: MapStatistics, seed: number): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(H * W * K);
  for (let i = 0; i < out.length; i++) {
    const u = rand();
    if (u >= stats.zeroFraction) {
      // Reuse u: (u - z) / (1 - z) is uniform on [0, 1) given u >= z.
      const v = (u - stats.zeroFraction) / (1 - stats.zeroFraction);
      out[i] = -stats.nonZeroMean * Math.log(1 - v);
    }
  }
  return out;
}

/**
 * One synthetic l2-normalised descriptor row (non-negative, as un-whitened CW descriptors are), written into `out`
 * at `offset` with the given stride (1: row-major [N, D]; N: the transposed layout [D, N]). Row `i` of a collection
 * always gets the same values, so both layouts hold the same collection.
 */
function writeDescriptorRow(out: Float32Array, D: number, row: number, offset: number, stride: number, seed = 7): void {
  const rand = prng((seed * 2654435761 + row) >>> 0);
  const tmp = new Float32Array(D);
  let norm = 0;
  for (let d = 0; d < D; d++) {
    const v = rand() ** 2;
    tmp[d] = v;
    norm += v * v;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < D; d++) out[offset + d * stride] = tmp[d] * inv;
}

/**
 * N synthetic descriptors (rows firstRow .. firstRow + N - 1 of the collection), row-major [N, D] (layout 'rows') or
 * transposed [D, N] (layout 'columns').
 */
export function syntheticDescriptors(N: number, D: number, layout: 'rows' | 'columns', seed = 7, firstRow = 0): Float32Array {
  const out = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    if (layout === 'rows') writeDescriptorRow(out, D, firstRow + i, i * D, 1, seed);
    else writeDescriptorRow(out, D, firstRow + i, i, N, seed);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Top-k on the CPU

/**
 * Indices of the k largest scores, largest first (ties: lower index first), by one pass with a small sorted
 * buffer: O(N log k) instead of sorting all N scores.
 */
export function topKIndices(scores: ArrayLike<number>, k: number): Int32Array {
  const n = Math.min(k, scores.length);
  const idx = new Int32Array(n);
  const val = new Float64Array(n);
  let size = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = Number.isNaN(scores[i]) ? -Infinity : scores[i];
    if (size === n && !(s > val[n - 1])) continue;
    let j = size < n ? size++ : n - 1;
    while (j > 0 && val[j - 1] < s) {
      val[j] = val[j - 1];
      idx[j] = idx[j - 1];
      j--;
    }
    val[j] = s;
    idx[j] = i;
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------------------------
// Memory

export interface MemorySnapshot {
  numTensors: number;
  numBytes: number;
  /** wasm backend only: the size of the wasm heap (it grows and never shrinks). */
  wasmHeapBytes?: number;
}

interface WasmBackendLike {
  wasm?: { HEAPU8?: Uint8Array };
}

export function memorySnapshot(): MemorySnapshot {
  const m = tf.memory();
  const snap: MemorySnapshot = { numTensors: m.numTensors, numBytes: m.numBytes };
  if (tf.getBackend() === 'wasm') {
    const heap = (tf.backend() as unknown as WasmBackendLike).wasm?.HEAPU8;
    if (heap) snap.wasmHeapBytes = heap.byteLength;
  }
  return snap;
}

export interface PeakMemory {
  /** Bytes held by tensors before the work (model weights and anything resident). */
  residentBytes: number;
  /** Highest tensor bytes during the work minus residentBytes: the working memory one image needs. */
  peakBytesAbove: number;
  /** Tensors and bytes still held after the work (0 when it cleans up after itself). */
  newTensors: number;
  newBytes: number;
  /** Kernels the work ran. */
  kernels: number;
}

/** tf.profile of one piece of work: peak tensor memory above what was resident, and what it left behind. */
export async function peakMemory(work: () => Promise<void>): Promise<PeakMemory> {
  const residentBytes = tf.memory().numBytes;
  const info = await tf.profile(work);
  return {
    residentBytes,
    peakBytesAbove: Math.max(0, (info.kernels.length ? info.peakBytes : residentBytes) - residentBytes),
    newTensors: info.newTensors,
    newBytes: info.newBytes,
    kernels: info.kernels.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Storage per image

export interface StorageSizes {
  /** OfA search state: the descriptor alone, float32. */
  ofaDescriptorBytes: number;
  /**
   * What the app's `features` record holds as typed arrays: the descriptor plus all C class probabilities (kept so
   * NC can change without the network), float32.
   */
  ofaRecordBytes: number;
  /** OnA / re-ranking state: the encoded feature maps X, per codec (+ 8 bytes for uint8's scale). */
  mapsBytes: { uint8: number; float16: number; float32: number };
}

export function storageSizes(H: number, W: number, K: number, D: number, classes: number): StorageSizes {
  const values = H * W * K;
  return {
    ofaDescriptorBytes: 4 * D,
    ofaRecordBytes: 4 * D + 4 * classes,
    mapsBytes: { uint8: values + 8, float16: 2 * values, float32: 4 * values },
  };
}
