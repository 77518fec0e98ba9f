/**
 * Indexer: works through the queue, one photo at a time under the tfjs lock — decode, forward pass, OfA descriptor,
 * maps — and writes each photo's features and maps in one transaction; reports progress, pauses, resumes, recovers
 * from a lost GPU device, and runs in one tab at a time (the others wait and take over).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../../index/db';
import { encodeMaps } from '../../index/mapCodec';
import type { FeatureRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import type { CwNetwork } from '../../model/network';
import { describeImage } from '../../search/describe';
import { median } from '../../util/median';
import type { IndexProgress } from '../api';
import { bitmapRgb, decodeUpright } from '../images';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import { errorMessage, isStorageFull, type Emit, type Session, type Settings } from './context';
import type { GpuRuntime } from './gpuRuntime';
import type { Intake } from './intake';
import type { NetworkManager } from './networkManager';
import { isUnavailable, type Photos } from './photos';
import type { TabSync } from './tabSync';

/** Photos whose times make the rate and time left shown. */
const RECENT = 20;

export interface IndexerDeps {
  store: CollectionStore;
  session: Session;
  settings: Settings;
  state: CollectionState;
  network: NetworkManager;
  runtime: GpuRuntime;
  intake: Intake;
  photos: Photos;
  tabs: TabSync;
  lock: Lock;
  emit: Emit;
  /** Brings this tab up to date with what another tab indexed or removed (before taking over from it). */
  syncFromStore: () => Promise<void>;
}

export class Indexer {
  private loop: Promise<void> | null = null;
  private stopRequested = false;
  private run = { done: 0, recentMs: [] as number[], current: null as string | null, state: 'idle' as IndexProgress['state'], message: undefined as string | undefined };
  /** Per-photo indexing times of this worker, ms (forward + read-back + descriptor + write). */
  readonly indexMs: number[] = [];

  constructor(private readonly deps: IndexerDeps) {}

  /** Starts the loop when photos wait and indexing is not paused (nothing when it runs already). */
  kickIfQueued(): void {
    if (this.deps.state.queue.length && !this.deps.settings.current.paused) this.kick();
  }

  kick(): void {
    if (this.loop || this.deps.session.closed) return;
    this.stopRequested = false;
    this.run = { done: 0, recentMs: [], current: null, state: 'running', message: undefined };
    this.loop = this.withTabLock().finally(() => {
      this.loop = null;
      this.emitProgress();
      // Photos queued while the loop was finishing.
      if (!this.stopRequested && this.run.state !== 'error') this.kickIfQueued();
    });
    this.emitProgress();
  }

  private async withTabLock(): Promise<void> {
    const ran = await this.deps.tabs.withIndexerLock(() => this.indexQueue(), {
      stopped: () => this.stopRequested,
      onWait: () => {
        this.run.state = 'waiting';
        this.emitProgress();
      },
      onTakeOver: async () => {
        this.run.state = 'running';
        await this.deps.syncFromStore(); // the other tab indexed (or removed) photos meanwhile
      },
    });
    if (!ran && this.run.state === 'waiting') this.run.state = 'idle';
  }

  /** Stops the loop after the photo in the network, and waits for it. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.deps.tabs.abortWait();
    while (this.loop) await this.loop;
  }

  get running(): boolean {
    return !!this.loop;
  }

  /** Cancel: stops and pauses the queue (kept across reloads) until resumed. */
  async pause(): Promise<void> {
    await this.stop();
    this.run.state = 'paused';
  }

  /** After an error or a pause: try again (a model that failed to load is loaded again). */
  resume(): void {
    if (this.run.state === 'error') this.run.state = 'idle';
    this.deps.network.forgetFailure();
    this.kick();
  }

  /** After a failed model load was fixed. */
  retryAfterModelError(): void {
    if (!this.deps.state.queue.length || this.deps.settings.current.paused) return;
    if (this.run.state === 'error') this.run.state = 'idle';
    this.kick();
  }

  /** The collection was cleared: a fresh, idle run. */
  reset(): void {
    this.run = { done: 0, recentMs: [], current: null, state: 'idle', message: undefined };
  }

  markIdle(): void {
    this.run.state = 'idle';
  }

