/**
 * The production build (vite build + vite preview): a FOLDER dropped (nested folders walked; JPEG with an EXIF
 * rotation, PNG, WebP; a text file skipped), keyboard navigation to a query, a query box drawn with the pointer, a
 * photo dropped on the query area (searched, not added), a model switch that re-indexes the collection, a second
 * visit with the server GONE (the service worker serves the app shell, the worker reads the model from its cache,
 * the collection is searched), clearing the collection, and the Content-Security-Policy that keeps every request of
 * the page and its worker on this origin. One page through the whole scenario, in steps that report on their own (a
 * step after a failed one is skipped).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { browserAvailable, saveScreenshot, useE2E } from './harness';
import { projectRoot } from '../../scripts/lib/appServer';
import { appPhotos, devSet, dropFiles, dropFolder, photoCounts, revealPhoto, waitIndexed, withExifOrientation } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { steps } from './steps';

const data = devSet();

interface CwWindow {
  cwApp: {
    debug: { photo(id: string): Promise<{ descriptor: Float32Array; modelKey: string } | null>; stats(): Promise<{ forwardPasses: number }> };
    response(): { results: { id: string }[] } | null;
  };
}

/** A WebP made by this browser's encoder from a JPEG (so the test needs no WebP encoder of its own). */
async function toWebp(page: Page, jpg: Buffer): Promise<Buffer> {
  const b64 = await page.evaluate(async (src) => {
    const bytes = Uint8Array.from(atob(src), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    const webp = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/webp', quality: 0.9 })).arrayBuffer());
    let s = '';
    for (let i = 0; i < webp.length; i++) s += String.fromCharCode(webp[i]);
    return btoa(s);
  }, jpg.toString('base64'));
  const out = Buffer.from(b64, 'base64');
  if (out.subarray(8, 12).toString() !== 'WEBP') throw new Error('this Chromium did not encode WebP');
  return out;
}

function toPng(jpg: Buffer): Buffer {
  const { width, height, data: rgba } = jpeg.decode(jpg, { useTArray: true, formatAsRGBA: true });
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  return PNG.sync.write(png);
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75', 'resnet50'))('app: production build, folders, model switch, offline second visit', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });
  const step = steps();
  // What the steps share: one page and the photos of the dropped folder.
  let page: Page;
  let consoleErrors: string[];
  let photos: Awaited<ReturnType<typeof appPhotos>>;
  const t0 = Date.now();
  const mark = (what: string) => console.log(`[app build] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  step('the page and its worker connect to this origin only (Content-Security-Policy); the service worker is active', async () => {
    ({ page, consoleErrors } = await e2e.openPage('/?backend=wasm&model=mobilenet_v1_0.75&longSide=128&debug=1', {
      sharedContext: true,
      ignoreConsole: [/elsewhere\.invalid/], // the deliberate CSP violation below
    }));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    mark('app ready');
    // Photos cannot leave: the Content-Security-Policy lets the page (meta tag) and the worker (header of its
    // script) connect to this origin only.
    const blocked = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(`${e.violatedDirective} ${e.blockedURI}`), { once: true }));
      const sent = await fetch('http://elsewhere.invalid/upload', { method: 'POST', body: 'photo' }).then(() => 'sent', () => 'refused');
      return [sent, await violation];
    });
    expect(blocked).toEqual(['refused', 'connect-src http://elsewhere.invalid/upload']);
    // The worker script's header, asked of the server itself (waiting for the page's own request raced it: the page
    // can have loaded the worker before a listener is attached).
    const workerFile = readdirSync(join(projectRoot, 'test-results/dist-app/assets')).find((f) => /^worker-[^/]+\.js$/.test(f));
    expect(workerFile, 'the build has a worker script').toBeDefined();
    const workerScript = await fetch(`${e2e.server.url}/assets/${workerFile}`);
    expect(workerScript.ok).toBe(true);
    expect(workerScript.headers.get('content-security-policy') ?? '').toContain("connect-src 'self'");
    // The service worker has cached the app shell once it is active.
    // (A real production build: vitest's NODE_ENV=test must not leak into it, or the app registers no worker.)
    expect(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state))).toMatch(/^activat(ing|ed)$/);
    mark('service worker active');
  });

  step('a dropped folder: nested folders walked, a JPEG upright by its EXIF rotation, PNG and WebP indexed, a text file skipped', async () => {
    const set = data!;
    const [a, b, c, d] = ['paris_louvre_000081', 'paris_louvre_000135', 'paris_louvre_000050', 'paris_eiffel_000266'].map((n) => set.photo(n));
    const rotated = withExifOrientation(b.bytes, 6);
    const webp = await toWebp(page, d.bytes);
    mark('webp made');
    await dropFolder(page, '[data-testid="app"]', 'trip', [
      { name: a.fileName, type: 'image/jpeg', bytes: a.bytes, path: 'trip/a.jpg' },
      { name: 'b.jpg', type: 'image/jpeg', bytes: rotated, path: 'trip/day2/b-rotated.jpg' },
      { name: 'c.png', type: 'image/png', bytes: toPng(c.bytes), path: 'trip/day2/more/c.png' },
      { name: 'd.webp', type: 'image/webp', bytes: webp, path: 'trip/day2/more/d.webp' },
      { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not a photo'), path: 'trip/notes.txt' },
    ]);
    await waitIndexed(page, 4, 120_000);
    photos = await appPhotos(page);
    expect(photos.map((p) => p.path).sort()).toEqual(['trip/a.jpg', 'trip/day2/b-rotated.jpg', 'trip/day2/more/c.png', 'trip/day2/more/d.webp']);
    const raw = set.images.find((i) => i.name === b.name)!;
    const upright = photos.find((p) => p.path.endsWith('b-rotated.jpg'))!;
    expect(raw.width).toBeGreaterThan(raw.height);
    expect([upright.width, upright.height], 'EXIF orientation 6 makes the landscape photo portrait').toEqual([raw.height, raw.width]);
    const thumb = await page.$eval(`${await revealPhoto(page, upright.id)} img`, (img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    expect(thumb[0]).toBeLessThan(thumb[1]);
    expect(await page.textContent('.notices')).toContain('1 not an image');
    mark('folder indexed');
  }, 180_000);

  step('keyboard: arrows move the focus in the grid, Enter searches with the focused photo', async () => {
    await page.focus('[data-testid="collection-grid"] [tabindex="0"]');
    await page.keyboard.press('ArrowRight');
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.photoId);
    expect(focused).toBe(photos[1].id);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 60_000 });
    expect(await page.getAttribute(await revealPhoto(page, photos[1].id), 'aria-pressed')).toBe('true');
    await saveScreenshot(page, 'app-build-folder');
    mark('keyboard query searched');
  });

  step('a query box drawn with the pointer is the box searched with', async () => {
    const frame = (await page.locator('.query-frame').boundingBox())!;
    await page.mouse.move(frame.x + frame.width * 0.25, frame.y + frame.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(frame.x + frame.width * 0.5, frame.y + frame.height * 0.5, { steps: 5 });
    await page.mouse.move(frame.x + frame.width * 0.75, frame.y + frame.height * 0.8, { steps: 5 });
    await page.mouse.up();
    const drawn = await Promise.all(['x1', 'y1', 'x2', 'y2'].map(async (k) => Number(await page.inputValue(`[data-testid="box-${k}"]`))));
    const img = photos[1];
    expect(drawn[0] / img.width).toBeCloseTo(0.25, 1);
    expect(drawn[1] / img.height).toBeCloseTo(0.2, 1);
    expect(drawn[2] / img.width).toBeCloseTo(0.75, 1);
    expect(drawn[3] / img.height).toBeCloseTo(0.8, 1);
    await page.click('[data-testid="search"]:has-text("Search with this box")');
    await page.waitForSelector('[data-testid="search"]:has-text("Search again")', { timeout: 60_000 });
  });

  step('a photo dropped on the query area is searched for, and not added to the collection', async () => {
    const outside = data!.photo('paris_louvre_000035');
    await dropFiles(page, '[data-testid="query-drop"]', [{ name: 'dropped-query.jpg', type: 'image/jpeg', bytes: outside.bytes }]);
    await page.waitForSelector('.query-name:has-text("dropped-query.jpg")', { timeout: 30_000 });
    await page.waitForFunction(() => {
      const r = (window as unknown as { cwApp: { response(): { query: { key: string } } | null } }).cwApp.response();
      return !!r && r.query.key.startsWith('file:');
    }, null, { timeout: 60_000 });
    expect((await photoCounts(page)).photos).toBe(4);
    // The drop ended the drag: the page's "drop to add" overlay is gone too (the panel keeps the drop to itself).
    expect(await page.locator('.drop-overlay').count()).toBe(0);
    mark('box drawn, dropped query searched');
  });

  step('a model switch re-indexes every photo with the new model (descriptors never mixed)', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.selectOption('[data-testid="model-select"]', 'resnet50');
    await page.waitForFunction(() => {
      const app = document.querySelector<HTMLElement>('[data-testid="app"]')!.dataset;
      return Number(app.indexedCount) < Number(app.photoCount);
    }, null, { timeout: 30_000 });
    await waitIndexed(page, 4, 240_000);
    const keys = await page.evaluate(
      async (ids) => Promise.all(ids.map(async (id) => (await (window as unknown as CwWindow).cwApp.debug.photo(id))!)).then((r) => r.map((x) => [x.modelKey, x.descriptor.length])),
      photos.map((p) => p.id),
    );
    expect(keys).toEqual(photos.map(() => ['resnet50@128', 2048]));
    mark('re-indexed with resnet50');
  }, 300_000);

  step('with the server gone, the next visit opens from the service worker and searches with the cached model', async () => {
    // (Stopping the server is what offline means to this origin; Playwright's setOffline emulation fails
    // navigations before the service worker sees them.)
    await e2e.server.stop();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    expect(page.url(), 'the address follows the model chosen in the page').toContain('model=resnet50');
    await page.reload();
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    await waitIndexed(page, 4, 30_000);
    expect(await page.inputValue('[data-testid="model-select"]')).toBe('resnet50');
    await page.click(await revealPhoto(page, photos[0].id));
    await page.waitForSelector('[data-testid="results-grid"] [data-rank="4"]', { timeout: 120_000 });
    expect((await page.evaluate(() => (window as unknown as CwWindow).cwApp.response()))!.results[0].id).toBe(photos[0].id);
    // The default search (online aggregation) runs the query photo through the network: the model came from the
    // cache. Only the query's own passes (the photo and its box), never the collection's.
    const passes = (await page.evaluate(() => (window as unknown as CwWindow).cwApp.debug.stats())).forwardPasses;
    expect(passes).toBeGreaterThan(0);
    expect(passes).toBeLessThanOrEqual(2);
    mark('offline reload searched');
    await saveScreenshot(page, 'app-build-offline');
    expect(failed, 'page requests that failed with the server gone').toEqual([]);
  }, 240_000);

  step('clearing empties the collection, also on the next visit; no console errors', async () => {
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button:has-text("Clear collection")');
    await page.waitForSelector('[data-testid="collection-empty"]', { timeout: 30_000 });
    await page.reload();
    await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
    expect(await page.locator('[data-testid="collection-empty"]').count()).toBe(1);
    expect((await photoCounts(page)).photos).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});
