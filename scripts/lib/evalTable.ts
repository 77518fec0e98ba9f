/** The defaults table of `npm run eval:all`: a row per method, a column per evaluation set. */
import type { EvalReport } from './evaluate';

/**
 * The methods of the table: the app's default, the paper's rows (OfA, OnA, NC 8, re-ranking, QE), each step beyond
 * the paper that the app offers as it is published (alpha-QE, SuperGlobal, diffusion, alpha-DBA) and with neighbours
 * kept only when k-reciprocal (`rec`), and OnA over a shortlist. Any other method: `--methods` (its name says it,
 * scripts/lib/evalMethods.ts methodFromName).
 */
export const TABLE_METHODS = [
  'app-default',
  'raw-sum',
  'crow',
  'cw-ofa',
  'cw-ofa+qe10',
  'cw-ofa+aqe10',
  'cw-ofa+qe5rec',
  'cw-ofa+r100',
  'cw-ofa+r100+qe5',
  'cw-ofa+sg100',
  'cw-ofa+sg100k3rec',
  'cw-ofa+dba10',
  'cw-ofa+diff100k10',
  'cw-ona',
  'cw-ona+r100+qe5',
  'cw-ona-nc8',
  'cw-ona-nc8+qe10',
  'cw-ona-nc8-s100',
  'cw-ona-nc8-s100+qe5rec',
  'cw-ona-nc8-s100+sg100k3rec',
  'cw-ona-nc8-s100+r100max+qe5rec',
];

/** The reports of one set: one, or one per seeded draw (sparse). */
export interface SetRun {
  set: string;
  reports: EvalReport[];
}

interface Column {
  name: string;
  /** What the column holds, for the notes under the table. */
  note: string;
  /** The value of a method, undefined when it was not run. */
  value: (method: string) => number | undefined;
  /** An mAP column (counted in the worst change against CW-OfA), or another score. */
  isMAP: boolean;
}

const BASE = 'cw-ofa';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** mAP of a method over the queries of one query set of a report (all queries when `set` is undefined). */
function mAPOf(r: EvalReport, method: string, set?: string): number | undefined {
  const m = r.methods[method];
  if (!m) return undefined;
  const ids = Object.keys(m.perQuery).filter((q) => set === undefined || r.querySets?.[q] === set);
  return ids.length ? mean(ids.map((q) => m.perQuery[q])) : undefined;
}

/** Which queries a report evaluated: all, or per query set how many of how many (a seeded draw). */
function subsetNote(r: EvalReport): string {
  if (!r.querySubset) return `all ${r.queries} queries`;
  const draw = `a seeded draw (seed ${r.querySubset.seed}) of at most ${r.querySubset.limitPerSet} per query set`;
  if (!r.querySets || !r.manifestQueriesPerSet) return `${r.queries} of ${r.manifestQueries} queries (${draw})`;
  const per = Object.entries(r.manifestQueriesPerSet).map(([set, n]) => `${Object.values(r.querySets!).filter((s) => s === set).length} of ${n} ${set}`);
  return `${per.join(' and ')} queries (${draw})`;
}

function columnsOf(run: SetRun): Column[] {
  const [r] = run.reports;
  const count = (set: string) => Object.values(r.querySets ?? {}).filter((s) => s === set).length;
  if (run.set === 'sparse' || run.set === 'sparse-lm') {
    const what = run.set === 'sparse'
      ? `the sparse landmark set (UKBench distractors), ${r.images} photos and ${r.queries} crop queries each`
      : `the landmark-distractor sparse set (two target landmarks among the other three), ${run.reports.map((x) => x.images).join(', ')} photos and ${r.queries} crop queries each`;
    return [{
      name: `${run.set} (${run.reports.length} x ${r.queries} q)`,
      note: `${run.set}: mean mAP over ${run.reports.length} seeded draws of ${what}`,
      value: (m) => (run.reports.every((x) => x.methods[m]) ? mean(run.reports.map((x) => x.methods[m].mAP)) : undefined),
      isMAP: true,
    }];
  }
  if (run.set === 'mixed') {
    return ['dev', 'ukbench'].map((s, i) => ({
      name: `mixed: ${s} q (${count(s)})`,
      note: i === 0 ? `mixed: ${r.images} photos (dev and ukbench-mini in one collection), mAP of each set's queries: ${subsetNote(r)}` : '',
      value: (m: string) => mAPOf(r, m, s),
      isMAP: true,
    }));
  }
  const cols: Column[] = [{
    name: `${run.set} (${r.queries} q)`,
    note: `${run.set}: ${r.images} photos, ${subsetNote(r)}`,
    value: (m) => r.methods[m]?.mAP,
    isMAP: true,
  }];
  if (run.set === 'ukbench') cols.push({ name: 'ukbench N-S', note: "ukbench N-S: UKBench's score, photos of the query's object in its top 4 (0..4)", value: (m) => r.methods[m]?.ns, isMAP: false });
  return cols;
}

