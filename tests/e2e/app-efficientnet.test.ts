/**
 * EfficientNet-B0 (a tfjs graph model) in the app, production build, wasm: chosen in the header's model menu over a
 * collection indexed with MobileNet, every photo is indexed again with it (1280-d descriptors, its own model key),
 * the address follows (?model=efficientnet_b0), a query with its ground-truth box finds its landmark, CAM re-ranking
 * draws heatmaps, and a reload keeps the model and runs no forward pass. Real photos of paris6k-mini-dev. One page
 * through the scenario, in steps that report on their own (a step after a failed one is skipped).
 */
import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { browserAvailable, saveScreenshot, useE2E } from './harness';
import { appPhotos, canvasPixels, devSet, dropFiles, revealPhoto, waitIndexed } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { steps } from './steps';

const data = devSet();
const QUERY_ID = 'defense_5';

interface CwWindow {
  cwApp: {
    debug: {
      stats(): Promise<{ forwardPasses: number }>;
      photo(id: string): Promise<{ modelKey: string; descriptor: Float32Array; backend: string } | null>;
    };
    response(): { results: { id: string; rerank?: unknown }[]; query: { box: { x1: number; y1: number }; classes: { name: string }[] } } | null;
  };
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75', 'efficientnet_b0'))('app: EfficientNet-B0 from the model menu (production build, wasm)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app-efficientnet' });
  const step = steps();
  // What the steps share: one page, the query and the collection's photos.
  let page: Page;
  let consoleErrors: string[];
  let q: NonNullable<typeof data>['queries'][number];
  let names: string[];
  let byName: Map<string, string>;

  step('a collection indexed with MobileNet; EfficientNet-B0 is in the model menu', async () => {
    const set = data!;
    q = set.queries.find((x) => x.id === QUERY_ID)!;
    const positives = q.positives.filter((p) => p !== q.image).slice(0, 6);
    const others = ['eiffel', 'invalides', 'louvre', 'moulinrouge'].flatMap((l) => set.images.filter((i) => i.name.startsWith(`paris_${l}`)).slice(0, 2).map((i) => i.name));
    names = [q.image, ...positives, ...others];
    ({ page, consoleErrors } = await e2e.openPage('/?backend=wasm&model=mobilenet_v1_0.75&longSide=512&debug=1'));
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    const menu = await page.$$eval('[data-testid="model-select"] option', (o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(menu).toContain('efficientnet_b0');
    await dropFiles(page, '[data-testid="app"]', names.map((n) => set.photo(n)).map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes })));
    await waitIndexed(page, names.length, 300_000);
  }, 360_000);

  step('choosing it in the menu indexes every photo again with it (1280-d, its own model key); the address follows', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.selectOption('[data-testid="model-select"]', 'efficientnet_b0');
    await page.waitForFunction(() => {
      const app = document.querySelector<HTMLElement>('[data-testid="app"]')!.dataset;
      return Number(app.indexedCount) < Number(app.photoCount);
    }, null, { timeout: 30_000 });
    await waitIndexed(page, names.length, 600_000);
    const photos = await appPhotos(page);
    const records = await page.evaluate(
      async (ids) => Promise.all(ids.map(async (id) => (await (window as unknown as CwWindow).cwApp.debug.photo(id))!)).then((r) => r.map((x) => [x.modelKey, x.descriptor.length, x.backend])),
      photos.map((p) => p.id),
    );
    expect(records).toEqual(photos.map(() => ['efficientnet_b0@512', 1280, 'wasm']));
    expect(page.url(), 'the address follows the model chosen in the page').toContain('model=efficientnet_b0');
    byName = new Map(photos.map((p) => [p.name.replace(/\.jpg$/, ''), p.id]));
  }, 660_000);

  step('a query with its ground-truth box finds its landmark; re-ranking draws the query\'s heatmap', async () => {
    await page.click(await revealPhoto(page, byName.get(q.image)!));
    await page.waitForSelector('[data-testid="results-grid"]', { timeout: 120_000 });
    const [x1, y1, x2, y2] = q.bbox_xyxy;
    for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) await page.fill(`[data-testid="box-${k}"]`, String(v));
    await page.click('[data-testid="search"]');
    await page.waitForFunction((bx1) => (window as unknown as CwWindow).cwApp.response()?.query.box.x1 === bx1, x1, { timeout: 120_000 });
    const response = (await page.evaluate(() => (window as unknown as CwWindow).cwApp.response()))!;
    const idToName = new Map([...byName].map(([n, id]) => [id, n]));
    const top5 = response.results.slice(0, 5).map((r) => idToName.get(r.id)!);
    const hits = top5.filter((n) => q.positives.includes(n)).length;
    console.log(`[app wasm efficientnet_b0@512] query ${QUERY_ID}: top 5 ${top5.join(', ')} (${hits} positives); classes ${response.query.classes.map((c) => c.name).join(', ')}`);
    expect(hits).toBeGreaterThanOrEqual(4);
    await page.selectOption('[data-testid="control-rerank"]', '100');
    await page.waitForSelector('[data-testid="results-summary"]:has-text("re-ranked top")', { timeout: 120_000 });
    expect((await page.evaluate(() => (window as unknown as CwWindow).cwApp.response()))!.results.slice(0, 5).every((r) => r.rerank)).toBe(true);
    await page.waitForFunction(() => {
      const c = document.querySelector('.query-frame canvas[data-overlay]') as HTMLCanvasElement | null;
      const d = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; d && i < d.length; i += 400) if (d[i] > 0) return true;
      return false;
    }, null, { timeout: 60_000 });
    expect((await canvasPixels(page, '.query-frame canvas[data-overlay]')).painted).toBeGreaterThan(0);
    await saveScreenshot(page, 'app-efficientnet');
  }, 420_000);

  step('after a reload the model is kept and the collection is not indexed again; no console errors', async () => {
    await page.reload();
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    await waitIndexed(page, names.length, 30_000);
    expect(await page.inputValue('[data-testid="model-select"]')).toBe('efficientnet_b0');
    expect((await page.evaluate(() => (window as unknown as CwWindow).cwApp.debug.stats())).forwardPasses).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
