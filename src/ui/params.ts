/**
 * URL parameters: ?backend=wasm&model=mobilenet_v1_0.75&longSide=512 force the backend, the model and the scale;
 * &threads=2 the wasm threads.
 */
import type { BackendChoice, StartOptions } from '../worker-api/api';

const BACKENDS: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

export interface UrlOptions extends StartOptions {
  /** ?debug=1: exposes window.cwApp, with the worker's debug tools (tests, troubleshooting). */
  debug: boolean;
}

export function readUrlOptions(search: string = location.search): UrlOptions {
  const p = new URLSearchParams(search);
  const backend = p.get('backend') as BackendChoice | null;
  const longSide = p.get('longSide');
  const threads = p.get('threads');
  return {
    backend: backend && BACKENDS.includes(backend) ? backend : 'auto',
    model: p.get('model') ?? undefined,
    // The engine refuses a long side out of 64..2048 (its start would fail): an address with one is ignored.
    longSide: longSide && /^\d+$/.test(longSide) && Number(longSide) >= 64 && Number(longSide) <= 2048 ? Number(longSide) : undefined,
    threads: threads && /^\d+$/.test(threads) && Number(threads) >= 1 && Number(threads) <= 64 ? Number(threads) : undefined,
    debug: p.get('debug') === '1',
  };
}
