/**
 * A benchmark report as tables, rendered as Markdown (BENCHMARKS.md, the console) or HTML (bench.html).
 * Figures are medians of one run; ratios are of medians from the same run.
 */
import type { Summary } from './benchCore';
import type { BenchReport } from './runAll';
import { OFA_VARIANTS, ONA_VARIANTS } from './searchBench';

export interface Table {
  id: string;
  title: string;
  note?: string;
  columns: string[];
  rows: string[][];
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return 'n/a';
  const abs = Math.abs(b);
  if (abs >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(3)}x` : 'n/a');

/** "median (min-max, n)" */
const fmtSummary = (s: Summary): string => (s.n ? `${fmtMs(s.median)} (${fmtMs(s.min)}-${fmtMs(s.max)}, n=${s.n})` : 'n/a');

const shape = (s: readonly number[]) => s.join('x');

export function reportTables(r: BenchReport): Table[] {
  const tables: Table[] = [];
  const ncs = r.meta.config.ncs;
  if (r.forward.length) {
    tables.push({
      id: 'forward',
      title: 'Bare forward pass vs forward + CW descriptor (per image, ms)',
      note:
        'bare = forward + awaiting X and the probabilities; +CW = forward + top-NC on the backend + cwDescriptor + awaiting it. ' +
        'Variants interleaved round by round; median (min-max, n). Overhead ratios at each NC: med = median(+CW) / median(bare); ' +
        'min = min(+CW) / min(bare) (the least disturbed runs); step = 1 + median(CW step alone) / median(bare), from the ' +
        'isolated CW step of the next table (the least sensitive to load on a shared machine).',
      columns: ['model', 'long side', 'input', 'maps', 'bare', ...ncs.map((n) => `+CW NC=${n}`), ...ncs.map((n) => `ratio NC=${n}: med / min / step`)],
      rows: r.forward.map((f) => [
        f.model, String(f.longSide), shape(f.input), shape(f.maps), fmtSummary(f.bare),
        ...ncs.map((n) => fmtSummary(f.withCw[n])),
        ...ncs.map((n) => `${fmtRatio(f.ratio[n])} / ${fmtRatio(f.withCw[n].min / f.bare.min)} / ${fmtRatio(f.ratioFromCwOnly[n])}`),
      ]),
    });
    tables.push({
      id: 'cw-step',
      title: 'The CW step alone (top-NC + descriptor + awaiting it, on one forward pass\'s X), ms',
      note: 'The product\'s src/cw cwDescriptor (l2 norms from tf.square, adopted from the former candidate), median of the runs.',
      columns: ['model', 'long side', 'maps', ...ncs.map((n) => `NC=${n}`)],
      rows: r.forward.map((f) => [f.model, String(f.longSide), shape(f.maps), ...ncs.map((n) => fmtMs(f.cwOnly[n].median))]),
    });
    const ncMax = Math.max(...ncs);
    tables.push({
      id: 'app',
      title: `What the app does per indexed photo (NC=${ncMax}), ms`,
      note:
        'app = src/worker/services/indexer.ts today: forward, await probabilities, top-NC in JS, cwDescriptor, await X + descriptor, encode X as uint8. ' +
        'device top-k = the same with the classes picked by tf.topk on the backend (no read between the forward pass and the descriptor). ' +
        'encode = encodeMaps(X, uint8) alone (JavaScript), included in both.',
      columns: ['model', 'long side', 'bare', 'app', 'app / bare', 'app, device top-k', 'encode uint8'],
      rows: r.forward.map((f) => [f.model, String(f.longSide), fmtMs(f.bare.median), fmtMs(f.app.median), fmtRatio(f.appRatio), fmtMs(f.appDeviceTopk.median), fmtMs(f.encodeUint8.median)]),
    });
  }
  if (r.storage.length) {
    tables.push({
      id: 'storage',
      title: 'Bytes stored per image',
      note:
        'OfA = the float32 descriptor (D = K, no PCA); the app\'s features record also keeps all 1000 class probabilities. ' +
        'OnA / re-ranking = the encoded maps X (uint8: 1 byte per value + its scale). Grids are those of the benchmark image.',
      columns: ['model', 'long side', 'maps', 'OfA descriptor', 'OfA app record', 'OnA uint8', 'OnA float16', 'OnA float32', '10k images, uint8 maps'],
      rows: r.storage.map((s) => [
        s.model, String(s.longSide), shape(s.maps), fmtBytes(s.ofaDescriptorBytes), fmtBytes(s.ofaRecordBytes),
        fmtBytes(s.mapsBytes.uint8), fmtBytes(s.mapsBytes.float16), fmtBytes(s.mapsBytes.float32), fmtBytes(s.mapsBytes.uint8 * 10000),
      ]),
    });
  }
  if (r.memory.length) {
    tables.push({
      id: 'memory',
      title: 'Tensor memory per indexed photo (tf.memory / tf.profile) and leaks',
      note: 'resident = tensors held before (model weights); peak = the highest tensor bytes during one photo\'s indexing above resident. Leak check: the app\'s per-photo path run on N photos in a row (reusing the benchmark photos).',
      columns: ['model', 'long side', 'resident', 'peak above resident', 'left after one photo', 'photos', 'tensors before -> after', 'bytes before -> after', 'leaked tensors', 'leaked bytes', 'wasm heap after'],
      rows: r.memory.map((m) => [
        m.model, String(m.longSide), fmtBytes(m.peak.residentBytes), fmtBytes(m.peak.peakBytesAbove), `${m.peak.newTensors} tensors, ${fmtBytes(m.peak.newBytes)}`,
        String(m.images), `${m.before.numTensors} -> ${m.after.numTensors}`, `${fmtBytes(m.before.numBytes)} -> ${fmtBytes(m.after.numBytes)}`,
        String(m.leakedTensors), fmtBytes(m.leakedBytes), m.after.wasmHeapBytes ? fmtBytes(m.after.wasmHeapBytes) : 'n/a',
      ]),
    });
  }
  if (r.ofa.length) {
    tables.push({
      id: 'ofa',
      title: `OfA search latency per query (synthetic l2-normalised descriptors, top-${r.meta.config.k} read back), ms`,
      note:
        Object.entries(OFA_VARIANTS).map(([k, v]) => `${k}: ${v}`).join('; ') +
        '. first = the first query after the upload (on wasm, XNNPACK packs a weights operand then, and caches it per tensor); ' +
        'after append = blocked layout: the first query after its last block was rebuilt, as adding photos would; ' +
        'upload = tf.tensor2d of the JS array; same top-k = the same 100 results as appSort for the first query.',
      columns: ['N', 'D', 'variant', 'median (min-max, n)', 'first', 'after append', 'resident', 'upload', 'same top-k', 'wasm heap'],
      rows: r.ofa.map((o) => [
        String(o.N), String(o.D), o.variant, o.error ? `failed: ${o.error}` : fmtSummary(o.ms), fmtMs(o.firstMs),
        o.firstAfterAppendMs !== undefined ? fmtMs(o.firstAfterAppendMs) : '', fmtBytes(o.residentBytes), fmtMs(o.uploadMs),
        o.error ? 'n/a' : o.agrees ? 'yes' : 'NO', o.wasmHeapBytes ? fmtBytes(o.wasmHeapBytes) : 'n/a',
      ]),
    });
  }
  if (r.ona.length) {
    const stats = Object.entries(r.onaMapStatistics)
      .map(([m, s]) => `${m}: ${(100 * s!.zeroFraction).toFixed(0)}% zeros, non-zero mean ${s!.nonZeroMean.toFixed(3)} (from the ${s!.fromRealPhoto ? 'real photo' : 'synthetic image'}'s maps)`)
      .join('; ');
    const checks = r.onaChecks.map((c) => `${c.model}: max |product (chunked) - cwDescriptor per image| = ${c.maxAbsDiff.toExponential(1)} over ${c.images} descriptors`).join('; ');
    tables.push({
      id: 'ona',
      title: `OnA search cost over N images (synthetic uint8 maps, query NC=${r.meta.config.onaNc}, ${r.meta.chunk} image(s) per chunk)`,
      note:
        Object.entries(ONA_VARIANTS).map(([k, v]) => `${k}: ${v}`).join('; ') +
        `. Maps: ${stats}; 256 distinct maps reused cyclically. ${checks}. IndexedDB reads are not included.`,
      columns: ['model', 'maps', 'N', 'variant', 'M', 'median ms (min-max, n)', 'ms per image', 'stored per image', 'stored, collection'],
      rows: r.ona.map((o) => [
        o.model, shape(o.maps), String(o.N), o.variant, o.M ? String(o.M) : '', fmtSummary(o.ms), fmtMs(o.perImageMs), fmtBytes(o.bytesPerImage), fmtBytes(o.collectionBytes),
      ]),
    });
  }
  return tables;
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

function tableMarkdown(t: Table): string {
  const lines = [`#### ${t.title}`, ''];
  if (t.note) lines.push(t.note, '');
  lines.push(`| ${t.columns.map(escapeCell).join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`);
  for (const row of t.rows) lines.push(`| ${row.map(escapeCell).join(' | ')} |`);
  return lines.join('\n');
}

function metaMarkdown(r: BenchReport, extra: Record<string, string> = {}): string {
  const m = r.meta;
  const c = m.config;
  const lines = [
    `- date: ${m.date}`,
    `- platform: ${m.platform}; backend: **${m.backend}**; runtime: ${m.runtime}`,
    ...Object.entries(extra).map(([k, v]) => `- ${k}: ${v}`),
    `- image: ${m.images}`,
    `- config: ${c.quick ? 'quick' : 'full'}; models ${c.models.join(', ')}; long sides ${c.longSides.join(', ')}; NC ${c.ncs.join(', ')}; ` +
      `${c.warmup} warm-up + ${c.repeats} interleaved rounds (forward), ${c.cwRepeats} runs (CW step); leak check ${c.memoryImages} photos; ` +
      `OfA N ${c.ofaSizes.join(', ')} x D ${c.ofaDims.join(', ')}, ${c.ofaRepeats} queries each; ` +
      `OnA ${c.onaModels.map((id) => `${id} N ${(c.onaSizes[id] ?? []).join(', ')}`).join('; ')}, shortlist M ${c.shortlist.join(', ')}`,
    `- tensors left allocated by each section (0 = no leak): ${Object.entries(r.tensorsLeft ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'n/a'}`,
    `- wall time: ${m.seconds.toFixed(0)} s`,
  ];
  return lines.join('\n');
}

export function reportMarkdown(r: BenchReport, extra: Record<string, string> = {}): string {
  return [metaMarkdown(r, extra), ...reportTables(r).map(tableMarkdown)].join('\n\n');
}

/** Replaces the text between `<!-- bench:ID:start -->` and `<!-- bench:ID:end -->`, or appends the block. */
export function replaceMarkedSection(doc: string, id: string, body: string): string {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}
