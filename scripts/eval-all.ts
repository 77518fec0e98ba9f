/**
 * npm run eval:all -- [--model efficientnet_b0 (the app's default)|mobilenet_v1_0.75|resnet50] [--long-side 512] [--cache /work/eval-cache]
 *                     [--sets dev,ukbench,mixed,sparse,sparse-lm] [--queries ukbench=100,mixed=100] [--seed 1]
 *                     [--sparse-seeds 1,2,3,4,5] [--sparse-lm-seeds 1,...,10] [--methods table|all|name,name,...] [--method 'NAME={json}' ...]
 *                     [--json out.json] [--out .eval] [--shared ../shared]
 *
 * One command for the defaults table: builds the evaluation sets (scripts/make-eval-sets.ts) when missing, runs
 * `npm run eval`'s evaluation (no whitening, float32 maps) on each with the same method list, and prints ONE markdown
 * table: a row per method, a column per set (mAP; UKBench also its N-S score; mixed per query set; sparse and sparse-lm the
 * mean over their seeded draws), the app's default row marked, and each method's worst change against plain CW-OfA over the sets;
 * then the same per query kind and per sparse draw.
 * --queries limits a set to a seeded draw of at most N queries per query set (the table says so; default: 100 of
 * UKBench's 1,000 in ukbench and in mixed, where dev's 36 all stay; `--queries ''` runs every query). Every set's full
 * report is written beside --json (<json>.<set>.json). --method adds a method (scripts/lib/evalMethods.ts parseMethod).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL, modelAdapter } from '../src/model/adapters';
import { DEFAULT_EVAL, evaluate, type EvalReport } from './lib/evaluate';
import { APP_DEFAULT, parseMethod } from './lib/evalMethods';
import { buildEvalSets } from './lib/evalSets';
import { TABLE_METHODS, detailsOf, tableOf, type SetRun } from './lib/evalTable';
import { useNodeBackend } from './lib/node';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL },
    'long-side': { type: 'string', default: '512' },
    cache: { type: 'string', default: '/work/eval-cache' },
    sets: { type: 'string', default: 'dev,ukbench,mixed,sparse,sparse-lm' },
    queries: { type: 'string', default: 'ukbench=100,mixed=100' },
    seed: { type: 'string', default: '1' },
    'sparse-seeds': { type: 'string', default: '1,2,3,4,5' },
    'sparse-lm-seeds': { type: 'string', default: '1,2,3,4,5,6,7,8,9,10' },
    methods: { type: 'string', default: 'table' },
    method: { type: 'string', multiple: true },
    json: { type: 'string' },
    out: { type: 'string', default: '.eval' },
    shared: { type: 'string', default: '../shared' },
    backend: { type: 'string', default: 'wasm' },
  },
  strict: true,
});

const SETS = ['dev', 'ukbench', 'mixed', 'sparse', 'sparse-lm'] as const;

function whole(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, got ${v}`);
  return n;
}

async function main() {
  const model = modelAdapter(a.model!).id;
  const longSide = whole('--long-side', a['long-side']!, 32);
  const sets = a.sets!.split(',').map((s) => s.trim());
  for (const s of sets) if (!(SETS as readonly string[]).includes(s)) throw new Error(`--sets: ${s} is not one of ${SETS.join(', ')}`);
  const limits = new Map<string, number>();
  for (const item of a.queries!.split(',').filter(Boolean)) {
    const [set, n] = item.split('=');
    if (!(SETS as readonly string[]).includes(set) || n === undefined) throw new Error(`--queries: expected set=N with a set of ${SETS.join(', ')}, got ${item}`);
    limits.set(set, whole(`--queries ${set}`, n, 1));
  }
  const seed = whole('--seed', a.seed!);
  const sparseSeeds = a['sparse-seeds']!.split(',').map((s) => whole('--sparse-seeds', s, 1));
  const landmarkSeeds = a['sparse-lm-seeds']!.split(',').map((s) => whole('--sparse-lm-seeds', s, 1));
  if (a.backend !== 'wasm' && a.backend !== 'cpu') throw new Error('--backend must be wasm or cpu');
  const extraMethods = (a.method ?? []).map(parseMethod);
  const methods = a.methods === 'all' ? undefined : [...(a.methods === 'table' ? TABLE_METHODS : a.methods!.split(',').map((s) => s.trim())), ...extraMethods.map((m) => m.name)];
  await useNodeBackend(a.backend);
  const log = (line: string) => process.stderr.write(`[eval:all] ${line}\n`);
  const paths = await buildEvalSets(a.shared!, a.out!, sparseSeeds, log, landmarkSeeds);
  const runs: SetRun[] = [];
  const started = performance.now();
  for (const set of sets) {
    const manifests = set === 'sparse' || set === 'sparse-lm' ? paths[set] : [paths[set as 'dev' | 'ukbench' | 'mixed']];
    const reports: EvalReport[] = [];
    for (const manifestPath of manifests) {
      log(`${set}: ${manifestPath}`);
      const report = await evaluate({
        ...DEFAULT_EVAL,
        manifestPath,
        model,
        longSide,
        whitenOn: 'none',
        cacheDir: a.cache,
        queryLimit: limits.get(set),
        seed,
        methods,
        extraMethods,
        log: (line) => log(`${set}: ${line}`),
      });
      reports.push(report);
      if (a.json) await writeFile(a.json.replace(/\.json$/, '') + `.${set}${manifests.length > 1 ? `-${reports.length}` : ''}.json`, JSON.stringify(report));
    }
    runs.push({ set, reports });
  }
  const table = tableOf(runs, APP_DEFAULT);
  console.log(`\n${model}, long side ${longSide}, no whitening, maps float32; ${((performance.now() - started) / 60000).toFixed(1)} min\n`);
  console.log(table.text);
  console.log(`\nPer query kind (and per draw of the sparse set):\n\n${detailsOf(runs)}`);
  if (a.json) {
    await writeFile(a.json, JSON.stringify({ model, longSide, sets: table.sets, methods: table.rows, seconds: (performance.now() - started) / 1000 }, null, 1));
    console.log(`\nwrote ${a.json} (and each set's report beside it)`);
  }
}

main().catch((e) => {
  console.error(`eval:all: ${(e as Error).message}`);
  process.exit(1);
});
