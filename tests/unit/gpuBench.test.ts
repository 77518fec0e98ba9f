/**
 * The GPU benchmark's parts that run anywhere (scripts/bench-gpu.ts): which WebGPU adapters count as a GPU, the
 * generated weights that stand in for ResNet-50's (right sizes, finite outputs, deterministic), the wasm thread
 * policy, and, where `npm run bench:gpu:prepare` has fetched Dawn (.cache/gpu-bench, not in CI), the real script:
 * no Vulkan here, so it must stop at once with "no WebGPU adapter" (exit 3), and on Chromium's SwiftShader Vulkan
 * driver it must refuse the software adapter (exit 4). No timing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DAWN_DIRS, softwareAdapterReason } from '../../scripts/lib/dawn';
import { heFanIn, withGeneratedWeights } from '../../scripts/lib/generatedWeights';
import { projectRoot } from '../../scripts/lib/node';
import { loadModelArtifacts } from '../../src/model/artifacts';
import { modelAdapter } from '../../src/model/adapters';
import { loadNetwork } from '../../src/model/network';
import { autoWasmThreads } from '../../src/model/wasmThreads';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('softwareAdapterReason', () => {
  const gpu = { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA: 580.159.04', isFallbackAdapter: false };
  it('accepts a hardware GPU', () => {
    expect(softwareAdapterReason(gpu)).toBeNull();
  });
  it('refuses SwiftShader as Dawn reports it (fallback adapter), and software drivers that do not say so', () => {
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true };
    expect(softwareAdapterReason(swiftshader)).toMatch(/fallback adapter/);
    expect(softwareAdapterReason({ ...swiftshader, isFallbackAdapter: false })).toMatch(/SwiftShader/i);
    expect(softwareAdapterReason({ ...gpu, vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toMatch(/llvmpipe/);
  });
});

describe('autoWasmThreads: tfjs-backend-wasm cap, hardwareConcurrency / 2, at most 8', () => {
  it.each([
    [undefined, 1],
    [1, 1],
    [2, 1],
    [3, 1],
    [4, 2],
    [8, 4],
    [16, 8],
    [64, 8],
  ])('%s logical cores -> %s thread(s)', (cores, threads) => {
    expect(autoWasmThreads(cores)).toBe(threads);
  });
});

describe('generated weights (scripts/lib/generatedWeights.ts)', () => {
  const folder = join(projectRoot, 'public', 'models', 'mobilenet_v1_0.75');
  const read = async (p: string) => {
    const b = readFileSync(join(folder, p));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  // The models come with `npm install` (scripts/fetch-models.mjs); without them this must fail, not pass.
  const present = existsSync(join(folder, 'model.json'));

  it('give every weight of the manifest its size, BatchNorm as identity, deterministic kernels', async () => {
    expect(present, `${folder} missing: run npm run fetch-models`).toBe(true);
    const real = await loadModelArtifacts(read);
    const a = await loadModelArtifacts(withGeneratedWeights(read, 7));
    const b = await loadModelArtifacts(withGeneratedWeights(read, 7));
    expect(a.weightSpecs).toEqual(real.weightSpecs);
    const bytes = (x: typeof a) => (x.weightData as ArrayBuffer[]).reduce((s, w) => s + w.byteLength, 0);
    expect(bytes(a)).toBe(bytes(real));
    const all = (x: typeof a) => {
      const out = new Uint8Array(bytes(x));
      let at = 0;
      for (const w of x.weightData as ArrayBuffer[]) out.set(new Uint8Array(w), (at += w.byteLength) - w.byteLength);
      return new Float32Array(out.buffer);
    };
    const values = all(a);
    expect(values).toEqual(all(b));
    let offset = 0;
    for (const spec of a.weightSpecs!) {
      const n = spec.shape.reduce((x, y) => x * y, 1);
      const w = values.subarray(offset, offset + n);
      offset += n;
      if (/(gamma|moving_variance)$/.test(spec.name)) expect(w.every((v) => v === 1), spec.name).toBe(true);
      else if (/(beta|moving_mean|bias)$/.test(spec.name)) expect(w.every((v) => v === 0), spec.name).toBe(true);
      else {
        const bound = Math.sqrt(6 / heFanIn(spec)) * (1 + 1e-6); // float32 rounding
        expect(w.every((v) => Math.abs(v) <= bound) && w.some((v) => v !== 0), spec.name).toBe(true);
      }
    }
    expect(offset).toBe(values.length);
  });

  it('make a network that runs: finite maps, probabilities summing to 1', async () => {
    expect(present, `${folder} missing: run npm run fetch-models`).toBe(true);
    const net = await loadNetwork(modelAdapter('mobilenet_v1_0.75'), withGeneratedWeights(read), { longSide: 64 });
    try {
      const pixels = tf.randomUniform([48, 64, 3], 0, 255, 'int32', 3) as tf.Tensor3D;
      const r = net.forward(pixels, 64);
      const [X, p] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
      tf.dispose([pixels, r.X, r.probabilities]);
      expect(X.every(Number.isFinite)).toBe(true);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    } finally {
      net.dispose();
    }
  });
});

const dawn = DAWN_DIRS.map((d) => join(projectRoot, d)).find((d) => existsSync(join(d, 'dist', 'linux-x64', 'dawn.node')));
if (!dawn) console.warn('[gpu bench] SKIPPING the real Dawn checks: run `npm run bench:gpu:prepare` first (it fetches the webgpu package)');

describe.skipIf(!dawn)('scripts/bench-gpu.ts with the real Dawn on this machine (no GPU)', () => {
  const run = (env: Record<string, string>) => {
    const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx');
    const r = spawnSync(tsx, ['scripts/bench-gpu.ts', '--quick'], { cwd: projectRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  // (No timing is asserted: the run's 60 s timeout is the guard against a hang, and a killed run has no exit 3.)
  it('without a Vulkan driver: stops, "no WebGPU adapter", exit 3', () => {
    const { status, out } = run({ LD_LIBRARY_PATH: '', VK_DRIVER_FILES: '/nonexistent.json' });
    expect(out).toMatch(/no WebGPU adapter: Dawn found no usable Vulkan driver.*needs a GPU machine/s);
    expect(status).toBe(3);
  });

  it.skipIf(!existsSync('/usr/lib/chromium/vk_swiftshader_icd.json'))('on SwiftShader (Chromium\'s Vulkan driver): refuses the software adapter, exit 4', () => {
    const { status, out } = run({ LD_LIBRARY_PATH: '/usr/lib/chromium', VK_DRIVER_FILES: '/usr/lib/chromium/vk_swiftshader_icd.json' });
    expect(out).toMatch(/refusing the WebGPU adapter ".*swiftshader.*": it is a fallback adapter.*--allow-software/is);
    expect(status).toBe(4);
  });
});