  private async indexQueue(): Promise<void> {
    const { state, session, intake, network, runtime, lock, emit } = this.deps;
    let retried: string | null = null;
    try {
      while (!this.stopRequested && state.queue.length && !session.closed) {
        // Reading files in comes first: thumbnails of a big drop appear before the network starts.
        await intake.idle();
        const net = await network.get();
        if (this.stopRequested) break;
        const id = state.queue[0];
        this.run.current = state.names.get(id) ?? null;
        this.emitProgress();
        try {
          await lock.run(() => this.indexOne(net, id));
        } catch (e) {
          // A lost GPU: start the backend again and index this photo once more (not in a loop).
          const lost = await runtime.lossReason(e);
          if (lost === null || retried === id) throw e;
          retried = id;
          await lock.run(() => runtime.recover(lost));
          network.announceLoading();
          continue;
        }
        state.dequeue([id]);
      }
      this.run.state = this.stopRequested ? 'paused' : 'idle';
      if (!state.queue.length) this.warmUpSearch();
    } catch (e) {
      this.run.state = 'error';
      this.run.message = errorMessage(e);
      if (isStorageFull(e)) emit({ type: 'storage-full', message: e.message });
      emit({ type: 'error', message: `Indexing stopped: ${this.run.message}` });
    } finally {
      this.run.current = null;
    }
  }

  /**
   * Idle time after loading or indexing: brings the resident OfA descriptors up to date and lets the backend prepare
   * them (XNNPACK packs each new block on its first query), so the next search does not wait for it. Best effort:
   * a failure here shows up, with its message, at the next search.
   */
  warmUpSearch(): void {
    const { lock, state, settings } = this.deps;
    void lock.run(() => state.index.warmUp(settings.current.nc)).catch(() => undefined);
  }

  private async indexOne(net: CwNetwork, id: string): Promise<void> {
    const { store, state, settings, network, runtime, tabs, emit, photos } = this.deps;
    if (modelKey(settings.current) !== `${net.adapter.id}@${net.longSide}`) return; // model switched meanwhile
    const t0 = performance.now();
    let rgb;
    try {
      // The stored copy, or the original read from disk (a PhotoUnavailable when it cannot be read).
      const photo = await photos.read(id);
      if (!photo) return; // removed meanwhile
      const bitmap = await decodeUpright(photo.blob, photo.size);
      rgb = bitmapRgb(bitmap);
      bitmap.close();
    } catch (e) {
      // Access to its folder must be given again: indexing stops with the message and the photo waits in the queue.
      if (isUnavailable(e) && e.reason === 'permission') throw e;
      const name = state.names.get(id) ?? id;
      await store.removeImages([id]);
      state.names.delete(id);
      emit({ type: 'photos-removed', ids: [id] });
      tabs.broadcast({ type: 'removed', ids: [id] });
      emit({ type: 'file-problems', problems: [{ name, path: '', message: errorMessage(e), kind: 'error' }] });
      return;
    }
    const r = network.forward(net, rgb);
    runtime.afterForward();
    let descriptorT: tf.Tensor1D | null = null;
    try {
      const probabilities = (await runtime.readback(r.probabilities.data())) as Float32Array;
      descriptorT = describeImage(r.X, net.head.w, probabilities, settings.current.nc);
      const [X, descriptor] = (await runtime.readback(Promise.all([r.X.data(), descriptorT.data()]))) as Float32Array[];
      const [H, W, K] = r.X.shape;
      const key = modelKey(settings.current);
      const maps = encodeMaps(X, H, W, K, settings.current.codec);
      const record: FeatureRecord = {
        id,
        modelKey: key,
        grid: r.grid,
        probabilities,
        descriptor,
        nc: settings.current.nc,
        backend: runtime.backend,
        ms: 0,
        indexedAt: Date.now(),
      };
      record.ms = performance.now() - t0;
      if (await store.putIndexed(record, { id, modelKey: key, maps })) {
        state.index.add(record, maps);
        const ms = performance.now() - t0;
        this.indexMs.push(ms);
        this.run.recentMs = [...this.run.recentMs, ms].slice(-RECENT);
        this.run.done++;
        emit({ type: 'photos-indexed', ids: [id] });
        tabs.broadcast({ type: 'indexed', ids: [id] });
      }
    } finally {
      tf.dispose([r.X, r.probabilities, ...(descriptorT ? [descriptorT] : [])]);
    }
  }

  progress(): IndexProgress {
    const { state, settings, intake } = this.deps;
    const medianMs = this.run.recentMs.length ? median(this.run.recentMs) : null;
    const remaining = state.queue.length;
    const now: IndexProgress['state'] = this.loop
      ? this.run.state === 'waiting'
        ? 'waiting'
        : 'running'
      : this.run.state === 'error'
        ? 'error'
        : settings.current?.paused && remaining
          ? 'paused'
          : 'idle';
    return {
      state: now,
      done: this.run.done,
      total: this.run.done + remaining,
      current: this.run.current,
      imagesPerSecond: medianMs ? 1000 / medianMs : null,
      medianMs,
      etaSeconds: medianMs ? (remaining * medianMs) / 1000 : null,
      reading: intake.waiting,
      message: this.run.message,
    };
  }

  emitProgress(): void {
    this.deps.emit({ type: 'progress', progress: this.progress() });
  }
}
