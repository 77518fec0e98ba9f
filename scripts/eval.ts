/**
 * npm run eval -- --manifest <MANIFEST.json> [--model resnet50|mobilenet_v1_0.75|efficientnet_b0] [--long-side N]
 *                 [--whiten-on self|none|<other MANIFEST.json>] [--json out.json] [--nc 64] [--npca 1]
 *                 [--pca-dims d] [--shrinkage s] [--pca-mode whiten|project] [--nc-re 6] [--rerank 100] [--qe 10] [--qe-after-rerank 5]
 *                 [--codec float32|float16|uint8|uint8-sparse] [--query-scale same|long-side] [--query-from forward|stored]
 *                 [--input-resize network|rounded] [--backend wasm|cpu] [--cache dir]
 *                 [--only <regex of method names>] [--codecs float32,float16,uint8,uint8-sparse] [--ofa-codecs float16,int8]
 *                 [--scales 0.7071,0.5] [--no-beyond] [--baseline cw-ofa+r100[,other]]
 *                 [--queries N] [--seed S] [--methods name,name] [--method 'NAME={json search parameters}' ...]
 *
 * Prints mAP (Oxford protocol) for the baselines and CW methods from ONE run, per-query AP, images/s and
 * the parameters. Without whitening the rows can be checked against METHOD.md's reference measurements.
 * --codecs adds a storage comparison in the same run: the methods that read stored maps once per map codec, the
 * OfA methods once per OfA descriptor codec (--ofa-codecs), as a method x variant table of mAP with bytes per image.
 * A query is a photo of the collection (`image`) or a file outside it (`query_file`, relative to the manifest), with
 * `bbox_xyxy` in its pixels and an optional `kind`; mAP is also printed per kind. Every method's per-query AP is
 * compared with each --baseline method (delta table, wins / losses). --queries N evaluates a seeded draw of at most N
 * queries of each query set (the header says so). A manifest with UKBench queries also gets the N-S score, and one
 * made of several sets (scripts/make-eval-sets.ts) the mAP per set. `app-default` is the app's default search.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { modelAdapter } from '../src/model/adapters';
import { MAP_CODECS, type MapCodec } from '../src/index/mapCodec';
import { DEFAULT_EVAL, evaluate, type DescriptorCodec, type EvalReport } from './lib/evaluate';
import { parseMethod } from './lib/evalMethods';
import { useNodeBackend } from './lib/node';

/** METHOD.md, "Reference measurements on paris6k-mini-dev" (no whitening, long side 512). */
const REFERENCE: Record<string, Record<string, number>> = {
  'mobilenet_v1_0.75': {
    'raw-sum': 0.863, 'raw-crow-channel': 0.867, crow: 0.87, 'cw-ofa': 0.869, 'cw-ofa-nc8': 0.862, 'cw-ona-nc8': 0.925,
    'cw-ona': 0.91, 'cw-ona+qe10': 0.957, 'cw-ofa+r100': 0.923, 'cw-ona-nc8+r100+qe5': 0.955,
  },
  resnet50: {
    'raw-sum': 0.841, 'raw-crow-channel': 0.861, crow: 0.875, 'cw-ofa': 0.846, 'cw-ofa-nc8': 0.816, 'cw-ona-nc8': 0.906,
    'cw-ona': 0.91, 'cw-ona+qe10': 0.881, 'cw-ofa+r100': 0.905, 'cw-ona-nc8+r100+qe5': 0.935,
  },
};

