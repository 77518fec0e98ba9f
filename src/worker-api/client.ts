/**
 * The page's handle on the worker (comlink `wrap`): the worker's implementation is src/worker/ (entry worker.ts); the
 * page imports this folder only (this file and the types of ./api.ts).
 *
 *   const engine = createEngineClient();
 *   const { info, photos } = await engine.api.start({ backend: 'auto' }, engine.listen((event) => ...));
 */
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { EngineApi, EngineEvent } from './api';

export interface EngineClient {
  api: Remote<EngineApi>;
  /** Wraps an event listener so the worker can call it. */
  listen(listener: (event: EngineEvent) => void): (event: EngineEvent) => void;
  /** Worker-level failure (the script failed to load, or crashed). */
  onCrash(listener: (message: string) => void): void;
  terminate(): void;
}

export function createEngineClient(): EngineClient {
  const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'cw-engine' });
  const api = wrap<EngineApi>(worker);
  return {
    api,
    listen: (listener) => proxy(listener),
    onCrash(listener) {
      worker.addEventListener('error', (e) => listener(e.message || 'the search worker failed to start'));
    },
    terminate() {
      api[releaseProxy]();
      worker.terminate();
    },
  };
}
