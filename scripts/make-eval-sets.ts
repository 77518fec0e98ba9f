/**
 * npx tsx scripts/make-eval-sets.ts [--shared ../shared] [--out .eval] [--sparse-seeds 1,2,3,4,5]
 *
 * Builds the evaluation sets of `npm run eval:all` from the manifests in <shared>/data (what each is:
 * scripts/lib/evalSets.ts, README "Evaluation sets"):
 *  - <out>/paris6k-mini-dev-outside: dev with box, crop and photo queries (scripts/make-outside-queries.ts);
 *  - <out>/ukbench: ukbench-mini, every photo a whole-photo query (N-S score);
 *  - <out>/mixed: both collections in one (1,250 photos), each set's queries with the other as distractors;
 *  - <out>/sparse-<seed>: a few photos of each dev landmark among distractors, dev's crops as queries.
 * The same sources and seeds give the same manifests. Evaluate one with `npm run eval -- --manifest <out>/<set>/MANIFEST.json`.
 */
import { parseArgs } from 'node:util';
import { buildEvalSets } from './lib/evalSets';
import { useNodeBackend } from './lib/node';

const { values: a } = parseArgs({
  options: {
    shared: { type: 'string', default: '../shared' },
    out: { type: 'string', default: '.eval' },
    'sparse-seeds': { type: 'string', default: '1,2,3,4,5' },
  },
  strict: true,
});

async function main() {
  await useNodeBackend('cpu');
  const seeds = a['sparse-seeds']!.split(',').map(Number);
  if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`--sparse-seeds must be whole numbers, got ${a['sparse-seeds']}`);
  await buildEvalSets(a.shared!, a.out!, seeds, (line) => console.log(line));
}

main().catch((e) => {
  console.error(`make-eval-sets: ${(e as Error).message}`);
  process.exit(1);
});
