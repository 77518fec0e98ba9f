/**
 * The module Web Worker: indexing and search run here, off the page's main thread. Everything it does is in
 * ./engine.ts (a facade over the services of ./compose.ts), reached through ./boundary.ts (arguments checked, calls
 * held until start-up is done); the page talks to it through src/worker-api/client.ts (comlink).
 */
import { expose } from 'comlink';
import { DEBUG_PORT } from '../worker-api/debugApi';
import { guardApis } from './boundary';
import { Engine } from './engine';

const engine = new Engine();
const { api, debug } = guardApis(engine, engine.debug);
expose(api);
// The debug tools only for a page opened with ?debug=1: its client hands over a port for them (comlink ignores this message).
self.addEventListener('message', (e: MessageEvent<unknown>) => {
  const data = e.data as { type?: unknown; port?: unknown } | null;
  if (data?.type === DEBUG_PORT && data.port instanceof MessagePort) expose(debug, data.port);
});
