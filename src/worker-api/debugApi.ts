/**
 * The worker's debug tools: introspection and test hooks, kept out of EngineApi. Reachable only from a page opened
 * with ?debug=1 (window.cwApp.debug): the page's client then hands the worker a MessagePort for them
 * (./client.ts, `DEBUG_PORT`); without it the worker exposes none of them.
 */
import type { Grid } from '../cw/boxes';
import type { EngineInfo } from './api';

/** The message that carries the debug tools' port from the page's client to the worker. */
export const DEBUG_PORT = 'cw-debug-port';

export interface EngineStats {
  /** Forward passes run since the worker started (indexing and queries). */
  forwardPasses: number;
  indexedPhotos: number;
  photos: number;
  queued: number;
  /** Per-photo indexing times of this worker, ms (forward + read-back + descriptor + write). */
  indexMs: number[];
  /** Bytes held by tfjs tensors in this worker (resident descriptors, the query, the network's weights). */
  tensorBytes?: number;
  /** Start-up of this worker: opening the collection until ready (ms), and the descriptor blocks read. */
  startup: { readyMs: number; loadMs: number; snapshotMs: number; blocks: number; unpacked: number } | null;
}

/** Record counts per store and anything that does not add up (empty when the collection is consistent). */
export interface IntegrityReport {
  images: number;
  blobs: number;
  queued: number;
  features: number;
  maps: number;
  pending: number;
  problems: string[];
}

/** What the search holds of an indexed photo (its row) and its record's class probabilities. */
export interface PhotoDebug {
  id: string;
  modelKey: string;
  backend: string;
  nc: number;
  grid: Grid;
  descriptor: Float32Array;
  probabilities: Float32Array;
}

export interface ForwardTiming {
  /** Bare forward pass + read-back per photo, ms. */
  ms: number[];
  /** OfA descriptors from full-size decoding (how the app decoded photos for the network once), per photo (when asked for). */
  fullSizeDescriptors: Float32Array[];
}

/** Every method checks its arguments (src/worker/debugArgs.ts) and waits for the engine's start, as EngineApi's do. */
export interface DebugApi {
  /** Counters of this worker (status, tests, benchmarks). */
  stats(): Promise<EngineStats>;
  /** Checks that the stores agree (tests, troubleshooting). */
  checkIntegrity(): Promise<IntegrityReport>;
  /** An indexed photo as the search holds it; null when it is not indexed. */
  photo(id: string): Promise<PhotoDebug | null>;
  /** Test hook: destroys the WebGPU device now, or right after the next photo's forward pass. */
  loseGpuDevice(when: 'now' | 'next-photo'): Promise<boolean>;
  /** Test hook: the next `count` (default 1) indexing forward passes throw; returns the backend they run on. */
  failForward(count?: number): Promise<string>;
  /**
   * Test hook ('auto' only): chooses the backend again now (remembered, or measured: software GPUs too with
   * includeSoftware; `fresh` forgets the remembered one) and loads the network on the winner; returns the engine info.
   */
  measureBackends(options: { includeSoftware: boolean; fresh?: boolean }): Promise<EngineInfo>;
  /**
   * Benchmark hook (scripts/bench-indexing.ts): bare forward passes on these collection photos (ms each, read-back
   * included, decoding not timed), and with fullSize their OfA descriptors decoded at full size.
   */
  forwardTiming(ids: string[], options: { fullSize: boolean }): Promise<ForwardTiming>;
}
