/**
 * The worker's engine: a thin facade implementing EngineApi (src/worker-api/api.ts) over the services in ./services/, each with
 * one job. Exposed to the page through comlink (./worker.ts).
 *
 * Order of work inside the worker: reading dropped files in (hash, dedupe, thumbnail) goes before the network, so
 * thumbnails appear at once; indexing then takes one queued photo at a time; searches and heatmaps take the tfjs
 * lock between two photos, so a search waits for at most one forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { openCollection, type CollectionStore } from '../index/db';
import { SCHEMA_VERSION } from '../index/schema';
import { BLOCK_ROWS } from '../index/blocks';
import { COPY_SIDE, DEFAULT_LONG_SIDE, DEFAULT_STORAGE, INDEX_NC, MAP_CODEC, STORAGE_BUDGET_BYTES, STORAGE_MODES, modelKey, type IndexSettings } from '../index/settings';
import { DEFAULT_MODEL } from '../model/adapters';
import { APP_DEFAULT_CONTROLS } from '../search/defaults';
import type {
  CustomModelOptions,
  CustomModelResult,
  CustomModelSource,
  EngineApi,
  EngineEvent,
  EngineInfo,
  EngineStats,
  GroupingProgress,
  HeatmapTarget,
  PhotoFacts,
  SearchScope,
  ImportFile,
  IntegrityReport,
  PhotoDebug,
  QuerySource,
  SearchRequest,
  StartOptions,
  StorageMode,
  StorageReport,
} from '../worker-api/api';
import { Lock } from './lock';
import { CollectionState } from './services/collectionState';
import { Session, Settings, isStorageFull, type Emit } from './services/context';
import { forwardBench } from './services/forwardBench';
import { GpuRuntime } from './services/gpuRuntime';
import { ClassStats } from './services/classStats';
import { CollectionGraph } from './services/collectionGraph';
import { Deletion } from './services/deletion';
import { Indexer } from './services/indexer';
import { IndexTransfer } from './services/indexTransfer';
import { Intake } from './services/intake';
import { ModelRegistry } from './services/modelRegistry';
import { NetworkManager } from './services/networkManager';
import { Photos } from './services/photos';
import { storageReport } from './services/storageReport';
import { QuerySession } from './services/querySession';
import { ThumbnailUrls } from './services/thumbnailUrls';
import { TabFollower } from './services/tabFollower';
import { TabSync } from './services/tabSync';


const validLongSide = (v: number | undefined): number | undefined => (v !== undefined && Number.isInteger(v) && v >= 64 && v <= 2048 ? v : undefined);

export class Engine implements EngineApi {
  private emit: Emit = () => undefined;
  private readonly session = new Session();
  private readonly lock = new Lock();
  private readonly runtime = new GpuRuntime((e) => this.emit(e));
  private readonly thumbUrls = new ThumbnailUrls(() => this.store);
  private store!: CollectionStore;
  private settings!: Settings;
  private registry!: ModelRegistry;
  private state!: CollectionState;
  private tabs!: TabSync;
  private network!: NetworkManager;
  private intake!: Intake;
  private indexer!: Indexer;
  private query!: QuerySession;
  private transfer!: IndexTransfer;
  private follower!: TabFollower;
  private photos!: Photos;
  private deletion!: Deletion;
  private graph!: CollectionGraph;
  private classes!: ClassStats;
  private startup: EngineStats['startup'] = null;
  private packing: Promise<void> | null = null;

  async start(options: StartOptions, onEvent: (event: EngineEvent) => void) {
    const t0 = performance.now();
    this.emit = (event) => {
      onEvent(event);
      // Photos indexed here pile up as records until a block's worth can be packed (idle, off the tfjs lock).
      if (event.type === 'photos-indexed' && this.indexer?.running && this.state.index.unpackedCount >= BLOCK_ROWS) this.pack();
    };
    await this.runtime.start(options.backend, options.threads ?? null);
    this.store = await openCollection({
      onVersionChange: () => this.shutDown('This collection was upgraded by a newer version of the app in another tab: reload this page to go on.'),
      onBlocked: () =>
        this.emit({ type: 'notice', level: 'warning', message: 'The collection is being upgraded to a new version of the app: close the other tabs of this app (they use the old version) to finish.' }),
      onTerminated: () => this.shutDown("The browser closed this collection's storage (site data cleared, or a disk error): reload this page."),
    });
    this.wire();
    this.state.thumbsOnDemand = options.thumbnails === 'on-demand';
    this.tabs.start();
    await this.registry.load();

    const stored = await this.store.settings();
    const wanted: IndexSettings = {
      modelId: this.registry.valid(options.model) ?? (stored && this.registry.valid(stored.modelId)) ?? DEFAULT_MODEL,
      longSide: validLongSide(options.longSide) ?? stored?.longSide ?? DEFAULT_LONG_SIDE,
      nc: stored?.nc ?? INDEX_NC,
      codec: MAP_CODEC,
      paused: stored?.paused ?? false,
      storage: stored?.storage ?? DEFAULT_STORAGE,
    };
    // With the disk full the collection must still open: writes here that do not fit are skipped (and said).
    if (stored && modelKey(stored) !== modelKey(wanted)) {
      // Never mix descriptors of two models (or scales): everything is indexed again with the new one.
      if (await this.fits(() => this.store.reindexAll(wanted))) this.tabs.broadcast({ type: 'settings' });
      else Object.assign(wanted, { modelId: stored.modelId, longSide: stored.longSide });
    } else if (!stored || JSON.stringify(stored) !== JSON.stringify(wanted)) {
      await this.fits(() => this.store.saveSettings(wanted));
    }
    this.settings.current = wanted;

    await this.state.repair();
    await this.photos.load();
    const tl = performance.now();
    const photos = await this.state.load();
    const loadMs = performance.now() - tl;
    await this.intake.reportInterrupted();
    if (this.runtime.note) this.emit({ type: 'notice', level: 'warning', message: this.runtime.note });
    this.network.loadInBackground();
    const unpacked = this.state.index.unpackedCount;
    if (this.state.queue.length && !this.settings.current.paused) this.indexer.kick();
    else this.indexer.warmUpSearch();
    this.pack(true);
    this.startup = { readyMs: performance.now() - t0, loadMs, snapshotMs: this.state.lastLoad.snapshotMs, blocks: Math.ceil((this.state.index.size - unpacked) / BLOCK_ROWS), unpacked };
    return { info: this.info(), photos, progress: this.indexer.progress() };
  }

  /** Packs unpacked rows into descriptor blocks in the background (one run at a time; failures only logged). */
  private pack(all = false): void {
    this.packing ??= this.state
      .pack(all)
      .catch((e: unknown) => console.warn('[collection] packing descriptor blocks failed:', e))
      .finally(() => (this.packing = null));
  }

  /** Creates the services, each with only what it needs. */
  private wire(): void {
    const { store, session, lock, runtime } = this;
    const emit: Emit = (e) => {
      this.emit(e);
      // The collection tools follow every change of the collection, whichever service (or tab) made it.
      if (e.type === 'photos-indexed' || e.type === 'photos-removed' || e.type === 'photos-reset') {
        this.graph.onCollectionChanged(e.type === 'photos-reset', e.type === 'photos-indexed');
        this.classes.onCollectionChanged(e.type === 'photos-reset');
      }
    };
    const settings = (this.settings = new Settings(() => store));
    const registry = (this.registry = new ModelRegistry(() => store));
    const state = (this.state = new CollectionState(store, settings, registry, emit));
    const tabs = (this.tabs = new TabSync(session, (changes) => this.follower.apply(changes)));
    const onProgress = () => this.indexer.emitProgress();
    const photos = (this.photos = new Photos(store));
    const intake = (this.intake = new Intake({ store, session, settings, state, photos, tabs, emit, onProgress, onQueued: () => this.indexer.kickIfQueued() }));
    const network = (this.network = new NetworkManager({ settings, registry, lock, emit, runtime, info: () => this.info(), intakeIdle: () => intake.idle() }));
    const syncFromStore = () => this.follower.syncFromStore();
    const indexer = (this.indexer = new Indexer({ store, session, settings, state, network, runtime, intake, photos, tabs, lock, emit, syncFromStore }));
    const query = (this.query = new QuerySession(store, state, network, photos, lock, (scope) => this.scopeIds(scope)));
    this.deletion = new Deletion({ store, session, settings, state, tabs, lock, emit, queryPhoto: () => query.photoId, onRestored: () => this.indexer.kickIfQueued() });
    this.graph = new CollectionGraph({ state, settings, network, lock, emit, facts: (ids) => this.photoFacts(ids) });
    this.classes = new ClassStats(state, network);
    this.transfer = new IndexTransfer({ store, session, settings, registry, state, tabs, lock, emit, onProgress });
    this.follower = new TabFollower({ store, settings, registry, state, network, indexer, query, lock, emit, info: () => this.info() });
    runtime.onRelease(() => network.release());
    runtime.onRelease(() => query.release());
    runtime.onRelease(() => state.index.releaseTensors());
  }

  /** Runs a write; when the disk is full, tells the page and returns false instead of throwing. */
  private async fits(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!isStorageFull(e)) throw e;
      this.emit({ type: 'storage-full', message: e.message });
      return false;
    }
  }

  /** The collection cannot be used in this tab any more: stop everything and tell the page. */
  private shutDown(message: string): void {
    if (this.session.closed) return;
    this.session.closed = message;
    void this.indexer?.stop();
    this.intake?.abandon();
    this.tabs?.close();
    this.emit({ type: 'fatal', message });
  }

  private info(): EngineInfo {
    const adapter = this.registry.adapter(this.settings.current.modelId);
    const { backend, requested, note, reason, timings, adapterText } = this.runtime;
    return {
      backend,
      requestedBackend: requested,
      backendNote: note,
      backendReason: reason,
      backendTimings: timings,
      adapter: adapterText,
      wasmThreads: this.runtime.wasmThreads(),
      model: { id: adapter.id, name: adapter.name, ...(this.registry.isCustom(adapter.id) ? { custom: true } : {}) },
      models: this.registry.choices(),
      longSide: this.settings.current.longSide,
      nc: this.settings.current.nc,
      codec: this.settings.current.codec,
      schemaVersion: SCHEMA_VERSION,
      defaultControls: { ...APP_DEFAULT_CONTROLS },
      storage: { mode: this.settings.current.storage ?? DEFAULT_STORAGE, copySide: COPY_SIDE, budgetPerPhoto: STORAGE_BUDGET_BYTES },
    };
  }

  // ---- storage

  async setStorageMode(mode: StorageMode): Promise<EngineInfo> {
    if (!STORAGE_MODES.includes(mode)) throw new Error(`unknown storage mode "${String(mode)}"; choose one of: ${STORAGE_MODES.join(', ')}`);
    this.session.assertOpen();
    await this.settings.save({ storage: mode });
    this.tabs.broadcast({ type: 'settings' });
    return this.info();
  }

  storageReport(): Promise<StorageReport> {
    const { store, registry, settings, state } = this;
    return storageReport({ store, adapter: registry.adapter(settings.current.modelId), index: state.index });
  }

  linkedFolders() {
    return this.photos.folders();
  }

  async foldersGranted(): Promise<void> {
    this.session.assertOpen();
    this.indexer.kickIfQueued();
  }

  // ---- models

  async setModel(model: string): Promise<EngineInfo> {
    const id = this.registry.valid(model);
    if (!id) throw new Error(`unknown model "${model}"; choose one of: ${this.registry.ids().join(', ')}`);
    if (id === this.settings.current.modelId) return this.info();
    await this.indexer.stop();
    await this.lock.run(async () => {
      this.settings.current = { ...this.settings.current, modelId: id, paused: false };
      await this.store.reindexAll(this.settings.current);
      this.network.dispose();
      this.query.dispose();
    });
    const photos = await this.state.load();
    this.emit({ type: 'photos-reset', photos });
    this.tabs.broadcast({ type: 'settings' });
    this.network.loadInBackground();
    this.indexer.kick();
    return this.info();
  }

  async retryModel(): Promise<void> {
    this.session.assertOpen();
    if (this.network.isReady) return;
    this.network.forgetFailure();
    this.network.loadInBackground();
    this.indexer.retryAfterModelError();
  }

  async addCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<CustomModelResult> {
    const result = await this.registry.add(source, options, this.lock);
    this.tabs.broadcast({ type: 'settings' });
    return result;
  }

  // ---- import and indexing

  importFiles(files: ImportFile[]): Promise<void> {
    if (this.session.closed) return Promise.reject(new Error(this.session.closed));
    return this.intake.add(files);
  }

  async cancelIndexing(): Promise<void> {
    this.intake.drop();
    await this.indexer.pause();
    await this.settings.save({ paused: true });
    this.tabs.broadcast({ type: 'settings' });
    this.indexer.emitProgress();
  }

  async resumeIndexing(): Promise<void> {
    this.session.assertOpen();
    await this.settings.save({ paused: false });
    this.tabs.broadcast({ type: 'settings' });
    this.indexer.resume();
  }

  async removeUnindexed(): Promise<void> {
    await this.indexer.stop();
    const ids = [...this.state.queue];
    await this.store.removeImages(ids);
    this.state.forget(ids);
    await this.settings.save({ paused: false });
    this.indexer.markIdle();
    this.emit({ type: 'photos-removed', ids });
    this.tabs.broadcast({ type: 'removed', ids });
    this.indexer.emitProgress();
  }

  async clearCollection(): Promise<void> {
    this.intake.newGeneration();
    await this.indexer.stop();
    await this.lock.run(async () => {
      await this.store.clear();
      this.state.clear();
      this.photos.clear();
      if (this.query.isCollectionPhoto) this.query.dispose();
    });
    await this.settings.save({ paused: false });
    this.indexer.reset();
    this.emit({ type: 'photos-reset', photos: [] });
    this.tabs.broadcast({ type: 'reset' });
    this.indexer.emitProgress();
  }

  exportIndex(options: { photos: boolean }) {
    return this.transfer.export(options);
  }

  importIndex(file: Blob) {
    return this.transfer.import(file);
  }

  // ---- photos, query and search

  async photoBlob(id: string) {
    return (await this.query.photoFile(id)).blob;
  }

  photoFile(id: string) {
    return this.query.photoFile(id);
  }

  thumbnails(ids: string[]) {
    return this.store.getThumbs(ids);
  }

  thumbnailUrls(ids: string[]) {
    return this.thumbUrls.make(ids);
  }

  async releaseThumbnailUrls(urls: string[]) {
    this.thumbUrls.release(urls);
  }

  photoClasses(id: string) {
    return this.query.photoClasses(id);
  }

  openQuery(source: QuerySource) {
    return this.query.open(source);
  }

  search(request: SearchRequest) {
    return this.query.search({ ...request, controls: request.controls ?? APP_DEFAULT_CONTROLS });
  }

  heatmaps(targets: HeatmapTarget[], classIndex: number) {
    return this.query.heatmaps(targets, classIndex);
  }

  // ---- collection tools: delete and undo, near-duplicates, groups, classes

  deletePhotos(ids: string[]) {
    return this.deletion.delete(ids);
  }

  undoDelete(undoToken: string) {
    return this.deletion.undo(undoToken);
  }

  duplicates(options?: { threshold?: number; wait?: boolean }) {
    this.session.assertOpen();
    return this.graph.duplicates(options);
  }

  groups(options?: { k?: number; minSim?: number; wait?: boolean }) {
    this.session.assertOpen();
    return this.graph.groups(options);
  }

  rebuildGroups(): Promise<GroupingProgress> {
    this.session.assertOpen();
    return this.graph.rebuild();
  }

  cancelGrouping(): Promise<void> {
    return this.graph.cancel();
  }

  classCounts(options?: { topK?: number; limit?: number }) {
    return this.classes.counts(options);
  }

  async photosWithClass(classIndex: number, options?: { topK?: number }) {
    return this.classes.photosWithClass(classIndex, options);
  }

  async photoFacts(ids: string[]): Promise<(PhotoFacts | undefined)[]> {
    const records = await this.store.getImages(ids);
    return records.map((r) =>
      r ? { id: r.id, name: r.name, path: r.path, bytes: r.originalBytes, type: r.originalType, width: r.originalWidth, height: r.originalHeight, addedAt: r.addedAt } : undefined,
    );
  }

  /** The photo ids a search scope stands for. */
  private async scopeIds(scope: SearchScope): Promise<string[]> {
    if ('ids' in scope) return scope.ids;
    if ('group' in scope) {
      const members = this.graph.groupMembers(scope.group);
      if (!members) throw new Error(`there is no group ${scope.group} (groups change as the collection does: ask for the groups again)`);
      return members;
    }
    return this.classes.photosWithClass(scope.class, { topK: scope.topK ?? 1 });
  }

  // ---- introspection (status line, tests)

  async stats(): Promise<EngineStats> {
    const counts = await this.store.counts();
    return {
      forwardPasses: this.network.forwardPasses,
      indexedPhotos: this.state.index.size,
      photos: counts.images,
      queued: counts.queued,
      indexMs: [...this.indexer.indexMs],
      tensorBytes: tf.memory().numBytes,
      startup: this.startup,
    };
  }

  async checkIntegrity(): Promise<IntegrityReport> {
    const { counts, problems } = await this.store.integrity();
    return { images: counts.images, blobs: counts.blobs, queued: counts.queue, features: counts.features, maps: counts.maps, pending: counts.pending, problems };
  }

  async debugLoseGpuDevice(when: 'now' | 'next-photo'): Promise<boolean> {
    return this.runtime.debugLoseDevice(when);
  }

  async debugFailForward(count = 1): Promise<string> {
    this.runtime.debugFailForward(count);
    return this.runtime.backend;
  }

  async debugMeasureBackends(options: { includeSoftware: boolean; fresh?: boolean }): Promise<EngineInfo> {
    if (this.runtime.requested !== 'auto') throw new Error('the backend is forced by the address (?backend=): nothing to measure');
    await this.lock.run(() => this.runtime.rechoose(options.includeSoftware, options.fresh ?? false, modelKey(this.settings.current)));
    this.network.announceLoading();
    await this.network.get();
    return this.info();
  }

  debugForwardBench(ids: string[], options: { fullSize: boolean }) {
    const { store, photos, settings, network, runtime, lock } = this;
    return forwardBench({ store, photos, settings, network, runtime, lock }, ids, options.fullSize);
  }

  async debugPhoto(id: string): Promise<PhotoDebug | null> {
    const row = this.state.index.record(id);
    const [r] = row ? await this.store.getFeatures([id]) : [];
    if (!row || !r) return null;
    // The descriptor the search uses (its row), and the record's probabilities.
    return { id, modelKey: r.modelKey, backend: r.backend, nc: row.nc, grid: row.grid, descriptor: row.descriptor.slice(), probabilities: r.probabilities };
  }
}
