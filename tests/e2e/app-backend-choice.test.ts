/**
 * Which backend the app runs on, production build: headless Chromium without GPU flags and with
 * --enable-unsafe-webgpu (whose GPUs here are SwiftShader, software) both end on wasm by default, with the reason in
 * the header; `?backend=webgpu` still runs WebGPU (long side 64: SwiftShader is ~100x slower); a failure of the chosen
 * backend while indexing moves to the next one and says so; a measured choice (software GPUs measured too, through the
 * test hook) picks the fastest, is remembered across page loads and is measured again for another input size.
 * MobileNet v1 0.75 at long side 64-96 keeps it cheap.
 */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserAvailable, collectConsoleErrors, launchBrowser, useE2E } from './harness';
import { appPhotos, devSet, dropFiles, waitIndexed, type FileSpec } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { callApi, callDebug, integrity, shownNotices, waitModelReady, waitReady } from '../../scripts/lib/appDebug';
import type { EngineInfo } from '../../src/worker-api/api';
import { DEFAULT_MODEL } from '../../src/model/adapters';

const data = devSet();
const APP = 'model=mobilenet_v1_0.75&longSide=64&debug=1';
/** What the browser logs about SwiftShader's WebGL and WebGPU (warnings the app does not cause). */
const GPU_NOISE = [/GPU stall|WebGL|WebGPU|swiftshader/i];

const photoFiles = (from: number, n: number): FileSpec[] =>
  data!.images.slice(from, from + n).map((i) => {
    const p = data!.photo(i.name);
    return { name: p.fileName, type: 'image/jpeg', bytes: p.bytes };
  });

const backendShown = async (page: Page) => (await page.textContent('[data-testid="backend"]'))!.replace('Backend', '').trim();
const reasonShown = async (page: Page) => (await page.textContent('[data-testid="backend-reason"]')) ?? '';
const engineInfo = (page: Page) => page.evaluate(() => (window as unknown as { cwApp: { state(): { info: EngineInfo } } }).cwApp.state().info);

/** Opens the app in a fresh context of `browser`, ready. */
async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const errors = collectConsoleErrors(page, GPU_NOISE);
  await page.goto(url);
  await waitReady(page);
  return { page, errors };
}

