/**
 * The CW core in a real browser: tests/browser/golden.html recomputes every value of tests/fixtures/cw-golden.json
 * on the webgpu backend (SwiftShader here: software WebGPU, slow, 1-11 s per new shader) and on wasm, and every
 * value must match within 1e-4, exactly as tests/unit/golden.test.ts demands of the cpu backend in Node.
 * Once on the dev server, once on a production build (minified, wasm binaries hashed into assets/).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import golden from '../fixtures/cw-golden.json';
import { runGoldenChecks } from '../golden/goldenChecks';
import type { GoldenPageResult } from '../browser/golden';
import { browserAvailable, saveScreenshot, useE2E, type E2E } from './harness';

const TOLERANCE = 1e-4;

interface Variant {
  label: string;
  query: string;
  backend: string;
}
const WEBGPU: Variant = { label: 'webgpu', query: 'backend=webgpu', backend: 'webgpu' };
// WEBGPU_CPU_FORWARD off: no op is handed to the cpu for being small, so every op of the CW core is a shader.
const WEBGPU_ALL_OPS: Variant = { label: 'webgpu, every op on the GPU', query: 'backend=webgpu&cpuForward=0', backend: 'webgpu' };
const WASM: Variant = { label: 'wasm', query: 'backend=wasm', backend: 'wasm' };

/** The checks the Node test runs (the same runGoldenChecks on the cpu backend): the page must report all of them. */
let expectedNames: string[];
beforeAll(async () => {
  await tf.setBackend('cpu');
  expectedNames = (await runGoldenChecks(golden)).map((c) => c.name);
});

function goldenTests(e2e: E2E, server: string, variants: Variant[]): void {
  for (const variant of variants) {
    it(`${variant.label}: backend is really ${variant.backend}, and every golden check is within ${TOLERANCE}`, async () => {
      const started = Date.now();
      const { page, consoleErrors } = await e2e.openPage(`/tests/browser/golden.html?${variant.query}`);
      await page.waitForFunction(() => window.__golden !== undefined, null, { timeout: 280_000, polling: 250 });
      const result = (await page.evaluate(() => window.__golden)) as GoldenPageResult;
      const wallMs = Date.now() - started;
      await saveScreenshot(page, `golden-${server}-${variant.query}`);

      const t = result.timings;
      console.log(
        `[golden ${server} ${variant.query}] backend=${result.backend} page wall ${wallMs} ms ` +
          `(init ${t.initMs.toFixed(0)}, fixture ${t.fixtureMs.toFixed(0)}, checks ${t.checksMs.toFixed(0)} ms)` +
          (result.adapterInfo ? ` adapter ${JSON.stringify(result.adapterInfo)}` : ''),
      );

      expect(
        result.error,
        variant.backend === 'webgpu'
          ? 'the page threw (note: on webgpu, dataSync()/arraySync() go through a canvas and read zeros on ' +
              'SwiftShader; code under test must read with `await data()`/`array()`)'
          : 'the page threw',
      ).toBeUndefined();
      expect(result.backend).toBe(variant.backend);
      if (variant.backend === 'webgpu') {
        // Whatever adapter this machine has (SwiftShader, a fallback adapter, on GPU-less machines) is accepted.
        expect(result.adapterInfo, 'navigator.gpu gave no adapter').toBeTruthy();
        expect.soft(result.gpuErrors, 'WebGPU validation errors (a shader failed: its output is garbage)').toEqual([]);
      }
      expect.soft(consoleErrors, 'console errors on the page').toEqual([]);

      // Every check the Node test knows, none missing, none extra, each within tolerance.
      expect.soft(result.checks.map((c) => c.name).sort()).toEqual([...expectedNames].sort());
      const outOfTolerance = result.checks
        .filter((c) => !(c.maxAbsError <= TOLERANCE))
        .map((c) => `${c.name}: max |error| ${c.maxAbsError} over ${c.count} values`);
      expect(outOfTolerance, `golden checks over ${TOLERANCE} on ${variant.backend}`).toEqual([]);
    }, 300_000);
  }
}

describe.skipIf(!browserAvailable())('CW golden checks in headless Chromium', () => {
  describe('dev server', () => {
    const e2e = useE2E();
    goldenTests(e2e, 'dev', [WEBGPU, WEBGPU_ALL_OPS, WASM]);
  });
  describe('production build (vite build + vite preview)', () => {
    const e2e = useE2E({ mode: 'preview', build: true, testPages: true });
    goldenTests(e2e, 'build', [WEBGPU, WASM]);
  });
});
