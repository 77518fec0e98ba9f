/**
 * Resilience of the app on the production build (vite build + vite preview, with its Content-Security-Policy):
 *  4. backends: WebGPU asked for where there is none: the app falls back to wasm and says so (and indexes); a GPU
 *     device lost while indexing is recovered (backend started again, the photo indexed again) instead of hanging,
 *     and a second loss moves to the next backend (SwiftShader WebGPU, long side 64);
 *  5. model loading: a missing, truncated or wrong model file gives a clear error with "Try again" (no blank page),
 *     and a model the user brings (files, or a model.json on this site) is checked for a GAP + linear classifier
 *     head before it is used; one on another site is refused (the CSP allows this origin only);
 *  7. two tabs on one collection: only one indexes (Web Locks), the other shows everything and takes over when the
 *     first closes; the same photos dropped in both at once are stored once; a newer version of the app upgrading
 *     the database closes it here with a message, and a database newer than this app gives a message, not a crash.
 * MobileNet v1 0.75 at long side 64-128 and small models made in the test keep it cheap.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserAvailable, launchBrowser, saveScreenshot, useE2E } from './harness';
import { appPhotos, devSet, dropFiles, waitIndexed, type FileSpec } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { SCHEMA_VERSION } from '../../src/index/schema';
import { callDebug, forwardPasses, integrity, shownNotices, startProxy, waitModelReady, waitPhotos, waitReady } from '../../scripts/lib/appDebug';
import { TINY_CLASSES, tinyModelFiles } from './tinyModels';

const data = devSet();

const MOBILENET = 'model=mobilenet_v1_0.75';

const photoFiles = (from: number, n: number): FileSpec[] =>
  data!.images.slice(from, from + n).map((i) => {
    const p = data!.photo(i.name);
    return { name: p.fileName, type: 'image/jpeg', bytes: p.bytes };
  });

async function openLoader(page: Page): Promise<void> {
  await page.selectOption('[data-testid="model-select"]', '__load-model__');
  await page.waitForSelector('[data-testid="model-loader"][open]');
}

/** Fills the model dialog and presses "Check and use"; returns the error shown, or null when it closed. */
async function loadModel(page: Page, source: { files?: Map<string, Buffer>; url?: string }, name?: string): Promise<string | null> {
  await openLoader(page);
  if (source.files) {
    await page.setInputFiles('[data-testid="model-files"]', [...source.files].map(([n, buffer]) => ({ name: n, mimeType: n.endsWith('.json') ? 'application/json' : 'application/octet-stream', buffer })));
  }
  if (source.url) await page.fill('[data-testid="model-url"]', source.url);
  if (name) await page.fill('[data-testid="model-name"]', name);
  await page.click('[data-testid="model-load"]');
  const outcome = await Promise.race([
    page.waitForSelector('[data-testid="model-error"]', { timeout: 60_000 }).then(() => 'error' as const),
    page.waitForSelector('[data-testid="model-loader"]', { state: 'detached', timeout: 60_000 }).then(() => 'closed' as const),
  ]);
  if (outcome === 'closed') return null;
  const text = (await page.textContent('[data-testid="model-error"]')) ?? '';
  await page.click('[data-testid="model-loader"] button:has-text("Cancel")');
  await page.waitForSelector('[data-testid="model-loader"]', { state: 'detached' });
  return text;
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75'))('app resilience: backends, model loading, two tabs (production build)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });

  it('4: WebGPU asked for without WebGPU falls back to wasm and says so; a lost GPU device is recovered once, and a second loss moves to wasm', async () => {
    // ---- a browser without WebGPU (the flag off): ?backend=webgpu falls back, the header and a notice say which and why
    const noGpu = await launchBrowser({ webgpu: false });
    try {
      const page = await noGpu.newPage();
      await page.goto(`${e2e.server.url}/?backend=webgpu&${MOBILENET}&longSide=64&debug=1`);
      await waitReady(page);
      expect((await page.textContent('[data-testid="backend"]'))!).toMatch(/Backend\s*wasm/);
      const note = (await page.getAttribute('[data-testid="backend"]', 'data-note'))!;
      expect(note).toMatch(/^WebGPU is not available \(no WebGPU adapter.*\), so the app uses WebAssembly \(wasm\)\.$/);
      expect(await page.textContent('[data-testid="backend-reason"]')).toBe(note);
      expect((await shownNotices(page)).join('\n')).toContain(note);
      await dropFiles(page, '[data-testid="app"]', photoFiles(60, 1));
      await waitIndexed(page, 1, 180_000);
      expect((await callDebug<{ backend: string }>(page, 'photo', (await appPhotos(page))[0].id)).backend).toBe('wasm');
    } finally {
      await noGpu.close();
    }

    // ---- WebGPU (SwiftShader here): the device is destroyed right after the first photo's forward pass
    const t0 = Date.now();
    const { page, consoleErrors } = await e2e.openPage(`/?backend=webgpu&${MOBILENET}&longSide=64&debug=1`, {
      // What the browser and tfjs log about the destroyed device.
      ignoreConsole: [/[Dd]evice (was )?(is )?lost|destroyed|Instance dropped|GPU|WebGPU|mapAsync|Failed to execute/],
    });
    await waitReady(page);
    expect((await page.textContent('[data-testid="backend"]'))!).toMatch(/Backend\s*webgpu/);
    await waitModelReady(page, 240_000);
    expect(await callDebug<boolean>(page, 'loseGpuDevice', 'next-photo')).toBe(true);
    await dropFiles(page, '[data-testid="app"]', photoFiles(61, 2));
    await waitIndexed(page, 2, 300_000);
    let notices = (await shownNotices(page)).join('\n');
    expect(notices).toMatch(/The GPU device was lost \(.+\)\. The app restarted WebGPU and indexes the photo again\./);
    expect((await page.textContent('[data-testid="backend"]'))!).toMatch(/Backend\s*webgpu/);
    const photos = await appPhotos(page);
    for (const p of photos) expect((await callDebug<{ backend: string }>(page, 'photo', p.id)).backend).toBe('webgpu');
    console.log(`[resilience 4] device lost during the first photo: recovered, 2 photos indexed on WebGPU in ${Date.now() - t0} ms`);

    // ---- lost a second time: WebGPU is given up for the next backend of the order (wasm here), with a notice
    expect(await callDebug<boolean>(page, 'loseGpuDevice', 'next-photo')).toBe(true);
    await dropFiles(page, '[data-testid="app"]', photoFiles(63, 1));
    await waitIndexed(page, 3, 300_000);
    notices = (await shownNotices(page)).join('\n');
    expect(notices).toMatch(/WebGPU failed while indexing \(the GPU device was lost again \(.+\)\)\. The app moved to WebAssembly \(wasm\) and indexes the photo again\./);
    expect((await page.textContent('[data-testid="backend"]'))!).toMatch(/Backend\s*wasm/);
    expect(await page.getAttribute('[data-testid="backend"]', 'data-note')).toMatch(/^WebGPU failed while indexing \(the GPU device was lost again/);
    const third = (await appPhotos(page)).find((p) => !photos.some((q) => q.id === p.id))!;
    expect((await callDebug<{ backend: string }>(page, 'photo', third.id)).backend).toBe('wasm');
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 3, features: 3, queued: 0 });
    expect(await page.locator('[data-testid="progress"][data-state="error"]').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 600_000);

  it('5: missing, truncated and wrong model files — a clear error and Try again; models brought by the user are checked first', async () => {
    // The model files come through a proxy that can drop, cut or replace them (the worker fetches them).
    const proxy = await startProxy(e2e.server.url);
    const context = await e2e.browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const folder = '/models/mobilenet_v1_0.75';
    const app = `${proxy.url}/?backend=wasm&${MOBILENET}&longSide=64&debug=1`;
    try {
      // ---- a weight file missing on the server
      proxy.rules.set(`${folder}/group10-shard1of1`, 404);
      await page.goto(app);
      await waitReady(page);
      await page.waitForSelector('[data-testid="model-error-banner"]', { timeout: 60_000 });
      expect(await page.textContent('[data-testid="model-error-banner"]')).toMatch(/could not be loaded: .*\/group10-shard1of1: HTTP 404/);
      expect(await page.locator('[data-testid="collection-empty"]').count(), 'the page is there, not blank').toBe(1);

      // ---- truncated (half the bytes), then Try again
      proxy.rules.set(`${folder}/group10-shard1of1`, (b) => b.subarray(0, b.length / 2));
      await page.click('[data-testid="model-retry"]');
      await page.waitForFunction(() => /truncated or wrong files/.test(document.querySelector('[data-testid="model-error-banner"]')?.textContent ?? ''), null, { timeout: 60_000 });

      // ---- a wrong model.json (not JSON), then Try again
      proxy.rules.delete(`${folder}/group10-shard1of1`);
      proxy.rules.set(`${folder}/model.json`, () => Buffer.from('<!doctype html><p>Welcome</p>'));
      await page.click('[data-testid="model-retry"]');
      await page.waitForFunction(() => /model\.json could not be read as JSON/.test(document.querySelector('[data-testid="model-error-banner"]')?.textContent ?? ''), null, { timeout: 60_000 });
      await saveScreenshot(page, 'resilience-model-error');

      // ---- fixed on the server: Try again loads it, no reload needed
      proxy.rules.delete(`${folder}/model.json`);
      await page.click('[data-testid="model-retry"]');
      await waitModelReady(page, 60_000);
      expect(await page.locator('[data-testid="model-error-banner"]').count()).toBe(0);
      await dropFiles(page, '[data-testid="app"]', photoFiles(70, 2));
      await waitIndexed(page, 2, 60_000);

      // ---- models the user brings: checked before anything changes
      const hostileLabel = '<img src=x onerror="window.__xss=5">"label"';
      const labels = [hostileLabel, 'sky', 'stone', 'glass', 'tree'];
      const cam = await tinyModelFiles({ cam: true, labels });
      const camNoLabels = await tinyModelFiles({ cam: true });
      const noCam = await tinyModelFiles({ cam: false });
      const only = (files: Map<string, Buffer>, ...names: string[]) => new Map([...files].filter(([n]) => names.includes(n)));
      const truncatedWeights = new Map(cam);
      truncatedWeights.set('tiny.bin', cam.get('tiny.bin')!.subarray(0, 40));

      const notCam = await loadModel(page, { files: noCam });
      expect(notCam).toMatch(/This model cannot be used: not usable for CAMs: classifier hidden has a relu activation/);
      expect(await loadModel(page, { files: only(cam, 'model.json') })).toMatch(/weight file tiny\.bin could not be loaded: tiny\.bin is missing: choose it together with model\.json/);
      expect(await loadModel(page, { files: truncatedWeights })).toMatch(/hold 40 bytes but the manifest needs \d+: truncated or wrong files/);
      expect(await loadModel(page, { files: only(cam, 'tiny.bin') })).toMatch(/choose the model\.json of a TensorFlow\.js layers model/);
      expect(await loadModel(page, { url: 'https://models.example.com/cam/model.json' })).toMatch(
        /models can only be loaded from this site \(http:\/\/127\.0\.0\.1:\d+\): the app may not connect anywhere else/,
      );
      expect(await loadModel(page, { url: '/test-models/absent/model.json' })).toMatch(/\/test-models\/absent\/model\.json: (HTTP 404|not found \(the site answered with a page\))/);
      expect(await page.inputValue('[data-testid="model-select"]'), 'nothing changed').toBe('mobilenet_v1_0.75');
      expect((await appPhotos(page)).every((p) => p.indexed)).toBe(true);

      // A model.json on this site (no labels.json: numbered classes), used after the check: the collection is re-indexed.
      for (const [name, body] of camNoLabels) proxy.rules.set(`/test-models/tiny/${name}`, { body, type: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
      proxy.rules.set('/test-models/absent/model.json', 404);
      page.once('dialog', (d) => void d.accept());
      expect(await loadModel(page, { url: '/test-models/tiny/model.json' }, 'Tiny from the site')).toBeNull();
      await page.waitForFunction(() => (document.querySelector('[data-testid="model-select"]') as HTMLSelectElement).selectedOptions[0]?.textContent?.includes('Tiny from the site'), null, {
        timeout: 30_000,
      });
      // The page's indexed count may still be the old model's for a moment: wait for the photo's new record.
      type Debug = { modelKey: string; descriptor: Float32Array; probabilities: Float32Array } | null;
      const ids = (await appPhotos(page)).map((p) => p.id);
      const firstId = ids[0];
      const keys = async () => Promise.all(ids.map(async (id) => (await callDebug<Debug>(page, 'photo', id))?.modelKey ?? null));
      await expect.poll(async () => (await keys()).every((k) => k !== null && /^custom-[0-9a-f]{16}@64$/.test(k)), { timeout: 60_000, interval: 250 }).toBe(true);
      await waitIndexed(page, 2, 60_000);
      const first = (await callDebug<Debug>(page, 'photo', firstId))!;
      expect(first.descriptor.length).toBe(16);
      expect(first.probabilities.length).toBe(TINY_CLASSES);
      expect((await shownNotices(page)).join('\n')).toMatch(/Model checked and kept\. Tiny from the site: 5 classes, feature layer features \(16 channels, one cell per 4 px\), classifier classifier\. No labels\.json: its classes are numbered\./);

      // Files with labels (one of them markup): used, searched, and the label shows as text.
      page.once('dialog', (d) => void d.accept());
      expect(await loadModel(page, { files: cam }, 'Tiny with labels')).toBeNull();
      await page.waitForFunction(() => (document.querySelector('[data-testid="model-select"]') as HTMLSelectElement).selectedOptions[0]?.textContent?.includes('Tiny with labels'), null, {
        timeout: 30_000,
      });
      await waitIndexed(page, 2, 60_000);
      await page.click('[data-photo-id]');
      await page.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 60_000 });
      const classes = await page.evaluate(() => (window as unknown as { cwApp: { response(): { query: { classes: { name: string }[] } } } }).cwApp.response().query.classes.map((c) => c.name));
      expect(classes.sort()).toEqual(labels.map((l) => l.split(',')[0].trim()).sort());
      expect(await page.evaluate(() => document.body.textContent!.includes('<img src=x onerror="window.__xss=5">"label"'))).toBe(true);
      expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
      // Both models stay in the menu, marked as the user's; a reload keeps the chosen one (read from this browser).
      const options = await page.$$eval('[data-testid="model-select"] option', (os) => os.map((o) => o.textContent));
      expect(options).toEqual(expect.arrayContaining(['Tiny from the site (yours)', 'Tiny with labels (yours)', 'Load a model…']));
      await page.reload();
      await waitReady(page);
      await waitModelReady(page, 60_000);
      expect(await page.$eval('[data-testid="model-select"]', (s) => (s as HTMLSelectElement).selectedOptions[0].textContent)).toBe('Tiny with labels (yours)');
      expect((await integrity(page)).problems).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      await proxy.close();
    }
  }, 300_000);

  it('7: two tabs on one collection — one indexes, the other follows and takes over; no duplicates; upgrades handled', async () => {
    const context = await e2e.browser.newContext();
    const url = `${e2e.server.url}/?backend=wasm&${MOBILENET}&longSide=256&debug=1`;
    const open = async () => {
      const p = await context.newPage();
      await p.goto(url);
      await waitReady(p);
      return p;
    };
    const a = await open();
    const b = await open();
    await Promise.all([waitModelReady(a), waitModelReady(b)]);

    // ---- tab A imports; tab B shows the photos and their indexing, and never runs the network on them
    await dropFiles(a, '[data-testid="app"]', photoFiles(80, 6));
    await waitIndexed(a, 6, 120_000);
    await waitIndexed(b, 6, 30_000);
    // One of the two tabs ran the network on them (whichever took the lock first), never both.
    expect((await forwardPasses(a)) + (await forwardPasses(b)), 'each photo indexed once in all').toBe(6);

    // ---- the same photos dropped in both tabs at once: stored once
    const same = photoFiles(86, 4);
    await Promise.all([dropFiles(a, '[data-testid="app"]', same), dropFiles(b, '[data-testid="app"]', same)]);
    await Promise.all([waitIndexed(a, 10, 120_000), waitIndexed(b, 10, 120_000)]);
    await waitPhotos(a, 10);
    await waitPhotos(b, 10);
    const passes = (await forwardPasses(a)) + (await forwardPasses(b));
    expect(passes, 'each photo indexed once in all').toBe(10);
    let check = await integrity(b);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 10, blobs: 10, features: 10, maps: 10, queued: 0 });

    // ---- a big drop: one tab indexes, the other says so and waits; the indexing tab is closed half-way and the
    // other one takes over
    const more = photoFiles(90, 12);
    await dropFiles(a, '[data-testid="app"]', more);
    const stateOf = (p: Page) => p.getAttribute('[data-testid="progress"]', 'data-state', { timeout: 1000 }).catch(() => null);
    let indexing: Page | null = null;
    for (const deadline = Date.now() + 120_000; !indexing && Date.now() < deadline; await a.waitForTimeout(50)) {
      const [sa, sb] = [await stateOf(a), await stateOf(b)];
      if (sa === 'running' && sb === 'waiting') indexing = a;
      else if (sb === 'running' && sa === 'waiting') indexing = b;
    }
    expect(indexing, 'one tab indexes while the other waits').not.toBeNull();
    const other = indexing === a ? b : a;
    expect(await other.textContent('[data-testid="waiting"]')).toMatch(/Another tab of this app is indexing this collection/);
    await indexing!.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.indexedCount) >= 12, null, { timeout: 120_000, polling: 50 });
    const passesBefore = await forwardPasses(other);
    await indexing!.close();
    await waitIndexed(other, 22, 180_000);
    await waitPhotos(other, 22);
    expect(await forwardPasses(other), 'the remaining tab took over').toBeGreaterThan(passesBefore);
    check = await integrity(other);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 22, features: 22, queued: 0 });
    // The remaining tab searches the whole collection, including what the closed tab indexed.
    await other.click('[data-photo-id]');
    await other.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 60_000 });
    expect(await other.evaluate(() => (window as unknown as { cwApp: { response(): { searched: number } } }).cwApp.response().searched)).toBe(22);

    // ---- a newer version of the app opens the database in another tab: this one closes it and says so
    const c = await context.newPage();
    await c.goto(`${e2e.server.url}/favicon.svg`);
    const upgraded = await c.evaluate(
      (version) =>
        new Promise<string>((resolve) => {
          const req = indexedDB.open('cw-instance-search', version);
          req.onblocked = () => resolve('blocked');
          req.onsuccess = () => {
            req.result.close();
            resolve('upgraded');
          };
          req.onerror = () => resolve(`error ${req.error?.name}`);
        }),
      SCHEMA_VERSION + 1,
    );
    expect(upgraded, 'the open tab let the upgrade through').toBe('upgraded');
    await other.waitForSelector('[data-testid="fatal"]', { timeout: 60_000 });
    expect(await other.textContent('[data-testid="fatal"]')).toMatch(/upgraded by a newer version of the app in another tab: reload this page/);
    // ---- and a database newer than this app: a message, not a crash
    await other.reload();
    await other.waitForSelector('[data-testid="fatal"]', { timeout: 30_000 });
    expect(await other.textContent('[data-testid="fatal"]')).toMatch(/saved by a newer version of the app/);
    await c.close();
    await context.close();
  }, 420_000);
});