/** Indexes `n` photos and returns the backend each record says it was computed on. */
async function indexOn(page: Page, from: number, n: number, timeoutMs = 240_000): Promise<string[]> {
  const before = (await appPhotos(page)).length;
  await dropFiles(page, '[data-testid="app"]', photoFiles(from, n));
  await waitIndexed(page, before + n, timeoutMs);
  const photos = (await appPhotos(page)).slice(before);
  return Promise.all(photos.map(async (p) => (await callDebug<{ backend: string }>(page, 'photo', p.id)).backend));
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75', DEFAULT_MODEL))('app: backend choice (production build)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });

  it('auto ends on wasm without GPU flags and with --enable-unsafe-webgpu, saying why; ?backend=webgpu still runs WebGPU', async () => {
    const plain = await launchBrowser({ webgpu: false });
    try {
      // ---- no GPU flags: no WebGPU, and WebGL is SwiftShader (and no model asked for: the default one)
      const { page, errors } = await open(plain, `${e2e.server.url}/?${APP.replace('model=mobilenet_v1_0.75&', '')}`);
      expect(await page.inputValue('[data-testid="model-select"]'), 'the default model').toBe(DEFAULT_MODEL);
      expect(await backendShown(page)).toBe('wasm');
      expect(await reasonShown(page)).toBe('this browser has no WebGPU, and its WebGL is a software emulator (SwiftShader)');
      expect(await page.getAttribute('[data-testid="backend"]', 'data-note'), 'the right choice: no warning').toBeNull();
      expect(await indexOn(page, 100, 1)).toEqual(['wasm']);
      expect(errors).toEqual([]);

      // ---- ?backend=webgpu where there is no WebGPU: the next of the order, said as a warning
      const forced = await open(plain, `${e2e.server.url}/?backend=webgpu&${APP}`);
      expect(await backendShown(forced.page)).toBe('wasm');
      const note = (await forced.page.getAttribute('[data-testid="backend"]', 'data-note'))!;
      expect(note).toMatch(/^WebGPU is not available \(no WebGPU adapter.*\), so the app uses WebAssembly \(wasm\)\.$/);
      expect(await reasonShown(forced.page)).toBe(note);
      expect((await shownNotices(forced.page)).join('\n')).toContain(note);
    } finally {
      await plain.close();
    }

    // ---- --enable-unsafe-webgpu: both GPUs are SwiftShader
    const { page, errors } = await open(e2e.browser, `${e2e.server.url}/?${APP}`);
    expect(await backendShown(page)).toBe('wasm');
    expect(await reasonShown(page)).toBe("this browser's WebGPU is a software emulator (SwiftShader), and its WebGL is a software emulator (SwiftShader)");
    expect(await indexOn(page, 101, 1)).toEqual(['wasm']);
    expect(errors).toEqual([]);

    // ---- ?backend=webgpu forces the software adapter
    const gpu = await open(e2e.browser, `${e2e.server.url}/?backend=webgpu&${APP}`);
    expect(await backendShown(gpu.page)).toBe('webgpu');
    expect(await reasonShown(gpu.page)).toBe('forced by the address (?backend=webgpu)');
    expect((await engineInfo(gpu.page)).adapter).toMatch(/swiftshader \(fallback adapter\)/);
    expect(await indexOn(gpu.page, 102, 1)).toEqual(['webgpu']);
    expect(gpu.errors).toEqual([]);
  }, 600_000);

  it('a failure of the chosen backend while indexing moves to the next one, says so, and loses nothing', async () => {
    // ---- auto (wasm here): the next is SwiftShader's WebGL
    const { page, errors } = await open(e2e.browser, `${e2e.server.url}/?${APP}`);
    await waitModelReady(page);
    expect(await callDebug<string>(page, 'failForward', 1)).toBe('wasm');
    expect(await indexOn(page, 110, 2)).toEqual(['webgl', 'webgl']);
    expect((await shownNotices(page)).join('\n')).toContain(
      'WebAssembly (wasm) failed while indexing (the forward pass failed on wasm (forced by debugFailForward)). The app moved to WebGL and indexes the photo again.',
    );
    expect(await backendShown(page)).toBe('webgl');
    const note = 'WebAssembly (wasm) failed while indexing (the forward pass failed on wasm (forced by debugFailForward)), so the app uses WebGL.';
    expect(await page.getAttribute('[data-testid="backend"]', 'data-note')).toBe(note);
    expect(await reasonShown(page)).toBe(note);
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 2, features: 2, maps: 2, queued: 0 });
    // The collection searches on the new backend too.
    await page.click('[data-photo-id]');
    await page.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="progress"][data-state="error"]').count()).toBe(0);
    expect(errors).toEqual([]);

    // ---- forced WebGPU fails: the next is wasm, the fastest here
    const gpu = await open(e2e.browser, `${e2e.server.url}/?backend=webgpu&${APP}`);
    await waitModelReady(gpu.page, 240_000);
    expect(await callDebug<string>(gpu.page, 'failForward', 1)).toBe('webgpu');
    expect(await indexOn(gpu.page, 112, 1)).toEqual(['wasm']);
    expect((await shownNotices(gpu.page)).join('\n')).toMatch(/WebGPU failed while indexing \(.*\)\. The app moved to WebAssembly \(wasm\) and indexes the photo again\./);
    expect(await backendShown(gpu.page)).toBe('wasm');
    expect(gpu.errors).toEqual([]);
  }, 600_000);

  it('a measured choice picks the fastest backend, is remembered across page loads, and is measured again for another input size', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const errors = collectConsoleErrors(page, GPU_NOISE);
    await page.goto(`${e2e.server.url}/?${APP}`);
    await waitReady(page);
    await waitModelReady(page);
    // The test hook measures SwiftShader too, as if it might be a real GPU.
    const measured = await callDebug<EngineInfo>(page, 'measureBackends', { includeSoftware: true, fresh: true });
    const ms = measured.backendTimings!;
    expect(Object.keys(ms).sort()).toEqual(['wasm', 'webgl', 'webgpu']);
    for (const v of Object.values(ms)) expect(v).toBeGreaterThan(0);
    const fastest = Object.entries(ms).sort((a, b) => a[1] - b[1])[0][0];
    expect(measured.backend).toBe(fastest);
    expect(measured.backendReason).toMatch(/^measured the fastest for MobileNet v1 0\.75 \(ImageNet\) in this browser \(webgpu \d+ ms, webgl \d+ ms, wasm \d+ ms a forward pass\)$/);
    await waitModelReady(page);
    expect(await reasonShown(page)).toBe(measured.backendReason);
    expect(await indexOn(page, 120, 1)).toEqual([fastest]);
    console.log(`[backend choice] measured at long side 64: ${JSON.stringify(ms)} -> ${fastest}`);
    await callApi(page, 'clearCollection'); // the next pages change the input size: nothing to index again
    await page.close();

    // ---- another page of this browser: remembered (IndexedDB), nothing measured
    const again = await context.newPage();
    const againErrors = collectConsoleErrors(again, GPU_NOISE);
    await again.goto(`${e2e.server.url}/?${APP}`);
    await waitReady(again);
    const t0 = Date.now();
    const remembered = await callDebug<EngineInfo>(again, 'measureBackends', { includeSoftware: true });
    expect(remembered.backend).toBe(fastest);
    expect(remembered.backendTimings).toEqual(ms);
    expect(remembered.backendReason).toBe(measured.backendReason.replace(/^measured/, 'remembered as'));
    console.log(`[backend choice] remembered in ${Date.now() - t0} ms`);

    // ---- another input size is another measurement
    await again.goto(`${e2e.server.url}/?${APP.replace('longSide=64', 'longSide=96')}`);
    await waitReady(again);
    const other = await callDebug<EngineInfo>(again, 'measureBackends', { includeSoftware: true });
    expect(other.backendReason).toMatch(/^measured the fastest/);
    expect(other.backendTimings).not.toEqual(ms);
    expect(errors).toEqual([]);
    expect(againErrors).toEqual([]);
    await context.close();
  }, 600_000);
});
