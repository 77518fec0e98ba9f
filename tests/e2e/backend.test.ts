/**
 * src/model/backend.ts in headless Chromium: initBackend gives the backend asked for, on a page and inside a
 * module Web Worker (wasm binaries found through their `?url` imports, SwiftShader's fallback WebGPU adapter
 * accepted); 'auto' picks webgpu first, and falls back when the browser has no WebGPU. Both servers send COOP/COEP:
 * wasm runs on the automatic thread count for this machine's cores (the threaded build where that is 2 or more;
 * tests/e2e/app-threads.test.ts forces 2 threads in the app's worker).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BackendProbe } from '../browser/backendProbe';
import { autoWasmThreads } from '../../src/model/wasmThreads';
import { browserAvailable, collectConsoleErrors, launchBrowser, useE2E, type E2E } from './harness';

const CASES: { where: 'page' | 'worker'; requested: string; expected: string }[] = [];
for (const where of ['page', 'worker'] as const) {
  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) CASES.push({ where, requested: backend, expected: backend });
  // This Chromium always has WebGPU (--enable-unsafe-webgpu, SwiftShader), so 'auto' must settle on it.
  CASES.push({ where, requested: 'auto', expected: 'webgpu' });
}

async function readProbe(page: Page): Promise<BackendProbe> {
  await page.waitForFunction(() => window.__backend !== undefined, null, { timeout: 100_000, polling: 100 });
  return (await page.evaluate(() => window.__backend)) as BackendProbe;
}

function probeTests(e2e: E2E, cases: typeof CASES): void {
  it.each(cases)('$where: $requested -> $expected', async ({ where, requested, expected }) => {
    const { page, consoleErrors } = await e2e.openPage(`/tests/browser/backend.html?backend=${requested}&where=${where}`, {
      sharedContext: true,
    });
    const result = await readProbe(page);
    await page.close();
    expect(result.error).toBeUndefined();
    expect(result.where).toBe(where);
    expect(result.backend).toBe(expected);
    expect(result.active).toBe(expected);
    expect(result.dot).toBe(32);
    if (expected === 'webgpu') expect(result.adapterInfo).toBeTruthy();
    expect(result.crossOriginIsolated).toBe(true);
    if (expected === 'wasm') expect(result.wasmThreads).toBe(autoWasmThreads(result.hardwareConcurrency));
    expect(consoleErrors).toEqual([]);
  });
}

describe.skipIf(!browserAvailable())('initBackend in headless Chromium', () => {
  describe('dev server', () => {
    const e2e = useE2E();
    probeTests(e2e, CASES);

    it('without WebGPU: auto and non-strict webgpu fall back to webgl, strict webgpu throws', async () => {
      const browser = await launchBrowser({ webgpu: false });
      try {
        const context = await browser.newContext();
        const open = async (query: string) => {
          const page = await context.newPage();
          const errors = collectConsoleErrors(page);
          await page.goto(`${e2e.server.url}/tests/browser/backend.html?${query}`);
          return { result: await readProbe(page), errors };
        };
        for (const query of ['backend=auto&where=page', 'backend=webgpu&strict=0&where=page', 'backend=auto&where=worker']) {
          const { result, errors } = await open(query);
          expect(result.error, query).toBeUndefined();
          expect(result.backend, query).toBe('webgl');
          expect(result.dot, query).toBe(32);
          expect(errors, query).toEqual([]);
        }
        const strict = await open('backend=webgpu&where=page');
        expect(strict.result.error).toMatch(/webgpu' could not be initialised/);
      } finally {
        await browser.close();
      }
    });
  });

  // Minified, wasm binaries hashed into assets/, the worker bundled as its own ES module.
  describe('production build (vite build + vite preview)', () => {
    const e2e = useE2E({ mode: 'preview', build: true, testPages: true });
    probeTests(e2e, CASES.filter((c) => c.where === 'worker' || c.requested === 'wasm'));
  });
});
