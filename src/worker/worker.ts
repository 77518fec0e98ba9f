/**
 * The module Web Worker: indexing and search run here, off the page's main thread. Everything it does is in
 * ./engine.ts, reached through ./boundary.ts (arguments checked, calls held until start-up is done); the page talks
 * to it through src/worker-api/client.ts (comlink).
 */
import { expose } from 'comlink';
import { guardApi } from './boundary';
import { Engine } from './engine';

expose(guardApi(new Engine()));
