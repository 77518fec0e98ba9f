/**
 * The debug tools (DebugApi, src/worker-api/debugApi.ts): counters, the stores' consistency check, a photo as the
 * search holds it, and the test and benchmark hooks. Exposed by ../worker.ts on their own port, only to a page
 * opened with ?debug=1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { modelKey } from '../../index/settings';
import type { EngineInfo } from '../../worker-api/api';
import type { DebugApi, EngineStats, ForwardTiming, IntegrityReport, PhotoDebug } from '../../worker-api/debugApi';
import type { Services } from '../compose';
import { forwardPassTiming } from './forwardPassTiming';

export class DebugTools implements DebugApi {
  /** `services`: the engine's, once it has started (the boundary holds every call until then). */
  constructor(private readonly services: () => Services) {}

  async stats(): Promise<EngineStats> {
    const { store, network, state, indexer, lifecycle } = this.services();
    const counts = await store.counts();
    return {
      forwardPasses: network.forwardPasses,
      indexedPhotos: state.index.size,
      photos: counts.images,
      queued: counts.queued,
      indexMs: [...indexer.indexMs],
      tensorBytes: tf.memory().numBytes,
      startup: lifecycle.startup,
    };
  }

  async checkIntegrity(): Promise<IntegrityReport> {
    const { counts, problems } = await this.services().store.integrity();
    return { images: counts.images, blobs: counts.blobs, queued: counts.queue, features: counts.features, maps: counts.maps, pending: counts.pending, problems };
  }

  async photo(id: string): Promise<PhotoDebug | null> {
    const { store, state } = this.services();
    const row = state.index.record(id);
    const [r] = row ? await store.getFeatures([id]) : [];
    if (!row || !r) return null;
    // The descriptor the search uses (its row), and the record's probabilities.
    return { id, modelKey: r.modelKey, backend: r.backend, nc: row.nc, grid: row.grid, descriptor: row.descriptor.slice(), probabilities: r.probabilities };
  }

  async loseGpuDevice(when: 'now' | 'next-photo'): Promise<boolean> {
    return this.services().runtime.debugLoseDevice(when);
  }

  async failForward(count = 1): Promise<string> {
    const { runtime } = this.services();
    runtime.debugFailForward(count);
    return runtime.backend;
  }

  async measureBackends(options: { includeSoftware: boolean; fresh?: boolean }): Promise<EngineInfo> {
    const { runtime, lock, settings, network, info } = this.services();
    if (runtime.requested !== 'auto') throw new Error('the backend is forced by the address (?backend=): nothing to measure');
    await lock.run(() => runtime.rechoose(options.includeSoftware, options.fresh ?? false, modelKey(settings.current)));
    network.announceLoading();
    await network.get();
    return info();
  }

  forwardTiming(ids: string[], options: { fullSize: boolean }): Promise<ForwardTiming> {
    return forwardPassTiming(this.services(), ids, options.fullSize);
  }
}
