/**
 * Collection lifecycle: what changes the whole collection in this tab. Opening it at start-up (the model and input
 * size asked for reconciled with the stored ones), a model switch (made here, or followed from another tab: the
 * same steps), the storage mode, pause and resume of indexing, removing the photos not indexed yet, clearing; and
 * packing newly indexed rows into descriptor blocks when there is a block's worth.
 */
import { BLOCK_ROWS } from '../../index/blocks';
import type { CollectionStore } from '../../index/db';
import { DEFAULT_LONG_SIDE, DEFAULT_STORAGE, INDEX_NC, MAP_CODEC, STORAGE_MODES, modelKey, type IndexSettings } from '../../index/settings';
import { DEFAULT_MODEL } from '../../model/adapters';
import type { CustomModelOptions, CustomModelResult, CustomModelSource, EngineInfo, EngineStats, IndexProgress, PhotoItem, StartOptions, StorageMode } from '../../worker-api/api';
import { isStorageFull } from '../errors';
import type { Emit } from '../events';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { GpuRuntime } from './gpuRuntime';
import type { Indexer } from './indexer';
import type { Intake } from './intake';
import type { ModelRegistry } from './modelRegistry';
import type { NetworkManager } from './networkManager';
import type { Photos } from './photos';
import type { QuerySession } from './querySession';
import type { Session, Settings } from './session';
import type { TabSync } from './tabSync';

export interface LifecycleDeps {
  store: CollectionStore;
  session: Session;
  settings: Settings;
  registry: ModelRegistry;
  state: CollectionState;
  tabs: TabSync;
  network: NetworkManager;
  intake: Intake;
  indexer: Indexer;
  query: QuerySession;
  photos: Photos;
  lock: Lock;
  emit: Emit;
  runtime: Pick<GpuRuntime, 'note'>;
  info: () => EngineInfo;
}

const validLongSide = (v: number | undefined): number | undefined => (v !== undefined && Number.isInteger(v) && v >= 64 && v <= 2048 ? v : undefined);

export class CollectionLifecycle {
  /** Start-up of this worker (EngineStats.startup), once open. */
  startup: EngineStats['startup'] = null;
  private packing: Promise<void> | null = null;

  constructor(private readonly deps: LifecycleDeps) {}

  /**
   * Opens the collection in this tab (the backend and the store are open already; `t0`: when start-up began): the
   * settings, repairs, the photo list, an interrupted import, then the network and the queue in the background.
   */
  async open(options: StartOptions, t0: number): Promise<{ info: EngineInfo; photos: PhotoItem[]; progress: IndexProgress }> {
    const { settings, registry, state, tabs, network, intake, indexer, emit, info } = this.deps;
    state.thumbsOnDemand = options.thumbnails === 'on-demand';
    tabs.start();
    await registry.load();
    settings.current = await this.settingsAtStart(options);
    await state.repair();
    await this.deps.photos.load();
    const tl = performance.now();
    const photos = await state.load();
    const loadMs = performance.now() - tl;
    await intake.reportInterrupted();
    const { note } = this.deps.runtime; // the backend asked for could not start
    if (note) emit({ type: 'notice', level: 'warning', message: note });
    network.loadInBackground();
    const unpacked = state.index.unpackedCount;
    if (state.queue.length && !settings.current.paused) indexer.kick();
    else indexer.warmUpSearch();
    this.pack(true);
    this.startup = { readyMs: performance.now() - t0, loadMs, snapshotMs: state.lastLoad.snapshotMs, blocks: Math.ceil((state.index.size - unpacked) / BLOCK_ROWS), unpacked };
    return { info: info(), photos, progress: indexer.progress() };
  }

  /**
   * The settings to open with: the model and input size asked for, else the stored ones, else the defaults. A model
   * or size other than the stored one re-queues every photo (descriptors of two are never mixed) and tells the other
   * tabs; with the disk full the collection still opens, with its stored model (the write is skipped, and said).
   */
  private async settingsAtStart(options: StartOptions): Promise<IndexSettings> {
    const { store, registry, tabs } = this.deps;
    const stored = await store.settings();
    const wanted: IndexSettings = {
      modelId: registry.valid(options.model) ?? (stored && registry.valid(stored.modelId)) ?? DEFAULT_MODEL,
      longSide: validLongSide(options.longSide) ?? stored?.longSide ?? DEFAULT_LONG_SIDE,
      nc: stored?.nc ?? INDEX_NC,
      codec: MAP_CODEC,
      paused: stored?.paused ?? false,
      storage: stored?.storage ?? DEFAULT_STORAGE,
    };
    if (stored && modelKey(stored) !== modelKey(wanted)) {
      if (await this.fits(() => store.reindexAll(wanted))) tabs.broadcast({ type: 'settings' });
      else Object.assign(wanted, { modelId: stored.modelId, longSide: stored.longSide });
    } else if (!stored || JSON.stringify(stored) !== JSON.stringify(wanted)) {
      await this.fits(() => store.saveSettings(wanted));
    }
    return wanted;
  }

