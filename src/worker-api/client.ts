/**
 * The page's handle on the worker (comlink `wrap`): the worker's implementation is src/worker/ (entry worker.ts); the
 * page imports this folder only (this file and the types of ./api.ts).
 *
 *   const engine = createEngineClient();
 *   const { info, photos } = await engine.api.start({ backend: 'auto' }, engine.listen((event) => ...));
 */
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { EngineApi, EngineEvent } from './api';
import { DEBUG_PORT, type DebugApi } from './debugApi';

export interface EngineClient {
  api: Remote<EngineApi>;
  /** The debug tools (./debugApi.ts), with `debug: true` only (the page's ?debug=1); else null. */
  debug: Remote<DebugApi> | null;
  /** Wraps an event listener so the worker can call it. */
  listen(listener: (event: EngineEvent) => void): (event: EngineEvent) => void;
  /** Worker-level failure (the script failed to load, or crashed). */
  onCrash(listener: (message: string) => void): void;
  terminate(): void;
}

export function createEngineClient(options: { debug?: boolean } = {}): EngineClient {
  const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'cw-engine' });
  const api = wrap<EngineApi>(worker);
  let debug: Remote<DebugApi> | null = null;
  if (options.debug) {
    // The debug tools get a channel of their own: the worker exposes them on the port it is handed, and only then.
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ type: DEBUG_PORT, port: port2 }, [port2]);
    debug = wrap<DebugApi>(port1);
  }
  return {
    api,
    debug,
    listen: (listener) => proxy(listener),
    onCrash(listener) {
      worker.addEventListener('error', (e) => listener(e.message || 'the search worker failed to start'));
    },
    terminate() {
      api[releaseProxy]();
      debug?.[releaseProxy]();
      worker.terminate();
    },
  };
}
