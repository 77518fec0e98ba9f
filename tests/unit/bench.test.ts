/**
 * The benchmark helpers (src/bench): statistics, interleaved timing order, deterministic synthetic data, CPU top-k,
 * storage sizes, option parsing, BENCHMARKS.md sections, and that the candidate formulations of src/bench/fastCw.ts
 * give the same results as the product code of src/search (cpu backend). No timing is asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { prng } from '../../src/util/prng';
import {
  mapStatistics,
  ratio,
  storageSizes,
  summarize,
  syntheticDescriptors,
  syntheticImage,
  syntheticMaps,
  timeInterleaved,
  topKIndices,
} from '../../src/bench/benchCore';
import { topKTransposed } from '../../src/bench/fastCw';
import { median } from '../../src/util/median';
import { replaceMarkedSection, fmtBytes, fmtMs } from '../../src/bench/report';
import { applyOverrides, defaultConfig } from '../../src/bench/runAll';
import { rankDescending } from '../../src/cw/ranking';
import { onlineDescriptors } from '../../src/search/search';
import type { Collection } from '../../src/search/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});


describe('statistics', () => {
  it('median of odd, even, unsorted and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('summarize and ratio', () => {
    expect(summarize([3, 1, 2, 10])).toEqual({ median: 2.5, min: 1, max: 10, n: 4 });
    expect(summarize([]).n).toBe(0);
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(NaN, 1)).toBeNaN();
  });

  it('timeInterleaved runs warm-ups first, then variants round-robin', async () => {
    const order: string[] = [];
    const samples = await timeInterleaved(
      { a: async () => void order.push('a'), b: async () => void order.push('b') },
      { warmup: 1, repeats: 3 },
    );
    expect(order.join('')).toBe('ab' + 'ababab');
    expect(samples.a).toHaveLength(3);
    expect(samples.b.every((t) => t >= 0)).toBe(true);
  });
});

describe('synthetic data', () => {
  it('prng is deterministic and uniform-looking', () => {
    const a = prng(42);
    const b = prng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(median(xs)).toBeGreaterThan(0.4);
    expect(median(xs)).toBeLessThan(0.6);
  });

  it('synthetic maps have the requested zero fraction and non-zero mean', () => {
    const x = syntheticMaps(12, 16, 256, { zeroFraction: 0.5, nonZeroMean: 2 }, 1);
    const s = mapStatistics(x);
    expect(s.zeroFraction).toBeCloseTo(0.5, 1);
    expect(s.nonZeroMean).toBeGreaterThan(1.8);
    expect(s.nonZeroMean).toBeLessThan(2.2);
    expect(syntheticMaps(2, 2, 3, { zeroFraction: 0.5, nonZeroMean: 2 }, 1)).toEqual(syntheticMaps(2, 2, 3, { zeroFraction: 0.5, nonZeroMean: 2 }, 1));
  });

  it('synthetic descriptors: unit rows, the same collection in both layouts', () => {
    const [N, D] = [7, 5];
    const rows = syntheticDescriptors(N, D, 'rows');
    const cols = syntheticDescriptors(N, D, 'columns');
    for (let i = 0; i < N; i++) {
      let norm = 0;
      for (let d = 0; d < D; d++) {
        norm += rows[i * D + d] ** 2;
        expect(cols[d * N + i]).toBe(rows[i * D + d]);
      }
      expect(norm).toBeCloseTo(1, 5);
    }
  });

  it('synthetic image: int32 RGB in 0..255', () => {
    const img = syntheticImage(20, 30, 3);
    expect(img.shape).toEqual([20, 30, 3]);
    expect(img.dtype).toBe('int32');
    const v = img.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(255);
    img.dispose();
  });
});

describe('top-k on the CPU', () => {
  it('matches the first k of a full descending sort, ties by index, NaN last', () => {
    const rand = prng(3);
    const scores = Float32Array.from({ length: 500 }, () => Math.round(rand() * 50) / 50);
    scores[10] = NaN;
    for (const k of [1, 5, 100, 500, 600]) expect(Array.from(topKIndices(scores, k))).toEqual(Array.from(rankDescending(scores).slice(0, k)));
  });
});

describe('storage sizes', () => {
  it('counts bytes per image for OfA and the encoded maps', () => {
    const s = storageSizes(12, 16, 2048, 2048, 1000);
    expect(s.ofaDescriptorBytes).toBe(8192);
    expect(s.ofaRecordBytes).toBe(8192 + 4000);
    expect(s.mapsBytes).toEqual({ uint8: 12 * 16 * 2048 + 8, float16: 2 * 12 * 16 * 2048, float32: 4 * 12 * 16 * 2048 });
  });
});

describe('config and report helpers', () => {
  it('applies overrides and rejects bad values', () => {
    const c = applyOverrides(defaultConfig(true), { models: 'resnet50', longSides: '256,512', onaSizes: '50', sections: 'ofa,ona', unknown: 'x' });
    expect(c.models).toEqual(['resnet50']);
    expect(c.longSides).toEqual([256, 512]);
    expect(c.onaSizes).toEqual({ 'mobilenet_v1_0.75': [50] });
    expect(c.sections).toEqual(['ofa', 'ona']);
    expect(() => applyOverrides(defaultConfig(true), { models: 'vgg' })).toThrow(/unknown model/);
    expect(() => applyOverrides(defaultConfig(true), { repeats: '0' })).toThrow(/integers >= 1/);
    expect(() => applyOverrides(defaultConfig(true), { sections: 'forward,nope' })).toThrow(/unknown "nope"/);
  });

  it('replaces a marked section, or appends it', () => {
    const doc = '# B\n\nintro\n<!-- bench:node-wasm:start -->\nold\n<!-- bench:node-wasm:end -->\nafter\n';
    expect(replaceMarkedSection(doc, 'node-wasm', 'new')).toBe('# B\n\nintro\n<!-- bench:node-wasm:start -->\nnew\n<!-- bench:node-wasm:end -->\nafter\n');
    expect(replaceMarkedSection('# B\n', 'x', 'body')).toBe('# B\n\n<!-- bench:x:start -->\nbody\n<!-- bench:x:end -->\n');
  });

  it('formats', () => {
    expect(fmtMs(1234.5)).toBe('1235');
    expect(fmtMs(0.1234)).toBe('0.123');
    expect(fmtMs(NaN)).toBe('n/a');
    expect(fmtBytes(2048)).toBe('2.0 KiB');
    expect(fmtBytes(3 * 1024 ** 2)).toBe('3.0 MiB');
  });
});

describe('candidate formulations give the product results', () => {
  const K = 24;
  const C = 40;
  const sizes: [number, number][] = [[3, 4], [2, 5], [4, 4]];
  const maps = () => sizes.map(([H, W], i) => tf.tensor3d(syntheticMaps(H, W, K, { zeroFraction: 0.5, nonZeroMean: 1 }, 10 + i), [H, W, K]));

  it('topKTransposed == ranking of onlineDescriptors', async () => {
    const w = tf.randomNormal([K, C], 0, 1, 'float32', 6) as tf.Tensor2D;
    const classes = tf.tensor1d([1, 2, 30], 'int32');
    const ms = maps();
    const collection: Collection = {
      size: ms.length,
      grids: sizes.map(([H, W]) => ({ H, W, cellWidth: 32, cellHeight: 32, imageWidth: 32 * W, imageHeight: 32 * H })),
      offlineDescriptors: null,
      maps: async (indices) => indices.map((i) => tf.clone(ms[i])),
    };
    for (const chunk of [1, 2]) {
      const a = await onlineDescriptors(collection, classes, { w, whitening: null, chunkSize: chunk });
      const q = tf.tensor1d(syntheticDescriptors(1, K, 'rows', 8));
      const dbT = tf.transpose(a) as tf.Tensor2D;
      const { indices, scores } = await topKTransposed(dbT, q, 2);
      const full = tf.tidy(() => tf.squeeze(tf.matMul(a, tf.expandDims(q, 1))).dataSync());
      expect(Array.from(indices)).toEqual(Array.from(rankDescending(full).slice(0, 2)));
      expect(scores[0]).toBeCloseTo(Math.max(...full), 5);
      tf.dispose([a, q, dbT]);
    }
    tf.dispose([w, classes, ...ms]);
  });
});