/** The markdown table, its column notes, and the values by method and column. */
export function tableOf(runs: readonly SetRun[], appDefault: string): { text: string; sets: Record<string, string>; rows: Record<string, Record<string, number>> } {
  const columns = runs.flatMap(columnsOf);
  const names = [...new Set(runs.flatMap((run) => run.reports.flatMap((r) => Object.keys(r.methods))))];
  const worst = (m: string) => {
    const d = columns.filter((c) => c.isMAP).map((c) => {
      const v = c.value(m), b = c.value(BASE);
      return v === undefined || b === undefined ? undefined : v - b;
    });
    return d.some((x) => x === undefined) ? undefined : Math.min(...(d as number[]));
  };
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  const head = ['method', ...columns.map((c) => c.name), `worst vs ${BASE}`];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const rows: Record<string, Record<string, number>> = {};
  for (const m of names) {
    rows[m] = {};
    const cells = columns.map((c) => {
      const v = c.value(m);
      if (v !== undefined) rows[m][c.name] = v;
      return v === undefined ? '' : v.toFixed(3);
    });
    const w = worst(m);
    const label = m === appDefault ? `**${m}** (the app's default)` : m;
    lines.push(`| ${[label, ...cells, w === undefined ? '' : sign(w)].join(' | ')} |`);
  }
  const notes = columns.filter((c) => c.note).map((c) => `- ${c.note}`);
  notes.push(`- worst vs ${BASE}: the method's lowest mAP minus ${BASE}'s over the mAP columns (negative: it loses to plain CW-OfA somewhere)`);
  return { text: `${lines.join('\n')}\n\n${notes.join('\n')}`, sets: Object.fromEntries(columns.map((c) => [c.name, c.note])), rows };
}

/**
 * The details behind the table: per set, the mAP of each query kind (and query set, in mixed), UKBench N-S where
 * there is one, and each sparse draw on its own.
 */
export function detailsOf(runs: readonly SetRun[]): string {
  const columns: Column[] = [];
  for (const run of runs) {
    run.reports.forEach((r, k) => {
      const tag = run.reports.length > 1 ? `${run.set} ${k + 1}` : run.set;
      const groups = [...new Set(Object.keys(r.queryKinds).map((q) => `${r.querySets?.[q] ?? ''}|${r.queryKinds[q]}`))];
      for (const g of groups) {
        const [set, kind] = g.split('|');
        const ids = Object.keys(r.queryKinds).filter((q) => r.queryKinds[q] === kind && (r.querySets?.[q] ?? '') === set);
        columns.push({
          name: `${tag}: ${set && set !== run.set ? `${set} ` : ''}${kind} (${ids.length})`,
          note: '',
          value: (m) => (r.methods[m] ? mean(ids.map((q) => r.methods[m].perQuery[q])) : undefined),
          isMAP: true,
        });
      }
      if (Object.values(r.methods).some((m) => m.ns !== undefined)) columns.push({ name: `${tag}: N-S`, note: '', value: (m) => r.methods[m]?.ns, isMAP: false });
    });
  }
  const names = [...new Set(runs.flatMap((run) => run.reports.flatMap((r) => Object.keys(r.methods))))];
  const head = ['method', ...columns.map((c) => c.name)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of names) lines.push(`| ${[m, ...columns.map((c) => c.value(m)?.toFixed(3) ?? '')].join(' | ')} |`);
  return lines.join('\n');
}
