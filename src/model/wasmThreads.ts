/**
 * How many threads tfjs-backend-wasm's XNNPACK gets. The threaded SIMD build needs SharedArrayBuffer, which a
 * browser gives only to a cross-origin isolated context: the page and its worker must come with the headers
 * COOP `same-origin` and COEP `require-corp` (vite.config.ts sends them; on a static host that cannot, the service
 * worker src/service-worker/sw.template.js adds them from the second visit on). Elsewhere the single-threaded SIMD
 * build runs, as before.
 *
 * The policy, from BENCHMARKS.md "wasm threads": threads are on where the context is isolated and the machine has
 * at least 2 physical cores as tfjs counts them (autoWasmThreads); one thread, or a context that is not isolated,
 * means the single-threaded build (not the threaded one with one thread: its 8 idle workers would cost for nothing).
 * `requestWasmThreads` overrides it (the benchmark page's `?threads=`), before the wasm backend starts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/**
 * tfjs-backend-wasm 4.22 (src/cc/backend.cc) runs at most min(8, navigator.hardwareConcurrency / 2) threads, whatever
 * setThreadsCount asks: it takes half the logical cores to be the physical ones (SMT siblings add little to
 * XNNPACK's SIMD loops), and its Emscripten build starts a pool of 8 pthread workers.
 */
const MAX_WASM_THREADS = 8;

let requested: number | null = null;

/** Forces the thread count (null: the automatic choice). Call before the wasm backend starts. */
export function requestWasmThreads(threads: number | null): void {
  if (threads !== null && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new Error(`wasm threads must be a whole number from 1 to 64, not ${threads}`);
  }
  requested = threads;
}

/** True where SharedArrayBuffer (hence the threaded build) is allowed: a cross-origin isolated page or worker. */
export const crossOriginIsolatedHere = (): boolean => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

/** The automatic thread count for a machine with `cores` logical cores: tfjs' own cap (see MAX_WASM_THREADS). */
export function autoWasmThreads(cores: number | undefined = globalThis.navigator?.hardwareConcurrency): number {
  return Math.max(1, Math.min(Math.floor((cores || 1) / 2), MAX_WASM_THREADS));
}

/**
 * Sets tfjs up for the thread count chosen here: the threaded build with that many threads, or the
 * single-threaded build (when not isolated, or for one thread). Returns the count asked of tfjs.
 */
export function configureWasmThreads(): number {
  const threads = crossOriginIsolatedHere() ? (requested ?? autoWasmThreads()) : 1;
  if (threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return 1;
  }
  if (threads > autoWasmThreads()) {
    // Asked for more than tfjs' cap of hardwareConcurrency / 2 (e.g. 2 threads on 2 cores, to measure them):
    // tfjs reads the core count from navigator.hardwareConcurrency in this context when it starts, so report enough.
    Object.defineProperty(globalThis.navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  }
  setThreadsCount(threads);
  return threads;
}

/** Threads XNNPACK runs on once the wasm backend started (1 for the single-threaded build); null before that. */
export function wasmThreadCount(): number | null {
  try {
    return getThreadsCount();
  } catch {
    return null; // the wasm backend has not started
  }
}
