/**
 * /tests/browser/backend.html?backend=webgpu|webgl|wasm|cpu|auto&where=page|worker[&strict=0]
 * Calls initBackend on the page or inside a module Web Worker and publishes `window.__backend` (a BackendProbe).
 */
import { probe, type BackendProbe } from './backendProbe';

declare global {
  interface Window {
    __backend?: BackendProbe;
  }
}

const params = new URLSearchParams(location.search);
const requested = params.get('backend') ?? 'auto';
const strict = params.get('strict') !== '0';

function inWorker(): Promise<BackendProbe> {
  const worker = new Worker(new URL('./backend.worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve) => {
    worker.addEventListener('message', (event: MessageEvent<BackendProbe>) => resolve(event.data));
    worker.addEventListener('error', (event) =>
      resolve({ where: 'worker', requested, error: `worker failed to start: ${event.message || 'load error'}` }),
    );
    worker.postMessage({ requested, strict });
  });
}

void (params.get('where') === 'worker' ? inWorker() : probe('page', requested, strict)).then((result) => {
  window.__backend = result;
  const out = document.getElementById('out');
  if (out) out.textContent = JSON.stringify(result, null, 2);
});