const { values: a } = parseArgs({
  options: {
    manifest: { type: 'string' },
    model: { type: 'string', default: DEFAULT_EVAL.model },
    'long-side': { type: 'string', default: String(DEFAULT_EVAL.longSide) },
    'whiten-on': { type: 'string', default: DEFAULT_EVAL.whitenOn },
    json: { type: 'string' },
    nc: { type: 'string', default: String(DEFAULT_EVAL.nc) },
    npca: { type: 'string', default: String(DEFAULT_EVAL.npca) },
    'pca-dims': { type: 'string' },
    shrinkage: { type: 'string', default: String(DEFAULT_EVAL.shrinkage) },
    'pca-mode': { type: 'string', default: DEFAULT_EVAL.pcaMode },
    'nc-re': { type: 'string', default: String(DEFAULT_EVAL.ncRerank) },
    rerank: { type: 'string', default: String(DEFAULT_EVAL.rerank) },
    qe: { type: 'string', default: String(DEFAULT_EVAL.qe) },
    'qe-after-rerank': { type: 'string', default: String(DEFAULT_EVAL.qeAfterRerank) },
    codec: { type: 'string', default: DEFAULT_EVAL.codec },
    'query-scale': { type: 'string', default: DEFAULT_EVAL.queryScale },
    'input-resize': { type: 'string', default: 'network' },
    'query-from': { type: 'string', default: DEFAULT_EVAL.queryFrom },
    backend: { type: 'string', default: 'wasm' },
    cache: { type: 'string' },
    only: { type: 'string' },
    codecs: { type: 'string' },
    'ofa-codecs': { type: 'string', default: 'float16,int8' },
    scales: { type: 'string' },
    'no-beyond': { type: 'boolean', default: false },
    baseline: { type: 'string', default: 'cw-ofa+r100' },
    queries: { type: 'string' },
    seed: { type: 'string', default: '1' },
    methods: { type: 'string' },
    method: { type: 'string', multiple: true },
  },
  strict: true,
});