  /** Runs a write; when the disk is full, tells the page and returns false instead of throwing. */
  private async fits(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!isStorageFull(e)) throw e;
      this.deps.emit({ type: 'storage-full', message: e.message });
      return false;
    }
  }

  /** Photos were indexed here: once a block's worth waits as records, it is packed (idle, off the tfjs lock). */
  onIndexed(): void {
    if (this.deps.indexer.running && this.deps.state.index.unpackedCount >= BLOCK_ROWS) this.pack();
  }

  /** Packs unpacked rows into descriptor blocks in the background (one run at a time; failures only logged). */
  private pack(all = false): void {
    this.packing ??= this.deps.state
      .pack(all)
      .catch((e: unknown) => console.warn('[collection] packing descriptor blocks failed:', e))
      .finally(() => (this.packing = null));
  }

  // ---- model and settings

  /** Switches to another model: the collection is indexed again with it, and the other tabs follow. */
  async switchModel(model: string): Promise<void> {
    const { registry, settings } = this.deps;
    const id = registry.valid(model);
    if (!id) throw new Error(`unknown model "${model}"; choose one of: ${registry.ids().join(', ')}`);
    if (id === settings.current.modelId) return;
    await this.moveTo({ ...settings.current, modelId: id, paused: false }, 'here');
  }

  /** Another tab switched the model or input size (these stored settings): this tab follows. */
  followModel(stored: IndexSettings): Promise<void> {
    return this.moveTo(stored, 'another tab');
  }

  /**
   * The steps of a model switch: indexing stops; under the tfjs lock the settings change (a switch made here
   * re-queues every photo) and the old network and query go; the collection is reloaded and the page gets the new
   * list; the new network loads and indexing goes on. The other tabs are told of a switch made here; a switch
   * followed from another tab gives the page the engine's new description.
   */
  private async moveTo(next: IndexSettings, madeIn: 'here' | 'another tab'): Promise<void> {
    const { store, settings, state, tabs, network, indexer, query, lock, emit, info } = this.deps;
    await indexer.stop();
    await lock.run(async () => {
      settings.current = next;
      if (madeIn === 'here') await store.reindexAll(next);
      network.dispose();
      query.dispose();
    });
    const photos = await lock.run(() => state.load());
    emit({ type: 'photos-reset', photos });
    if (madeIn === 'here') tabs.broadcast({ type: 'settings' });
    else emit({ type: 'info', info: info() });
    network.loadInBackground();
    if (madeIn === 'here') indexer.kick();
    else indexer.kickIfQueued();
    indexer.emitProgress();
  }

  /** Validates a model and keeps it (the other tabs list it too); switching to it is switchModel's. */
  async addCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<CustomModelResult> {
    const result = await this.deps.registry.add(source, options, this.deps.lock);
    this.deps.tabs.broadcast({ type: 'settings' });
    return result;
  }

  /** Loads the current model again after it failed (a missing or broken file fixed meanwhile). */
  async retryModel(): Promise<void> {
    const { session, network, indexer } = this.deps;
    session.assertOpen();
    if (network.isReady) return;
    network.forgetFailure();
    network.loadInBackground();
    indexer.retryAfterModelError();
  }

  async setStorageMode(mode: StorageMode): Promise<void> {
    if (!STORAGE_MODES.includes(mode)) throw new Error(`unknown storage mode "${String(mode)}"; choose one of: ${STORAGE_MODES.join(', ')}`);
    await this.saveAndTell({ storage: mode });
  }

  /** Saves a change of the settings and tells the other tabs (they follow: TabFollower). */
  private async saveAndTell(patch: Partial<IndexSettings>): Promise<void> {
    this.deps.session.assertOpen();
    await this.deps.settings.save(patch);
    this.deps.tabs.broadcast({ type: 'settings' });
  }

  // ---- indexing

  /** Cancel: the files not read in yet are dropped, indexing stops and stays paused (across reloads) until resumed. */
  async pause(): Promise<void> {
    const { intake, indexer, settings, tabs } = this.deps;
    intake.drop();
    await indexer.pause();
    await settings.save({ paused: true });
    tabs.broadcast({ type: 'settings' });
    indexer.emitProgress();
  }

  async resume(): Promise<void> {
    await this.saveAndTell({ paused: false });
    this.deps.indexer.resume();
  }

  /** The page was given access to linked folders again: photos waiting for it are indexed. */
  foldersGranted(): void {
    this.deps.session.assertOpen();
    this.deps.indexer.kickIfQueued();
  }

  /** Removes the photos that are not indexed yet (after a cancel). */
  async removeUnindexed(): Promise<void> {
    const { store, settings, state, tabs, indexer, emit } = this.deps;
    await indexer.stop();
    const ids = [...state.queue];
    await store.removeImages(ids);
    state.forget(ids);
    await settings.save({ paused: false });
    indexer.markIdle();
    emit({ type: 'photos-removed', ids });
    tabs.broadcast({ type: 'removed', ids });
    indexer.emitProgress();
  }

  async clear(): Promise<void> {
    const { store, settings, state, tabs, intake, indexer, query, photos, lock, emit } = this.deps;
    intake.newGeneration();
    await indexer.stop();
    await lock.run(async () => {
      await store.clear();
      state.clear();
      photos.clear();
      if (query.isCollectionPhoto) query.dispose();
    });
    await settings.save({ paused: false });
    indexer.reset();
    emit({ type: 'photos-reset', photos: [] });
    tabs.broadcast({ type: 'reset' });
    indexer.emitProgress();
  }
}
