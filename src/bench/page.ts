/**
 * The in-browser benchmark page: /bench.html?backend=webgpu|webgl|wasm|cpu&quick=1&models=...&photos=...
 * Same code as `npm run bench` (src/bench/runAll.ts); renders the tables and publishes the run as `window.__bench`
 * for automation (scripts/bench.ts --browser, tests/e2e/bench.test.ts).
 *
 * Query keys: backend (default wasm), quick=1, and the overrides of applyOverrides (models or model, longSides,
 * ncs, repeats, warmup, cwRepeats, memoryImages, ofaSizes, ofaDims, ofaRepeats, k, onaModels, onaSizes, shortlist,
 * onaNc, onaRepeats, onaLongSide, sections). photos: comma-separated photo URLs (relative to this page); without it
 * the images are deterministic synthetic ones. threads: wasm threads (default: src/model/wasmThreads.ts's choice;
 * more than 1 needs a cross-origin isolated page).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, webgpuAdapterInfo, type BackendPreference } from '../model/backend';
import { crossOriginIsolatedHere, requestWasmThreads, wasmThreadCount } from '../model/wasmThreads';
import { modelAdapter, type ModelId } from '../model/adapters';
import { loadNetwork } from '../model/network';
import { applyOverrides, defaultConfig, runBenchmarks, type BenchPhotos, type BenchReport } from './runAll';
import { reportMarkdown, reportTables, type Table } from './report';

export interface BenchPageState {
  status: 'running' | 'done' | 'error';
  requested: string;
  backend: string;
  /** XNNPACK threads on the wasm backend (1: the single-threaded build); null on other backends. */
  wasmThreads: number | null;
  log: string[];
  report?: BenchReport;
  markdown?: string;
  error?: string;
}

declare global {
  interface Window {
    __bench?: BenchPageState;
  }
}

const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];

async function photoPixels(url: string): Promise<tf.Tensor3D> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const bitmap = await createImageBitmap(await res.blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas context');
  ctx.drawImage(bitmap, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

function renderTable(t: Table): HTMLElement {
  const section = document.createElement('section');
  const h = document.createElement('h2');
  h.textContent = t.title;
  section.append(h);
  if (t.note) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = t.note;
    section.append(p);
  }
  const table = document.createElement('table');
  table.dataset.table = t.id;
  const head = table.createTHead().insertRow();
  for (const c of t.columns) {
    const th = document.createElement('th');
    th.textContent = c;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of t.rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell;
  }
  section.append(table);
  return section;
}

async function main(state: BenchPageState): Promise<void> {
  const params = new URLSearchParams(location.search);
  const log = (line: string) => {
    state.log.push(line);
    const pre = document.getElementById('log');
    if (pre) pre.textContent = state.log.slice(-30).join('\n');
  };
  if (!BACKENDS.includes(state.requested)) throw new Error(`unknown backend '${state.requested}' (${BACKENDS.join(', ')})`);
  const threads = params.get('threads');
  if (threads) requestWasmThreads(Number(threads));
  state.backend = await initBackend(state.requested as BackendPreference, { strict: true });
  let runtime = navigator.userAgent;
  if (state.backend === 'wasm') {
    state.wasmThreads = wasmThreadCount();
    runtime += `; wasm: ${state.wasmThreads} thread(s), page ${crossOriginIsolatedHere() ? '' : 'not '}cross-origin isolated`;
  }
  if (state.backend === 'webgpu') {
    const info = await webgpuAdapterInfo();
    if (info) runtime += `; WebGPU adapter: ${info.vendor} ${info.architecture}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
  }
  const overrides = Object.fromEntries(params.entries());
  if (overrides.model && !overrides.models) overrides.models = overrides.model;
  const config = applyOverrides(defaultConfig(params.get('quick') === '1'), overrides);

  let photos: BenchPhotos | null = null;
  const urls = (params.get('photos') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length) {
    log(`decoding ${urls.length} photo(s)`);
    photos = { source: `real photos: ${urls.map((u) => u.split('/').pop()).join(', ')} (decoded by the browser)`, real: true, pixels: await Promise.all(urls.map(photoPixels)) };
  }
  try {
    const report = await runBenchmarks(
      {
        platform: 'browser',
        runtime,
        photos,
        log,
        loadNetwork: (id: ModelId, longSide: number) => {
          const adapter = modelAdapter(id);
          const base = new URL(`${import.meta.env.BASE_URL}${adapter.folder}/`, location.href);
          return loadNetwork(
            adapter,
            async (path) => {
              const res = await fetch(new URL(path, base));
              if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
              return res.arrayBuffer();
            },
            { longSide },
          );
        },
      },
      config,
    );
    state.report = report;
    state.markdown = reportMarkdown(report);
    const tables = document.getElementById('tables');
    tables?.replaceChildren(...reportTables(report).map(renderTable));
  } finally {
    if (photos) tf.dispose(photos.pixels);
  }
}

const state: BenchPageState = { status: 'running', requested: new URLSearchParams(location.search).get('backend') ?? 'wasm', backend: '', wasmThreads: null, log: [] };
window.__bench = state;
const status = document.getElementById('status');
if (status) status.textContent = 'running…';
main(state)
  .then(() => {
    state.status = 'done';
    if (status) status.textContent = `done on ${state.backend} in ${state.report?.meta.seconds.toFixed(0)} s`;
  })
  .catch((err: unknown) => {
    state.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    state.status = 'error';
    if (status) status.textContent = `failed: ${state.error}`;
  });
