/**
 * Indexer: works through the queue — the next photos decoded ahead (./photoPipeline.ts), the forward pass, OfA
 * descriptor and maps of one photo at a time under the tfjs lock, each photo's features and maps written in one
 * transaction while the next photo is in the network; reports progress, pauses, resumes, moves to another backend
 * when this one fails, and runs in one tab at a time (the others wait and take over).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../../index/db';
import { encodeMaps } from '../../index/mapCodec';
import type { FeatureRecord, MapsRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import type { CwNetwork } from '../../model/network';
import { describeImage } from '../../search/cwForWorker';
import { median } from '../../util/median';
import type { IndexProgress } from '../../worker-api/api';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import { errorMessage, isStorageFull } from '../errors';
import type { Emit } from '../events';
import type { Session, Settings } from './session';
import type { GpuRuntime } from './gpuRuntime';
import type { Intake } from './intake';
import type { NetworkManager, Rgb } from './networkManager';
import { DecodeAhead, decodeForNetwork } from './photoPipeline';
import { isUnavailable, type Photos } from './photos';
import type { TabSync } from './tabSync';

/** Photos whose times make the rate and time left shown. */
const RECENT = 20;
/** Photos decoded ahead of the one in the network (each a few MB of pixels at the input size). */
const DECODE_AHEAD = 2;
/** Photos whose write may still be going on while the next one is in the network. */
const WRITES_IN_FLIGHT = 2;

/** What the network made of a photo, as the store keeps it. */
interface Computed {
  record: FeatureRecord;
  maps: MapsRecord;
}

/** The backend failed on a photo (kernel error, out of memory, device lost): another backend may index it. */
class BackendFailure extends Error {
  constructor(cause: unknown) {
    super(errorMessage(cause), { cause });
    this.name = 'BackendFailure';
  }
}

/** Writes in flight, by photo; the first failure is kept and thrown by the next wait. */
class Writes {
  private readonly pending = new Map<string, Promise<void>>();
  private failure: { error: unknown } | null = null;

  add(id: string, write: Promise<void>): void {
    const p = write.catch((error: unknown) => void (this.failure ??= { error })).finally(() => this.pending.delete(id));
    this.pending.set(id, p);
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
  }

  async oldest(): Promise<void> {
    await this.pending.values().next().value;
    this.check();
  }

  async drain(): Promise<void> {
    await this.settle();
    this.check();
  }

  /** Waits for every write, whatever happens to them. */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending.values());
  }
}

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
}

export class Indexer {
  private loop: Promise<void> | null = null;
  private stopRequested = false;
  private run = { done: 0, recentMs: [] as number[], current: null as string | null, state: 'idle' as IndexProgress['state'], message: undefined as string | undefined };
  /** Per-photo indexing times of this worker, ms: since the previous photo was done (the pipeline overlaps photos). */
  readonly indexMs: number[] = [];
  private lastDone = 0;

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
        await this.deps.state.syncFromStore(this.deps.lock); // the other tab indexed (or removed) photos meanwhile
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

