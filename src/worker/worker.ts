/**
 * The module Web Worker: indexing and search run here, off the page's main thread. Everything it does is in
 * ./engine.ts; the page talks to it through ./client.ts (comlink).
 */
import { expose } from 'comlink';
import { Engine } from './engine';

expose(new Engine());
