/**
 * npx tsx scripts/collection/bench-groups.ts [--sizes 10000,50000] [--dims 2048] [--full-max 10000] [--backend wasm]
 *
 * The cost of the collection graph (near-duplicates and groups, src/worker/services/collectionGraph.ts) at scale, on
 * synthetic descriptors (clustered, non-negative, l2-normalised like CW descriptors), with the app's own code on a
 * tfjs backend in Node: the descriptors resident in column blocks (src/search/descriptorBlocks.ts), similarity rows
 * (src/collection-tools/similarity.ts) and the neighbour lists (src/collection-tools/neighbours.ts), in batches of 32 as the worker does.
 * Prints, per size: the incremental cost (one new photo placed among N: its row, its list, the lists it enters), a
 * full rebuild (measured up to --full-max photos, else extrapolated from the median batch), and reading groups and
 * duplicate candidates off the lists. The region checks of links and the layout checks of duplicate candidates need
 * the photos' maps, so they are timed on real photos by eval-collection.ts instead.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { BlockedDescriptors } from '../../src/search/descriptorBlocks';
import { mutualKnnGroups } from '../../src/collection-tools/groups';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { similarityRows } from '../../src/collection-tools/similarity';
import { DUPLICATE_DEFAULTS, GROUP_DEFAULTS } from '../../src/collection-tools/collectionDefaults';
import { median } from '../../src/util/median';
import { useNodeBackend } from '../lib/node';
import { synthetic } from './syntheticDescriptors';

const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,50000' },
    dims: { type: 'string', default: '2048' },
    'full-max': { type: 'string', default: '10000' },
    backend: { type: 'string', default: 'wasm' },
  },
});

const BATCH = 32;

async function main() {
  await useNodeBackend(a.backend as 'wasm' | 'cpu');
  const D = Number(a.dims);
  const fullMax = Number(a['full-max']);
  console.log(`collection graph on synthetic descriptors, D = ${D}, tfjs ${tf.getBackend()} in Node ${process.version}, batch ${BATCH}`);
  console.log('N | incremental, 1 photo: median ms | last block rebuilt after an append: median ms | full rebuild (s) | groups from lists (ms) | duplicate candidates (ms) | lists memory');
  for (const N of a.sizes!.split(',').map(Number)) {
    const data = synthetic(N, D);
    const ids = Array.from({ length: N }, (_, i) => `p${i}`);
    const blocks = new BlockedDescriptors();
    blocks.sync(N, D, (i) => data.subarray(i * D, (i + 1) * D));
    await blocks.warmUp();
    const lists = new NeighbourLists(DUPLICATE_DEFAULTS.k, GROUP_DEFAULTS.floor);

    // Full rebuild: every photo placed, batch by batch (the last ones timed when N is over --full-max).
    const batchMs: number[] = [];
    const heapBefore = process.memoryUsage().heapUsed;
    const limit = N <= fullMax ? N : Math.min(N, 40 * BATCH);
    const t0 = performance.now();
    for (let s = 0; s < limit; s += BATCH) {
      const tb = performance.now();
      const B = Math.min(BATCH, limit - s);
      const sims = await similarityRows(blocks, data.subarray(s * D, (s + B) * D), B);
      lists.insertRows(ids.slice(s, s + B), sims, ids);
      batchMs.push(performance.now() - tb);
    }
    const fullS = N <= fullMax ? (performance.now() - t0) / 1000 : (median(batchMs) * Math.ceil(N / BATCH)) / 1000;
    const fullText = N <= fullMax ? `${fullS.toFixed(1)} (measured)` : `${fullS.toFixed(0)} (extrapolated: median batch ${median(batchMs).toFixed(0)} ms x ${Math.ceil(N / BATCH)})`;

    // Incremental: one photo at a time, as each is indexed (its row against all N).
    const oneMs: number[] = [];
    const spare = lists.ids.slice(0, 15);
    for (const id of spare) {
      for (const r of lists.remove([id])) lists.refill(r, new Float32Array(N).fill(-1), ids); // (refill cost not timed here)
      const i = Number(id.slice(1));
      const t = performance.now();
      const sims = await similarityRows(blocks, data.subarray(i * D, (i + 1) * D), 1);
      lists.insertRows([id], sims, ids);
      oneMs.push(performance.now() - t);
    }
    // What appending photos costs the resident blocks: the last block rebuilt (uploaded, transposed) and packed again
    // by its first product. The worker pays it once per batch of newly indexed photos, not per photo.
    const syncMs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      blocks.sync(N, D, (i) => data.subarray(i * D, (i + 1) * D), N - 1);
      await blocks.warmUp();
      syncMs.push(performance.now() - t);
    }
    const tg = performance.now();
    const groups = mutualKnnGroups(lists, { k: GROUP_DEFAULTS.k, minSim: GROUP_DEFAULTS.minSim });
    const groupsMs = performance.now() - tg;
    const td = performance.now();
    let candidates = 0;
    for (const id of lists.ids) for (const n of lists.neighbours(id)) if (n.sim >= DUPLICATE_DEFAULTS.candidateSim && id < n.id) candidates++;
    const dupMs = performance.now() - td;
    const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(
      `${N} | ${median(oneMs).toFixed(1)} | ${median(syncMs).toFixed(0)} | ${fullText} | ${groupsMs.toFixed(0)} (${groups.length} groups over ${lists.size} placed) | ${dupMs.toFixed(0)} (${candidates}) | ~${heapMB.toFixed(0)} MB heap for ${lists.size} lists`,
    );
    blocks.dispose();
  }
}

main().catch((e) => {
  console.error(`bench-groups: ${(e as Error).stack}`);
  process.exit(1);
});
