/** What backend.html reports: initBackend's answer and a tiny computation on it, on the page or in a worker. */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, webgpuAdapterInfo, type BackendPreference, type WebGpuAdapterInfo } from '../../src/model/backend';
import { crossOriginIsolatedHere, wasmThreadCount } from '../../src/model/wasmThreads';

export interface BackendProbe {
  where: 'page' | 'worker';
  requested: string;
  /** What initBackend returned. */
  backend?: string;
  /** tf.getBackend() afterwards. */
  active?: string;
  /** [1, 2, 3] . [4, 5, 6] computed on that backend: 32. */
  dot?: number;
  adapterInfo?: WebGpuAdapterInfo | null;
  /** Where it ran: cross-origin isolated (SharedArrayBuffer, the threaded wasm build possible)? */
  crossOriginIsolated?: boolean;
  /** On wasm: the threads XNNPACK runs on (1 = the single-threaded build). */
  wasmThreads?: number | null;
  hardwareConcurrency?: number;
  error?: string;
}

export async function probe(where: BackendProbe['where'], requested: string, strict: boolean): Promise<BackendProbe> {
  const out: BackendProbe = { where, requested, crossOriginIsolated: crossOriginIsolatedHere(), hardwareConcurrency: navigator.hardwareConcurrency };
  try {
    out.backend = await initBackend(requested as BackendPreference, { strict });
    out.active = tf.getBackend();
    const d = tf.dot(tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6]));
    out.dot = (await d.data())[0];
    d.dispose();
    if (out.active === 'webgpu') out.adapterInfo = await webgpuAdapterInfo();
    if (out.active === 'wasm') out.wasmThreads = wasmThreadCount();
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  }
  return out;
}
