/**
 * (a) The app on WebGPU: `?backend=webgpu` runs it (SwiftShader, software WebGPU, on these machines; by default the
 * app chooses wasm here, tests/e2e/app-backend-choice.test.ts), and indexing a real photo on it gives the same stored
 * descriptor (and class probabilities) as on wasm; searching with it works on both (re-ranked result, heatmap drawn).
 * MobileNet v1 0.75 at long side 160 and EfficientNet-B0 (a graph model: other kernels, swish, squeeze-excitation) at
 * 64 keep SwiftShader's shader compilation bearable; WebGPU speed is only meaningful on a real GPU.
 */
import { describe, expect, it } from 'vitest';
import { browserAvailable, saveScreenshot, useE2E, type E2E } from './harness';
import { canvasPixels, devSet, dropFiles, waitIndexed } from './appHelpers';
import { needsModels } from '../helpers/requirements';

const data = devSet();

const PHOTO = 'paris_eiffel_000004';
/** Each model, the long side it runs at here, and its descriptor length. */
const CASES = [
  { model: 'mobilenet_v1_0.75', longSide: 160, D: 768 },
  { model: 'efficientnet_b0', longSide: 64, D: 1280 },
] as const;
/** Largest allowed |difference| of any descriptor component between backends (descriptors are unit vectors). */
const TOLERANCE = 1e-4;

interface Indexed {
  backend: string;
  descriptor: number[];
  probabilities: number[];
  grid: unknown;
  ms: number;
  searchMs: number;
  wallMs: number;
}

async function indexOne(e2e: E2E, query: string, label: string): Promise<Indexed> {
  const started = Date.now();
  const { page, consoleErrors } = await e2e.openPage(`/?${query}`, { ignoreConsole: [/Download the React DevTools/] });
  await page.waitForSelector('[data-phase="ready"]', { timeout: 120_000 });
  const backend = (await page.textContent('[data-testid="backend"]'))!.replace('Backend', '').trim();
  const photo = data!.photo(PHOTO);
  await dropFiles(page, '[data-testid="app"]', [{ name: photo.fileName, type: 'image/jpeg', bytes: photo.bytes }]);
  await waitIndexed(page, 1, 280_000);
  const result = await page.evaluate(async () => {
    const app = (window as unknown as { cwApp: { debug: Record<string, (...a: unknown[]) => Promise<unknown>>; state(): { photos: { id: string }[] } } }).cwApp;
    const id = app.state().photos[0].id;
    const d = (await app.debug.photo(id)) as { descriptor: Float32Array; probabilities: Float32Array; grid: unknown; backend: string };
    const stats = (await app.debug.stats()) as { indexMs: number[] };
    return { descriptor: Array.from(d.descriptor), probabilities: Array.from(d.probabilities), grid: d.grid, recordBackend: d.backend, ms: stats.indexMs[0] };
  });
  expect(result.recordBackend).toBe(backend);
  // The whole query path on this backend too: forward pass on the query, search with re-ranking, heatmap.
  const t = Date.now();
  await page.click('[data-photo-id]');
  await page.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 280_000 });
  const searchMs = Date.now() - t;
  const top = await page.evaluate(() => (window as unknown as { cwApp: { response(): { results: { score: number; rerank?: unknown }[] } } }).cwApp.response()!.results[0]);
  expect(top.score).toBeGreaterThan(0.99); // the photo finds itself
  // CAM re-ranking (off by default since SuperGlobal became the default) on this backend too.
  await page.selectOption('[data-testid="control-rerank"]', '10');
  await page.waitForFunction(() => !!(window as unknown as { cwApp: { response(): { results: { rerank?: unknown }[] } | null } }).cwApp.response()?.results[0]?.rerank, undefined, { timeout: 280_000 });
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="results-grid"] canvas[data-overlay]') as HTMLCanvasElement | null;
    const d = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
    if (!d) return false;
    let painted = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++;
    return painted > 0.5 * (d.length / 4); // the heatmap, not just the box

  }, null, { timeout: 120_000 });
  const overlay = await canvasPixels(page, '[data-testid="results-grid"] canvas[data-overlay]');
  expect(overlay.painted).toBeGreaterThan(0.5 * overlay.width * overlay.height);
  await saveScreenshot(page, `app-${label}`);
  expect(consoleErrors, `console errors on ${label}`).toEqual([]);
  await page.close();
  return { backend, descriptor: result.descriptor, probabilities: result.probabilities, grid: result.grid, ms: result.ms, searchMs, wallMs: Date.now() - started };
}

for (const { model, longSide, D } of CASES) {
  describe.skipIf(!browserAvailable() || !data || !needsModels(model))(`app (${model}): ?backend=webgpu runs WebGPU, same descriptor as wasm`, () => {
    const e2e = useE2E();
    const settings = `model=${model}&longSide=${longSide}&debug=1`;

    it(`indexing ${PHOTO} on webgpu (forced) and on wasm gives the same descriptor within ${TOLERANCE}`, async () => {
      const gpu = await indexOne(e2e, `backend=webgpu&${settings}`, `webgpu-${model}`);
      expect(gpu.backend, '?backend=webgpu must run webgpu, software adapter or not').toBe('webgpu');
      const wasm = await indexOne(e2e, `backend=wasm&${settings}`, `wasm-${model}`);
      expect(wasm.backend).toBe('wasm');

      expect(gpu.grid).toEqual(wasm.grid);
      expect(gpu.descriptor.length).toBe(D);
      const maxDiff = Math.max(...gpu.descriptor.map((v, i) => Math.abs(v - wasm.descriptor[i])));
      const cosine = gpu.descriptor.reduce((s, v, i) => s + v * wasm.descriptor[i], 0);
      const maxProbDiff = Math.max(...gpu.probabilities.map((v, i) => Math.abs(v - wasm.probabilities[i])));
      console.log(
        `[app ${model} webgpu vs wasm] descriptor max |diff| ${maxDiff.toExponential(2)}, cosine ${cosine.toFixed(7)}, ` +
          `probabilities max |diff| ${maxProbDiff.toExponential(2)}; first photo indexed in ${gpu.ms.toFixed(0)} ms on webgpu ` +
          `(SwiftShader: shader compilation), ${wasm.ms.toFixed(0)} ms on wasm; search ${gpu.searchMs} / ${wasm.searchMs} ms; ` +
          `pages ${gpu.wallMs} / ${wasm.wallMs} ms`,
      );
      expect(maxDiff).toBeLessThan(TOLERANCE);
      expect(maxProbDiff).toBeLessThan(TOLERANCE);
    }, 600_000);
  });
}
