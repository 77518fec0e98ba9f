/**
 * wasm threads in the production build (vite build + vite preview, with its Content-Security-Policy), in the app's
 * own worker: where the page is cross-origin isolated, the worker starts tfjs' threaded SIMD build (its pthread
 * workers survive the minified build and the CSP: vite.config.ts) and indexes a photo; where it is not (a static
 * host that sends no COOP/COEP headers: CW_NO_ISOLATION_HEADERS=1), it runs the single-threaded build and indexes
 * all the same, and from the next visit the service worker's headers make it isolated and threaded.
 *
 * The app is asked for 2 threads (?threads=2): its automatic choice is tfjs' own cap, hardwareConcurrency / 2, which
 * is 1 on this 2-core machine (tests/e2e/backend.test.ts checks the automatic choice against this machine's cores).
 * MobileNet v1 0.75 at long side 128 keeps it cheap.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserAvailable, useE2E } from './harness';
import { devSet, dropFiles, waitIndexed } from './appHelpers';
import { needsModels } from '../helpers/requirements';

const data = devSet();
const OUT_DIR = 'test-results/dist-threads';
const APP = '/?backend=wasm&model=mobilenet_v1_0.75&longSide=128&threads=2&debug=1';

interface Seen {
  isolated: boolean;
  backend: string;
  wasmThreads: number | null;
}

async function seen(page: Page): Promise<Seen> {
  await page.waitForSelector('[data-phase="ready"]', { timeout: 90_000 });
  return page.evaluate(() => {
    const info = (window as unknown as { cwApp: { state(): { info: { backend: string; wasmThreads: number | null } } } }).cwApp.state().info;
    return { isolated: crossOriginIsolated, backend: info.backend, wasmThreads: info.wasmThreads };
  });
}

async function indexOnePhoto(page: Page, index: number): Promise<void> {
  const img = data!.images[index];
  const p = data!.photo(img.name);
  await dropFiles(page, '[data-testid="app"]', [{ name: p.fileName, type: 'image/jpeg', bytes: p.bytes }]);
  await waitIndexed(page, 1, 120_000);
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75'))('wasm threads in the production build', () => {
  describe('served with COOP/COEP (vite preview)', () => {
    const e2e = useE2E({ mode: 'preview', build: true, outDir: OUT_DIR });

    it('the worker runs the threaded build (2 threads) under the CSP and indexes a photo', async () => {
      const { page, consoleErrors } = await e2e.openPage(APP);
      expect(await seen(page)).toEqual({ isolated: true, backend: 'wasm', wasmThreads: 2 });
      await indexOnePhoto(page, 0);
      expect(consoleErrors).toEqual([]);
    });
  });

  describe('served without them, as a plain static host (CW_NO_ISOLATION_HEADERS=1)', () => {
    const e2e = useE2E({ mode: 'preview', outDir: OUT_DIR, env: { CW_NO_ISOLATION_HEADERS: '1' } });

    it('first visit: single-threaded, indexes; next visit: the service worker isolates the page, 2 threads', async () => {
      const { page, consoleErrors } = await e2e.openPage(APP);
      expect(await seen(page)).toEqual({ isolated: false, backend: 'wasm', wasmThreads: 1 });
      await indexOnePhoto(page, 1);
      // The app shell's service worker takes control, then adds the headers to what it serves.
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
      await page.reload();
      expect(await seen(page)).toEqual({ isolated: true, backend: 'wasm', wasmThreads: 2 });
      await waitIndexed(page, 1, 60_000); // the collection is still there, searchable
      expect(consoleErrors).toEqual([]);
    });
  });
});