  /**
   * The queue loop, a pipeline: the next photos decode while the network runs (DecodeAhead), and a photo's write goes
   * on while the next one is in the network (at most WRITES_IN_FLIGHT). A failure of the backend moves to the next
   * one (GpuRuntime.handleFailure) and indexes the photo again there.
   */
  private async indexQueue(): Promise<void> {
    const { state, session, intake, network, runtime, lock, emit } = this.deps;
    const writes = new Writes();
    let ahead: DecodeAhead | null = null;
    this.lastDone = performance.now();
    try {
      while (!this.stopRequested && !session.closed) {
        // Reading files in comes first: thumbnails of a big drop appear before the network starts.
        await intake.idle();
        const net = await network.get();
        if (this.stopRequested) break;
        const line = state.queue.filter((id) => !writes.has(id)).slice(0, 1 + DECODE_AHEAD);
        if (!line.length) {
          if (!writes.size) break;
          await writes.drain(); // photos queued meanwhile are taken on the next turn
          continue;
        }
        const id = line[0];
        ahead ??= new DecodeAhead((photo) => decodeForNetwork(this.deps.store, this.deps.photos, photo, net.longSide, net.adapter.stride));
        ahead.keep(line);
        this.run.current = state.names.get(id) ?? null;
        this.emitProgress();
        const takenAt = performance.now();
        const decoded = await ahead.take(id);
        if (!decoded) {
          state.dequeue([id]); // removed meanwhile
          continue;
        }
        if ('problem' in decoded) {
          // Access to its folder must be given again: indexing stops with the message and the photo waits in line.
          if (isUnavailable(decoded.problem) && decoded.problem.reason === 'permission') throw decoded.problem;
          await this.dropUndecodable(id, decoded.problem);
          continue;
        }
        let computed: Computed | null;
        try {
          computed = await lock.run(() => this.compute(net, id, decoded.rgb));
        } catch (e) {
          if (!(e instanceof BackendFailure)) throw e;
          await writes.drain(); // what was computed before is written before the backend changes
          if (!(await lock.run(() => runtime.handleFailure(e.cause)))) throw e.cause;
          network.announceLoading();
          ahead = null; // a new network: its input size may differ
          continue;
        }
        if (!computed) {
          state.dequeue([id]); // the model changed meanwhile: nothing to write
          continue;
        }
        writes.add(id, this.write(computed, takenAt));
        if (writes.size >= WRITES_IN_FLIGHT) await writes.oldest();
      }
      await writes.drain();
      this.run.state = this.stopRequested ? 'paused' : 'idle';
      if (!state.queue.length) this.warmUpSearch();
    } catch (e) {
      await writes.settle();
      this.run.state = 'error';
      this.run.message = errorMessage(e);
      if (isStorageFull(e)) emit({ type: 'storage-full', message: e.message });
      emit({ type: 'error', message: `Indexing stopped: ${this.run.message}` });
    } finally {
      ahead?.clear();
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

  /** A stored photo the browser cannot decode any more: removed, with its message. */
  private async dropUndecodable(id: string, problem: unknown): Promise<void> {
    const { store, state, tabs, emit } = this.deps;
    const name = state.names.get(id) ?? id;
    await store.removeImages([id]);
    state.forget([id]);
    emit({ type: 'photos-removed', ids: [id] });
    tabs.broadcast({ type: 'removed', ids: [id] });
    emit({ type: 'file-problems', problems: [{ name, path: '', message: errorMessage(problem), kind: 'error' }] });
  }

  /**
   * The network's part (under the tfjs lock): forward pass, class probabilities, OfA descriptor and maps, read back
   * as the store keeps them. Null when the model changed meanwhile. Any failure here is the backend's (BackendFailure).
   */
  private async compute(net: CwNetwork, id: string, rgb: Rgb): Promise<Computed | null> {
    const { settings, network, runtime } = this.deps;
    if (modelKey(settings.current) !== `${net.adapter.id}@${net.longSide}`) return null;
    const key = modelKey(settings.current);
    const nc = settings.current.nc;
    try {
      const r = network.forward(net, rgb);
      let descriptorT: tf.Tensor1D | null = null;
      try {
        runtime.afterForward();
        const probabilities = (await runtime.readback(r.probabilities.data())) as Float32Array;
        descriptorT = describeImage(r.X, net.head.w, probabilities, nc);
        const [X, descriptor] = (await runtime.readback(Promise.all([r.X.data(), descriptorT.data()]))) as Float32Array[];
        const [H, W, K] = r.X.shape;
        const record: FeatureRecord = { id, modelKey: key, grid: r.grid, probabilities, descriptor, nc, backend: runtime.backend, ms: 0, indexedAt: Date.now() };
        return { record, maps: { id, modelKey: key, maps: encodeMaps(X, H, W, K, settings.current.codec) } };
      } finally {
        tf.dispose([r.X, r.probabilities, ...(descriptorT ? [descriptorT] : [])]);
      }
    } catch (e) {
      throw new BackendFailure(e);
    }
  }

  /** Stores a photo's features and maps (one transaction: all or nothing), then counts it as indexed. */
  private async write({ record, maps }: Computed, takenAt: number): Promise<void> {
    const { store, state, tabs, emit } = this.deps;
    record.ms = performance.now() - takenAt;
    const stored = await store.putIndexed(record, maps);
    state.dequeue([record.id]);
    if (!stored) return; // removed meanwhile
    state.index.add(record, maps.maps);
    // Time per photo as the queue sees it: since the previous photo was done, or since this one was taken.
    const now = performance.now();
    const ms = now - Math.max(this.lastDone, takenAt);
    this.lastDone = now;
    this.indexMs.push(ms);
    this.run.recentMs = [...this.run.recentMs, ms].slice(-RECENT);
    this.run.done++;
    emit({ type: 'photos-indexed', ids: [record.id] });
    tabs.broadcast({ type: 'indexed', ids: [record.id] });
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
