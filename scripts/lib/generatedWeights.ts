/**
 * A model folder's network with GENERATED weights: the real model.json (topology and weight manifest: every name,
 * shape and dtype) with seeded random values in place of the weight files. For timing only, where the weights
 * cannot travel (ResNet-50's 98 MB of float32 do not fit the GPU machine's 64 MiB transfer, BENCHMARKS.md "GPU"):
 * a forward pass does the same arithmetic on the same shapes whatever the values, so it takes the same time. The
 * GPU benchmark checks that claim on MobileNet, whose real weights travel, in the same run.
 *
 * Values: BatchNorm as identity (gamma and moving variance 1, beta and moving mean 0), biases 0, kernels He-uniform
 * (+-sqrt(6 / fan-in)), so activations stay finite through the 50 layers.
 */
import type { io } from '@tensorflow/tfjs-core';
import { prng } from '../../src/util/prng';
import type { ReadModelFile } from '../../src/model/artifacts';

/** Inputs feeding one output: kh * kw * cin for a convolution, kh * kw for a depthwise one, in for a dense one. */
export function heFanIn(spec: io.WeightsManifestEntry): number {
  const dims = /depthwise_kernel$/.test(spec.name) ? spec.shape.slice(0, -2) : spec.shape.slice(0, -1);
  return dims.reduce((a, b) => a * b, 1) || 1;
}

function fill(spec: io.WeightsManifestEntry, out: Float32Array, rand: () => number): void {
  const name = spec.name;
  if (/(gamma|moving_variance)$/.test(name)) out.fill(1);
  else if (/(beta|bias|moving_mean)$/.test(name)) out.fill(0);
  else {
    const fanIn = heFanIn(spec);
    const a = Math.sqrt(6 / fanIn);
    for (let i = 0; i < out.length; i++) out[i] = (2 * rand() - 1) * a;
  }
}

/**
 * Wraps a reader of the model folder: model.json and labels.json come from `read`; each weight group's first file
 * gets the whole group's generated values and its other files come back empty (loadModelArtifacts checks the
 * total, tfjs concatenates the group's buffers). Only float32 weights, as both models have.
 */
export function withGeneratedWeights(read: ReadModelFile, seed = 1): ReadModelFile {
  let groups: Map<string, io.WeightsManifestEntry[] | null> | null = null;
  return async (path) => {
    if (!groups) {
      const json = JSON.parse(new TextDecoder().decode(await read('model.json'))) as { weightsManifest: io.WeightsManifestConfig };
      groups = new Map();
      for (const g of json.weightsManifest) g.paths.forEach((p, i) => groups!.set(p, i === 0 ? g.weights : null));
    }
    if (!groups.has(path)) return read(path);
    const specs = groups.get(path);
    if (!specs) return new ArrayBuffer(0);
    const rand = prng(seed);
    const sizes = specs.map((s) => s.shape.reduce((a, b) => a * b, 1));
    const all = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    specs.forEach((spec, i) => {
      if (spec.dtype !== 'float32' || spec.quantization) throw new Error(`generated weights: ${spec.name} is not plain float32`);
      fill(spec, all.subarray(offset, offset + sizes[i]), rand);
      offset += sizes[i];
    });
    return all.buffer;
  };
}