/** A comma-separated list, each item one of `allowed`. */
function list<T extends string>(name: string, v: string, allowed: readonly T[]): T[] {
  const items = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of items) if (!allowed.includes(x as T)) throw new Error(`--${name}: ${x} is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}

async function main() {
  if (!a.manifest) throw new Error('--manifest <MANIFEST.json> is required (e.g. ../shared/data/paris6k-mini-dev/MANIFEST.json)');
  const model = modelAdapter(a.model!).id;
  if (!MAP_CODECS.includes(a.codec as MapCodec)) throw new Error(`--codec must be one of ${MAP_CODECS.join(', ')}`);
  if (a['query-from'] !== 'forward' && a['query-from'] !== 'stored') throw new Error('--query-from must be forward or stored');
  if (!['same', 'long-side'].includes(a['query-scale']!)) throw new Error(`--query-scale must be same or long-side`);
  if (!['network', 'rounded'].includes(a['input-resize']!)) throw new Error(`--input-resize must be network or rounded`);
  if (a.backend !== 'wasm' && a.backend !== 'cpu') throw new Error('--backend must be wasm or cpu');
  if (a['pca-mode'] !== 'whiten' && a['pca-mode'] !== 'project') throw new Error('--pca-mode must be whiten or project');
  await useNodeBackend(a.backend);
  const report = await evaluate({
    manifestPath: a.manifest,
    model,
    longSide: int('long-side', a['long-side'], 32),
    whitenOn: a['whiten-on']!,
    nc: int('nc', a.nc, 1),
    npca: int('npca', a.npca, 1),
    pcaDims: a['pca-dims'] === undefined ? undefined : int('pca-dims', a['pca-dims'], 1),
    shrinkage: Number(a.shrinkage),
    pcaMode: a['pca-mode'] as 'whiten' | 'project',
    ncRerank: int('nc-re', a['nc-re'], 1),
    rerank: int('rerank', a.rerank, 1),
    qe: int('qe', a.qe, 1),
    qeAfterRerank: int('qe-after-rerank', a['qe-after-rerank'], 1),
    codec: a.codec as MapCodec,
    codecs: a.codecs === undefined ? undefined : list('codecs', a.codecs, MAP_CODECS),
    ofaCodecs: list('ofa-codecs', a['ofa-codecs']!, ['float32', 'float16', 'int8'] as DescriptorCodec[]),
    queryScale: a['query-scale'] as 'same' | 'long-side',
    inputResize: a['input-resize'] as 'network' | 'rounded',
    queryFrom: a['query-from'] as 'forward' | 'stored',
    cacheDir: a.cache,
    only: a.only ? new RegExp(a.only) : undefined,
    scales: a.scales === undefined ? undefined : a.scales.split(',').map((x) => {
      const f = Number(x);
      if (!(f > 0 && f <= 4)) throw new Error(`--scales: ${x} is not a factor in (0, 4]`);
      return f;
    }),
    beyond: !a['no-beyond'],
    queryLimit: a.queries === undefined ? undefined : int('queries', a.queries, 1),
    seed: int('seed', a.seed, 0),
    methods: a.methods?.split(',').map((x) => x.trim()).filter(Boolean),
    extraMethods: (a.method ?? []).map(parseMethod),
    log: (line) => process.stderr.write(`[eval] ${line}\n`),
  });
  print(report);
  if (a.json) {
    await writeFile(a.json, JSON.stringify(report, null, 2));
    console.log(`\nwrote ${a.json}`);
  }
}

function print(r: EvalReport) {
  // METHOD.md's reference: paris6k-mini-dev at long side 512, its in-collection box queries (kind 'box').
  const devSet = [r.manifest, r.derivedFrom].some((m) => m && basename(m.replace(/\/MANIFEST\.json$/, '')) === 'paris6k-mini-dev');
  const ref = devSet && r.longSide === 512 ? REFERENCE[r.model] : undefined;
  const boxIds = Object.keys(r.queryKinds).filter((q) => r.queryKinds[q] === 'box');
  const boxMAP = (n: string) => boxIds.reduce((s, q) => s + r.methods[n].perQuery[q], 0) / boxIds.length;
  const subset = r.querySubset ? ` (a seeded draw, seed ${r.querySubset.seed}, of at most ${r.querySubset.limitPerSet} per query set, from ${r.manifestQueries})` : '';
  console.log(`\n${r.manifest}: ${r.images} images, ${r.queries} queries${subset}; ${r.model}, long side ${r.longSide}, ${r.backend} backend`);
  console.log(
    `indexing: ${r.imagesPerSecond ? `${r.imagesPerSecond.toFixed(2)} images/s (median ${r.medianMsPerImage!.toFixed(0)} ms/image: forward pass + maps read back)` : 'features from cache (not timed)'}`,
  );
  const p = r.params;
  console.log(`params: NC=${p.nc} N_pca=${p.npca} pca-dims=${p.pcaDims ?? 'all'} pca-mode=${p.pcaMode} shrinkage=${p.shrinkage} NC_re=${p.ncRerank} R=${p.rerank} QE=${p.qe} QE-after-R=${p.qeAfterRerank} codec=${p.codec} query-scale=${p.queryScale} query-from=${p.queryFrom} input-resize=${p.inputResize ?? 'network'}`);
  if (r.whitening) console.log(`whitening: fitted on ${r.whitening.on}; vectors ${JSON.stringify(r.whitening.trainedOn)}; dims ${JSON.stringify(r.whitening.dims)}`);
  else console.log('whitening: none');
  const names = Object.keys(r.methods);
  const queries = Object.keys(r.methods[names[0]].perQuery);
  const w = Math.max(...names.map((n) => n.length));
  const refHead = ref ? (boxIds.length < Object.keys(r.queryKinds).length ? '   box  ref    diff (reference: box queries only)' : ' ref    diff') : '';
  const hasNS = names.some((n) => r.methods[n].ns !== undefined);
  console.log(`\n${'method'.padEnd(w)}   mAP  ${hasNS ? '  N-S  ' : ''}${refHead}`);
  for (const n of names) {
    const m = r.methods[n].mAP;
    const rv = ref?.[n];
    const b = boxIds.length < Object.keys(r.queryKinds).length ? boxMAP(n) : m;
    const box = b === m ? '' : `  ${b.toFixed(3)}`;
    const ns = hasNS ? `  ${r.methods[n].ns?.toFixed(3) ?? '     '}` : '';
    console.log(`${n.padEnd(w)}  ${m.toFixed(3)}${ns}${rv !== undefined ? `${box}  ${rv.toFixed(3)}  ${(b - rv >= 0 ? '+' : '') + (b - rv).toFixed(3)}` : ''}`);
  }
  if (hasNS) console.log(`N-S: UKBench's score, photos of the query's object (itself included) in the top 4, mean over its ${Object.keys(r.methods[names.find((n) => r.methods[n].perQueryNS)!].perQueryNS!).length} queries (0..4)`);
  const qw = Math.max(8, ...queries.map((q) => q.length));
  if (queries.length <= MAX_QUERY_COLUMNS) {
    console.log(`\nper-query AP\n${'method'.padEnd(w)}  ${queries.map((q) => q.padStart(qw)).join(' ')}`);
    for (const n of names) console.log(`${n.padEnd(w)}  ${queries.map((q) => r.methods[n].perQuery[q].toFixed(3).padStart(qw)).join(' ')}`);
  } else console.log(`\nper-query AP: in the --json report (${queries.length} queries)`);
  printGroups(r, names, w, 'query kind', r.queryKinds);
  if (r.querySets) printGroups(r, names, w, 'query set', r.querySets);
  for (const b of a.baseline!.split(',').filter(Boolean)) printDeltas(r, names, w, b);
  if (r.storage) printStorage(r, names, w);
  console.log(`\n${r.seconds.toFixed(0)} s in all`);
}

/** Per-query tables are printed up to this many queries (all of them are in the --json report). */
const MAX_QUERY_COLUMNS = 60;

/** mAP of each method per query kind or set (when the run has more than one). */
function printGroups(r: EvalReport, names: string[], w: number, label: string, groupOf: Record<string, string>) {
  const kinds = [...new Set(Object.values(groupOf))];
  if (kinds.length < 2) return;
  const ids = (k: string) => Object.keys(groupOf).filter((q) => groupOf[q] === k);
  console.log(`\nmAP per ${label} (${kinds.map((k) => `${k}: ${ids(k).length}`).join(', ')} queries)\n${'method'.padEnd(w)}  ${kinds.map((k) => k.padStart(8)).join(' ')}      all`);
  for (const n of names) {
    const per = r.methods[n].perQuery;
    const mean = (qs: string[]) => qs.reduce((s, q) => s + per[q], 0) / qs.length;
    console.log(`${n.padEnd(w)}  ${kinds.map((k) => mean(ids(k)).toFixed(3).padStart(8)).join(' ')}  ${r.methods[n].mAP.toFixed(3).padStart(7)}`);
  }
}

/** Per-query AP minus the baseline's, with wins / losses (|delta| >= 0.001) and the mAP delta, per method. */
function printDeltas(r: EvalReport, names: string[], w: number, baseline: string) {
  const base = r.methods[baseline];
  if (!base) {
    console.log(`\n(no delta table: baseline ${baseline} was not run)`);
    return;
  }
  const queries = Object.keys(base.perQuery);
  console.log(`\nper-query AP minus ${baseline} (mAP ${base.mAP.toFixed(3)}); wins / losses: |delta| >= 0.001`);
  const qw = Math.max(8, ...queries.map((q) => q.length));
  const perQuery = queries.length <= MAX_QUERY_COLUMNS;
  console.log(`${'method'.padEnd(w)}   dmAP  win loss  ${perQuery ? queries.map((q) => q.padStart(qw)).join(' ') : ''}`);
  for (const n of names) {
    const d = queries.map((q) => r.methods[n].perQuery[q] - base.perQuery[q]);
    const sign = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
    const wins = d.filter((x) => x >= 0.001).length, losses = d.filter((x) => x <= -0.001).length;
    console.log(`${n.padEnd(w)} ${sign(r.methods[n].mAP - base.mAP)} ${String(wins).padStart(4)} ${String(losses).padStart(4)}  ${perQuery ? d.map((x) => sign(x).padStart(qw)).join(' ') : ''}`);
  }
}

/** Method x storage variant mAP; '=' where the variant does not change the method's input (same value as the reference). */
function printStorage(r: EvalReport, names: string[], w: number) {
  const { reference, variants } = r.storage!;
  const cols = [reference, ...variants];
  const cw = Math.max(12, ...cols.map((c) => c.name.length));
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(`\nstorage variants (same run; reference = the mAP column above)`);
  console.log(`${'method'.padEnd(w)}  ${cols.map((c) => c.name.padStart(cw)).join('  ')}`);
  console.log(`${'maps/image'.padEnd(w)}  ${cols.map((c) => kb(c.bytesPerImage.maps).padStart(cw)).join('  ')}`);
  console.log(`${'OfA/image'.padEnd(w)}  ${cols.map((c) => `${c.bytesPerImage.ofa} B`.padStart(cw)).join('  ')}`);
  for (const n of names) {
    if (!variants.some((v) => v.methods[n])) continue;
    const cell = (m: number | undefined) => (m === undefined ? '=' : m.toFixed(3)).padStart(cw);
    console.log(`${n.padEnd(w)}  ${cell(r.methods[n].mAP)}  ${variants.map((v) => cell(v.methods[n]?.mAP)).join('  ')}`);
  }
}

main().catch((e) => {
  console.error(`eval: ${(e as Error).message}`);
  process.exit(1);
});
