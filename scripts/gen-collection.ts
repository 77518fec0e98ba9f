/**
 * npm run gen-collection -- --photos 10000 --out test-results/synthetic-10k.npz [--model mobilenet_v1_0.75]
 *                           [--long-side 512] [--seed 1] [--grid 3x4 (maps H x W; 12x16 as a real 512 px photo)]
 *
 * Writes a synthetic indexed collection of N photos (scripts/lib/syntheticIndex.ts) as an index the app imports with
 * "Import index": no forward pass, deterministic for a seed, streamed to disk (50,000 photos need no more memory
 * than 1,000).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { writeIndex } from '../src/index/exportFormat';
import { DEFAULT_LONG_SIDE } from '../src/index/settings';
import { parseGrid, syntheticCollection } from './lib/syntheticIndex';

const { values: a } = parseArgs({
  options: {
    photos: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string', default: 'mobilenet_v1_0.75' },
    'long-side': { type: 'string', default: String(DEFAULT_LONG_SIDE) },
    seed: { type: 'string', default: '1' },
    grid: { type: 'string', default: '3x4' },
  },
  strict: true,
});

async function main() {
  if (!a.photos || !a.out) throw new Error('usage: npm run gen-collection -- --photos N --out file.npz [--model id] [--long-side N] [--seed N]');
  const t0 = performance.now();
  const source = syntheticCollection({ photos: Number(a.photos), model: a.model!, longSide: Number(a['long-side']), seed: Number(a.seed), grid: parseGrid(a.grid!) });
  await mkdir(dirname(a.out), { recursive: true });
  await pipeline(Readable.fromWeb(writeIndex(source) as NodeReadableStream<Uint8Array>), createWriteStream(a.out));
  const { size } = await stat(a.out);
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage();
  console.log(
    `${a.out}: ${source.count} photos, ${source.model.id} at ${source.model.longSide}, ${(size / 2 ** 20).toFixed(1)} MiB, ` +
      `${s.toFixed(1)} s (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
}

main().catch((e) => {
  console.error(`gen-collection: ${(e as Error).message}`);
  process.exit(1);
});
