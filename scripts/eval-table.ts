/**
 * npx tsx scripts/eval-table.ts --baseline cw-ofa+r100 [--only <regex>] report1.json [report2.json ...]
 *
 * One markdown table from `npm run eval -- --json` reports (one per model): per method, the mAP per query kind and
 * over all queries, and the change against the baseline method of the same report with wins / losses over the
 * queries (|delta AP| >= 0.001), as the eval prints them.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { EvalReport } from './lib/evaluate';

const { values: a, positionals } = parseArgs({
  options: { baseline: { type: 'string', default: 'cw-ofa+r100' }, only: { type: 'string' } },
  allowPositionals: true,
  strict: true,
});

async function main() {
  if (!positionals.length) throw new Error('give one or more report JSON files (npm run eval -- --json out.json)');
  const reports = await Promise.all(positionals.map(async (p) => JSON.parse(await readFile(p, 'utf8')) as EvalReport));
  const only = a.only ? new RegExp(a.only) : null;
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.methods)))].filter((n) => !only || only.test(n));
  const kinds = [...new Set(reports.flatMap((r) => Object.values(r.queryKinds)))];
  const head = reports.flatMap((r) => [...kinds.map((k) => `${r.model} ${k}`), `${r.model} all`, `vs ${a.baseline} (W/L)`]);
  console.log(`| method | ${head.join(' | ')} |\n|---|${head.map(() => '---|').join('')}`);
  for (const n of names) {
    const cells = reports.flatMap((r) => {
      const m = r.methods[n];
      if (!m) return [...kinds.map(() => ''), '', ''];
      const mean = (k: string) => {
        const qs = Object.keys(r.queryKinds).filter((q) => r.queryKinds[q] === k);
        return qs.length ? (qs.reduce((s, q) => s + m.perQuery[q], 0) / qs.length).toFixed(3) : '';
      };
      const base = r.methods[a.baseline!];
      let vs = '';
      if (base) {
        const d = Object.keys(base.perQuery).map((q) => m.perQuery[q] - base.perQuery[q]);
        const delta = m.mAP - base.mAP;
        vs = `${delta >= 0 ? '+' : ''}${delta.toFixed(3)} (${d.filter((x) => x >= 0.001).length}/${d.filter((x) => x <= -0.001).length})`;
      }
      return [...kinds.map(mean), m.mAP.toFixed(3), vs];
    });
    console.log(`| ${n} | ${cells.join(' | ')} |`);
  }
}

main().catch((e) => {
  console.error(`eval-table: ${(e as Error).message}`);
  process.exit(1);
});
