/**
 * npm run bench:kernels -- [--models resnet50,mobilenet_v1_0.75] [--long-side 512] [--repeats 3]
 *
 * Where a forward pass's time goes on tfjs-backend-wasm (Node: the single-threaded SIMD build, the same XNNPACK
 * kernels as the browser), to tell what threads can speed up (BENCHMARKS.md "wasm threads"): tf.profile's time per
 * kernel, summed into the convolutions and matrix products (compute-bound, XNNPACK splits them across threads) and
 * everything else (element-wise, batch norm, padding, resizing, pooling: short and memory-bound, or not threaded),
 * plus the time outside any kernel (tfjs' JavaScript, reading the outputs back). Amdahl's law then bounds the
 * speed-up on n threads from above: 1 / (rest + parallel / n). Medians over --repeats profiled passes, one run.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { median } from '../src/util/median';
import { modelAdapter, type ModelId } from '../src/model/adapters';
import { decodeImageFile, loadNodeNetwork, sharedDir, useNodeBackend } from './lib/node';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,mobilenet_v1_0.75' },
    'long-side': { type: 'string', default: '512' },
    repeats: { type: 'string', default: '3' },
  },
  strict: true,
});

/** Kernels XNNPACK runs as convolutions or matrix products (tfjs-backend-wasm's conv2d_impl and batch_mat_mul). */
const PARALLEL = /^(_Fused)?(Conv2D|DepthwiseConv2dNative|FusedConv2D|FusedDepthwiseConv2D|BatchMatMul|MatMul)$/;

async function main(): Promise<void> {
  await useNodeBackend('wasm');
  const longSide = Number(a['long-side']);
  const shared = sharedDir();
  const photo = shared
    ? await decodeImageFile(join(shared, 'data', 'paris6k-mini-dev', 'jpg', 'paris_defense_000000.jpg'))
    : (tf.randomUniform([768, 1024, 3], 0, 255, 'int32', 1) as tf.Tensor3D);
  const rows: string[] = [];
  for (const id of a.models!.split(',') as ModelId[]) {
    modelAdapter(id);
    const net = await loadNodeNetwork(id, longSide);
    const forward = async () => {
      const r = net.forward(photo, longSide);
      await Promise.all([r.X.data(), r.probabilities.data()]);
      tf.dispose([r.X, r.probabilities]);
    };
    await forward(); // warm-up: XNNPACK operators are created on the first pass
    const runs: { wall: number; parallel: number; rest: number; kernels: number }[] = [];
    for (let i = 0; i < Number(a.repeats); i++) {
      const t0 = performance.now();
      const info = await tf.profile(forward);
      const wall = performance.now() - t0;
      let parallel = 0;
      let rest = 0;
      // Entries named `op__op` are the op wrappers around their kernels: counting them would count twice.
      const kernels = info.kernels.filter((k) => !k.name.endsWith('__op'));
      for (const k of kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        if (PARALLEL.test(k.name)) parallel += ms;
        else rest += ms;
      }
      runs.push({ wall, parallel, rest, kernels: kernels.length });
    }
    net.dispose();
    const wall = median(runs.map((r) => r.wall));
    const parallel = median(runs.map((r) => r.parallel));
    const rest = median(runs.map((r) => r.rest));
    const outside = Math.max(0, wall - parallel - rest);
    const p = parallel / wall;
    const amdahl = (n: number) => (1 / (1 - p + p / n)).toFixed(2);
    rows.push(
      `| ${id} | ${runs[0].kernels} | ${wall.toFixed(0)} | ${parallel.toFixed(0)} (${(100 * p).toFixed(1)} %) | ${rest.toFixed(0)} (${((100 * rest) / wall).toFixed(1)} %) | ` +
        `${outside.toFixed(0)} (${((100 * outside) / wall).toFixed(1)} %) | ${amdahl(2)}x / ${amdahl(4)}x / ${amdahl(8)}x |`,
    );
    console.error(`[bench:kernels] ${id}: done`);
  }
  photo.dispose();
  console.log(
    [
      `Forward pass at long side ${longSide}, tfjs-backend-wasm single-threaded (Node ${process.version}), median of ${a.repeats} profiled passes, ms:`,
      '',
      '| model | kernels | whole pass | convolutions + matrix products | other kernels | outside kernels | Amdahl bound, 2 / 4 / 8 threads |',
      '|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  console.error(`bench:kernels: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
