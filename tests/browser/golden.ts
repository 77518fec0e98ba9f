/**
 * Browser page for the e2e golden test: /tests/browser/golden.html?backend=webgpu|webgl|wasm|cpu|auto
 * Initialises that backend (strictly: no silent fallback), recomputes every value of tests/fixtures/cw-golden.json
 * with runGoldenChecks and publishes the result as `window.__golden`.
 *
 * `&cpuForward=0` turns off the webgpu backend's WEBGPU_CPU_FORWARD (on by default), which otherwise runs an op on
 * the cpu when all its inputs are small (< 1000 values) and not yet on the GPU; with it off every op is a shader.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { initBackend, webgpuAdapterInfo, type BackendPreference, type WebGpuAdapterInfo } from '../../src/model/backend';
import { runGoldenChecks, type GoldenCheck } from '../golden/goldenChecks';

export interface GoldenPageResult {
  /** Backend requested in the query string. */
  requested: string;
  /** Backend actually active when the checks ran. */
  backend: string;
  checks: GoldenCheck[];
  adapterInfo?: WebGpuAdapterInfo | null;
  /** WEBGPU_CPU_FORWARD while the checks ran (webgpu only). */
  cpuForward?: boolean;
  /** WebGPU validation/out-of-memory errors nobody caught (a shader that fails to compile shows up here only). */
  gpuErrors: string[];
  /** Wall-clock milliseconds: backend init, fixture load, the checks (first run compiles the shaders). */
  timings: { initMs: number; fixtureMs: number; checksMs: number };
  error?: string;
}

declare global {
  interface Window {
    __golden?: GoldenPageResult;
  }
}

const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu', 'auto'] as const;

async function main(): Promise<GoldenPageResult> {
  const params = new URLSearchParams(location.search);
  const requested = params.get('backend') ?? 'auto';
  const result: GoldenPageResult = { requested, backend: '', checks: [], gpuErrors: [], timings: { initMs: 0, fixtureMs: 0, checksMs: 0 } };
  try {
    if (!(BACKENDS as readonly string[]).includes(requested)) throw new Error(`unknown backend '${requested}'`);
    let t = performance.now();
    result.backend = await initBackend(requested as BackendPreference, { strict: true });
    if (result.backend === 'webgpu') {
      if (params.get('cpuForward') === '0') tf.env().set('WEBGPU_CPU_FORWARD', false);
      result.cpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
      result.adapterInfo = await webgpuAdapterInfo();
      // Chromium only logs these as console warnings; the op's output is then whatever its buffer held.
      (tf.backend() as WebGPUBackend).device.addEventListener('uncapturederror', (event) => {
        result.gpuErrors.push((event as GPUUncapturedErrorEvent).error.message);
      });
    }
    result.timings.initMs = performance.now() - t;

    t = performance.now();
    // Loaded once the backend is up, and timed on its own.
    const fixture = (await import('../fixtures/cw-golden.json')).default;
    result.timings.fixtureMs = performance.now() - t;

    t = performance.now();
    result.checks = await runGoldenChecks(fixture);
    result.timings.checksMs = performance.now() - t;
    if (result.backend === 'webgpu') {
      // Let late uncaptured-error events arrive before publishing.
      await (tf.backend() as WebGPUBackend).device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 100));
    }
    result.backend = tf.getBackend();
  } catch (err) {
    result.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  }
  return result;
}

void main().then((result) => {
  window.__golden = result;
  const out = document.getElementById('out');
  if (out) out.textContent = JSON.stringify(result, null, 2);
});
