/**
 * The worker's engine: owns the tfjs backend, the network, the IndexedDB collection, the import/indexing queue
 * and the current query. Exposed to the page through comlink (./worker.ts); see ./api.ts for the contract.
 *
 * Order of work inside the worker: reading dropped files in (hash, dedupe, thumbnail) goes before the network, so
 * thumbnails appear at once; indexing then takes one queued photo at a time; searches and heatmaps take the tfjs
 * lock between two photos, so a search waits for at most one forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cellsToPixelBox, pixelBoxToCells, type Grid } from '../cw/boxes';
import { classActivationMaps } from '../cw/cam';
import { cwDescriptor } from '../cw/descriptor';
import { openCollection, type CollectionStore } from '../index/db';
import { sha256Hex } from '../index/hash';
import { decodeMaps, encodeMaps } from '../index/mapCodec';
import { SCHEMA_VERSION, type CustomModelRecord, type FeatureRecord, type ImageRecord, type PendingRecord } from '../index/schema';
import { DEFAULT_LONG_SIDE, INDEX_NC, MAP_CODEC, modelKey, type IndexSettings } from '../index/settings';
import { DEFAULT_MODEL, MODELS, type ModelAdapter, type ModelId } from '../model/adapters';
import type { ReadModelFile } from '../model/artifacts';
import { destroyGpuDevice, initBackend, restartBackend, watchGpuDevice, webgpuAdapterInfo, type BackendName, type InitBackendOptions } from '../model/backend';
import { inspectCustomModel } from '../model/customModel';
import { loadNetwork, type CwNetwork } from '../model/network';
import { search, topIndices } from '../search/search';
import { DEFAULT_SEARCH, type SearchParams } from '../search/types';
import type {
  ClassScore,
  CustomModelOptions,
  CustomModelResult,
  CustomModelSource,
  EngineApi,
  EngineEvent,
  EngineInfo,
  EngineStats,
  FileProblem,
  GridInfo,
  Heatmap,
  HeatmapTarget,
  ImportFile,
  IndexExport,
  IndexImportReport,
  IndexProgress,
  IntegrityReport,
  PhotoDebug,
  PhotoItem,
  PixelRect,
  QueryImage,
  QuerySource,
  SearchControls,
  SearchRequest,
  SearchResponse,
  StartOptions,
} from './api';
import { CollectionIndex } from './collectionIndex';
import { ImportProblem, bitmapRgb, decodeUpright, preparePhoto } from './images';
import { sniffImage } from './imageSniff';
import { buildExport, readImport } from './indexTransfer';
import { Lock } from './lock';
import { MODEL_CACHE, cachedModelReader, customModelReader, putCustomModelFiles } from './modelCache';

/**
 * What the app searches with by default: offline descriptors (stored, instant) plus CAM re-ranking of the top 100,
 * which adds about 5 points of mAP on paris6k-mini-dev (METHOD.md) and gives the boxes drawn on results.
 */
export const APP_DEFAULT_CONTROLS: SearchControls = { aggregation: DEFAULT_SEARCH.aggregation, nc: DEFAULT_SEARCH.nc, qe: DEFAULT_SEARCH.qe, rerank: 100 };

/** Extensions imported from dropped folders even when the browser gives no MIME type. */
const IMAGE_NAME = /\.(jpe?g|jfif|pjpe?g|png|webp|gif|bmp|avif|ico|heic|heif|tiff?)$/i;

const TOP_CLASSES = 5;
/**
 * Results sent to the page per search. The page shows 48 at a time ('Show more' pages through what it got, with no
 * new search), so 1000 is far more than anyone pages through; the search then orders only these (plus what
 * re-ranking and QE need) instead of all N, and a 100k collection does not send 100k results to the page.
 */
const RESULT_LIMIT = 1000;
const RECENT = 20;

/**
 * Tabs of this app on one collection (same origin) coordinate through Web Locks and a BroadcastChannel: one tab
 * at a time runs the network over the queue (INDEXER_LOCK); each tab holds a lock named after its session while it
 * lives (so files it is still reading in are not reported as lost by another tab); every write is announced on the
 * channel so the other tabs show it.
 */
const INDEXER_LOCK = 'cw-instance-search:indexer';
const sessionLock = (session: string) => `cw-instance-search:session:${session}`;
const CHANNEL = 'cw-instance-search';

type Broadcast = { type: 'added' | 'indexed' | 'removed'; ids: string[] } | { type: 'reset' | 'settings' };

const BACKEND_NAMES: Record<string, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly (wasm)', cpu: 'plain JavaScript (cpu, slow)' };

interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<void>;
  request(name: string, callback: (lock: unknown) => Promise<void>): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}
const webLocks = (): LockManagerLike | null => (self.navigator as unknown as { locks?: LockManagerLike }).locks ?? null;

/** The GPU device went away (driver reset, GPU removed, or destroyed by the test hook). */
class GpuLostError extends Error {
  constructor(reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'GpuLostError';
  }
}

type IntakeFile = ImportFile & { pendingKey: string };
const noop = () => undefined;

interface QueryState {
  image: QueryImage;
  rgb: { data: Int32Array; width: number; height: number };
  /** Whole-image forward pass, run on the first search. */
  X: tf.Tensor3D | null;
  grid: Grid | null;
  probabilities: Float32Array | null;
  /** Class probabilities of crops, by box. */
  crops: Map<string, Float32Array>;
}

const median = (a: readonly number[]): number | null => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const gridInfo = (g: Grid): GridInfo => ({ H: g.H, W: g.W, cellWidth: g.cellWidth, cellHeight: g.cellHeight, imageWidth: g.imageWidth, imageHeight: g.imageHeight });
const rect = (b: { x1: number; y1: number; x2: number; y2: number }): PixelRect => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const shortLabel = (label: string) => label.split(',')[0].trim();

export class Engine implements EngineApi {
  private emit: (event: EngineEvent) => void = () => undefined;
  private store!: CollectionStore;
  private settings!: IndexSettings;
  private backend = '';
  private requestedBackend: StartOptions['backend'] = 'auto';
  private adapterText: string | null = null;
  private backendNote: string | null = null;
  /** Set (with the browser's reason) when the WebGPU device in use is lost; resolves then. */
  private deviceLost: string | null = null;
  private deviceLostSignal: Promise<string> = new Promise(noop);
  private loseDeviceNextPhoto = false;
  /** This tab's worker: names its Web Lock and its pending files. */
  private readonly session = crypto.randomUUID();
  private pendingSeq = 0;
  private channel: BroadcastChannel | null = null;
  private syncing: Promise<void> = Promise.resolve();
  private lockWait: AbortController | null = null;
  /** Set when the collection cannot be used here any more (another tab upgraded it): the reason. */
  private closed: string | null = null;
  private customModels = new Map<string, CustomModelRecord>();
  private index!: CollectionIndex;
  private readonly lock = new Lock();

  private network: { key: string; promise: Promise<CwNetwork> } | null = null;
  private networkReady: CwNetwork | null = null;

  /** Ids queued for the network, in import order (mirrors the `queue` store). */
  private queue: string[] = [];
  private names = new Map<string, string>();
  private indexer: Promise<void> | null = null;
  private stopRequested = false;
  private run = { done: 0, recentMs: [] as number[], current: null as string | null, state: 'idle' as IndexProgress['state'], message: undefined as string | undefined };

  private intake: IntakeFile[] = [];
  private intakeRunning: Promise<void> | null = null;
  /** Bumped by "clear collection": a file read in meanwhile is dropped instead of reappearing after the clear. */
  private generation = 0;

  private query: QueryState | null = null;
  private forwardPasses = 0;
  private indexMs: number[] = [];

  // ------------------------------------------------------------------------------------------------------------
  // Start-up and settings

  async start(options: StartOptions, onEvent: (event: EngineEvent) => void) {
    this.emit = onEvent;
    this.requestedBackend = options.backend;
    await this.setUpBackend((o) => initBackend(options.backend, o));
    this.store = await openCollection({
      onVersionChange: () => this.shutDown('This collection was upgraded by a newer version of the app in another tab: reload this page to go on.'),
      onBlocked: () =>
        this.emit({ type: 'notice', level: 'warning', message: 'The collection is being upgraded to a new version of the app: close the other tabs of this app (they use the old version) to finish.' }),
      onTerminated: () => this.shutDown("The browser closed this collection's storage (site data cleared, or a disk error): reload this page."),
    });
    this.index = new CollectionIndex(this.store);
    this.holdSessionLock();
    if (typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel(CHANNEL);
      this.channel.onmessage = (e: MessageEvent<Broadcast>) => this.onBroadcast(e.data);
    }
    this.customModels = new Map((await this.store.customModels()).map((m) => [m.id, m]));

    const stored = await this.store.settings();
    const wanted: IndexSettings = {
      modelId: this.validModel(options.model) ?? (stored && this.validModel(stored.modelId)) ?? DEFAULT_MODEL,
      longSide: validLongSide(options.longSide) ?? stored?.longSide ?? DEFAULT_LONG_SIDE,
      nc: stored?.nc ?? INDEX_NC,
      codec: MAP_CODEC,
      paused: stored?.paused ?? false,
    };
    // With the disk full the collection must still open: writes here that do not fit are skipped (and said).
    if (stored && modelKey(stored) !== modelKey(wanted)) {
      // Never mix descriptors of two models (or scales): everything is indexed again with the new one.
      if (await this.fits(() => this.store.reindexAll(wanted))) this.broadcast({ type: 'settings' });
      else Object.assign(wanted, { modelId: stored.modelId, longSide: stored.longSide });
    } else if (!stored || JSON.stringify(stored) !== JSON.stringify(wanted)) {
      await this.fits(() => this.store.saveSettings(wanted));
    }
    this.settings = wanted;

    await this.repairStore();
    const photos = await this.loadCollection();
    await this.reportInterruptedImports();
    if (this.backendNote) this.emit({ type: 'notice', level: 'warning', message: this.backendNote });
    this.loadNetworkInBackground();
    if (this.queue.length && !this.settings.paused) this.kickIndexer();
    else this.warmUpSearch();
    return { info: this.info(), photos, progress: this.progress() };
  }

  /** Starts a backend (through `init`), notes why it is not the first choice, and watches a WebGPU device. */
  private async setUpBackend(init: (o: InitBackendOptions) => Promise<string>): Promise<void> {
    const skipped: string[] = [];
    this.backend = await init({ onUnavailable: (name: BackendName, reason: string) => skipped.push(`${BACKEND_NAMES[name]} is not available (${reason})`) });
    this.backendNote = skipped.length ? `${skipped.join('; ')}, so the app uses ${BACKEND_NAMES[this.backend] ?? this.backend}.` : null;
    this.adapterText = null;
    if (this.backend === 'webgpu') {
      const a = await webgpuAdapterInfo().catch(() => null);
      this.adapterText = a ? [a.vendor, a.architecture || a.device || a.description].filter(Boolean).join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '') : null;
    }
    this.deviceLost = null;
    this.deviceLostSignal = new Promise<string>((resolve) => watchGpuDevice(resolve)).then((reason) => (this.deviceLost = reason));
  }

  /** Runs a write; when the disk is full, tells the page and returns false instead of throwing. */
  private async fits(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!(e instanceof Error && e.name === 'StorageFullError')) throw e;
      this.emit({ type: 'storage-full', message: e.message });
      return false;
    }
  }

  /** The collection cannot be used in this tab any more: stop everything and tell the page. */
  private shutDown(message: string): void {
    if (this.closed) return;
    this.closed = message;
    this.stopRequested = true;
    this.lockWait?.abort();
    this.intake.length = 0;
    this.channel?.close();
    this.emit({ type: 'fatal', message });
  }

  /** Holds a Web Lock named after this session for as long as this worker lives. */
  private holdSessionLock(): void {
    webLocks()
      ?.request(sessionLock(this.session), () => new Promise<void>(noop))
      .catch(noop);
  }

  /** Makes the stores agree (see CollectionStore.repair) and says what was fixed. */
  private async repairStore(): Promise<void> {
    const report = await this.store.repair().catch((e: unknown) => {
      console.warn('[collection] repair failed:', e);
      return null;
    });
    if (report?.removed.length) {
      const names = report.removed.map((r) => r.name);
      this.emit({
        type: 'notice',
        level: 'warning',
        message: `${names.length} ${names.length === 1 ? 'photo was' : 'photos were'} removed because ${names.length === 1 ? 'its' : 'their'} stored copy is missing: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}. Add ${names.length === 1 ? 'it' : 'them'} again.`,
      });
    }
    if (report?.requeued.length) this.noticeReindexed(report.requeued.length);
  }

  private noticeReindexed(n: number): void {
    this.emit({
      type: 'notice',
      level: 'warning',
      message: `${n} ${n === 1 ? 'photo is' : 'photos are'} being indexed again: ${n === 1 ? 'its' : 'their'} stored features were incomplete or written by an older version of the app.`,
    });
  }

  /** Files another visit dropped but never read in (the tab closed meanwhile): listed so they can be added again. */
  private async reportInterruptedImports(): Promise<void> {
    const locks = webLocks();
    const [pending, held] = await Promise.all([
      this.store.listPending().catch(() => [] as PendingRecord[]),
      locks ? locks.query().then((q) => new Set((q.held ?? []).map((l) => l.name ?? '')), () => null) : Promise.resolve(null),
    ]);
    // Without Web Locks there is no telling a live tab from a closed one: leave its files alone.
    if (!held) return;
    const orphans = pending.filter((p) => !held.has(sessionLock(p.session)));
    if (!orphans.length) return;
    this.emit({
      type: 'file-problems',
      problems: orphans.map((p) => ({
        name: p.name,
        path: p.path,
        kind: 'interrupted' as const,
        message: 'not read in: the page was closed during the import. Add it again (photos already in the collection are skipped).',
      })),
    });
    await this.store.removePending(orphans.map((p) => p.key)).catch(noop);
  }

  private info(): EngineInfo {
    const adapter = this.adapterFor(this.settings.modelId);
    return {
      backend: this.backend,
      requestedBackend: this.requestedBackend,
      backendNote: this.backendNote,
      adapter: this.adapterText,
      model: { id: adapter.id, name: adapter.name, ...(this.customModels.has(adapter.id) ? { custom: true } : {}) },
      models: [...Object.values(MODELS).map((m) => ({ id: m.id, name: m.name })), ...[...this.customModels.values()].map((m) => ({ id: m.id, name: m.name, custom: true }))],
      longSide: this.settings.longSide,
      nc: this.settings.nc,
      codec: this.settings.codec,
      schemaVersion: SCHEMA_VERSION,
      defaultControls: { ...APP_DEFAULT_CONTROLS },
    };
  }

  /**
   * Reads the collection from IndexedDB into memory (one consistent snapshot); returns the photo list for the page.
   * Feature records this version cannot use (older layout, damaged, another model) and photos that are neither
   * indexed nor queued are queued again, with a message.
   */
  private async loadCollection(): Promise<PhotoItem[]> {
    const key = modelKey(this.settings);
    const snapshot = await this.store.snapshot(key);
    const { images, features } = snapshot;
    let { queued } = snapshot;
    const adapter = this.adapterFor(this.settings.modelId);
    const usable = features.filter((f) => usableFeatures(f, adapter));
    const indexed = new Set(usable.map((f) => f.id));
    const inQueue = new Set(queued);
    const stale = images.filter((i) => !indexed.has(i.id) && !inQueue.has(i.id)).map((i) => i.id);
    if (stale.length) {
      const n = await this.store.requeue(stale);
      queued = await this.store.queued();
      if (n) this.noticeReindexed(n);
    }
    this.index.reset(usable);
    this.names = new Map(images.map((i) => [i.id, i.name]));
    this.queue = queued.filter((id) => this.names.has(id) && !this.index.has(id));
    return images.map((i) => this.photoItem(i));
  }

  private photoItem(i: ImageRecord): PhotoItem {
    return {
      id: i.id,
      name: i.name,
      path: i.path,
      width: i.width,
      height: i.height,
      thumb: i.thumb,
      thumbWidth: i.thumbWidth,
      thumbHeight: i.thumbHeight,
      indexed: this.index.has(i.id),
    };
  }

  async exportIndex(options: { photos: boolean }): Promise<IndexExport> {
    const { bytes, photos } = await buildExport(this.store, this.settings, options.photos);
    const date = new Date().toISOString().slice(0, 10);
    const fileName = `cw-index-${this.settings.modelId}-${this.settings.longSide}${options.photos ? '' : '-vectors'}-${date}.npz`;
    return { file: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), fileName, photos };
  }

  async importIndex(file: Blob): Promise<IndexImportReport> {
    if (this.closed) throw new Error(this.closed);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const outcome = await readImport(this.store, this.settings, this.adapterFor(this.settings.modelId), bytes);
    const entries = [...outcome.added, ...outcome.indexed];
    await this.lock.run(async () => entries.forEach(({ features, maps }) => this.index.add(features, maps.maps)));
    const addedIds = outcome.added.map((a) => a.features.id);
    const newImages = (await this.store.getImages(addedIds)).filter((r) => r !== undefined);
    for (const r of newImages) this.names.set(r.id, r.name);
    const done = new Set(entries.map((e) => e.features.id));
    this.queue = this.queue.filter((id) => !done.has(id));
    if (newImages.length) this.emit({ type: 'photos-added', photos: newImages.map((r) => this.photoItem(r)) });
    const indexedIds = outcome.indexed.map((e) => e.features.id);
    if (indexedIds.length) this.emit({ type: 'photos-indexed', ids: indexedIds });
    if (addedIds.length) this.broadcast({ type: 'added', ids: addedIds });
    if (done.size) this.broadcast({ type: 'indexed', ids: [...done] });
    if (outcome.storageFull) this.emit({ type: 'storage-full', message: outcome.storageFull });
    this.emitProgress();
    return outcome.report;
  }

  async setModel(model: string): Promise<EngineInfo> {
    const id = this.validModel(model);
    if (!id) throw new Error(`unknown model "${model}"; choose one of: ${[...Object.keys(MODELS), ...this.customModels.keys()].join(', ')}`);
    if (id === this.settings.modelId) return this.info();
    await this.stopIndexer();
    await this.lock.run(async () => {
      this.settings = { ...this.settings, modelId: id, paused: false };
      await this.store.reindexAll(this.settings);
      this.disposeNetwork();
      this.disposeQuery();
    });
    const photos = await this.loadCollection();
    this.emit({ type: 'photos-reset', photos });
    this.broadcast({ type: 'settings' });
    this.loadNetworkInBackground();
    this.kickIndexer();
    return this.info();
  }

  /** A shipped model or one the user loaded. */
  private validModel(id: string | undefined | null): string | undefined {
    return id && (id in MODELS || this.customModels.has(id)) ? id : undefined;
  }

  private adapterFor(id: string): ModelAdapter {
    const custom = this.customModels.get(id);
    if (custom) {
      return {
        // The id of a custom model is not one of the shipped ModelIds; it is only shown and compared as a string.
        id: custom.id as ModelId,
        name: custom.name,
        folder: `custom-models/${custom.id}`,
        preprocessing: custom.preprocessing,
        featureLayer: custom.featureLayer,
        classifierLayer: custom.classifierLayer,
        channels: custom.channels,
        classes: custom.classes,
        stride: custom.stride,
      };
    }
    const adapter = (MODELS as Record<string, ModelAdapter | undefined>)[id];
    if (!adapter) throw new Error(`unknown model "${id}"`);
    return adapter;
  }

  async retryModel(): Promise<void> {
    if (this.closed) throw new Error(this.closed);
    if (this.networkReady && this.network) return;
    this.network = null;
    this.loadNetworkInBackground();
    if (this.queue.length && !this.settings.paused) {
      if (this.run.state === 'error') this.run.state = 'idle';
      this.kickIndexer();
    }
  }

  async addCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<CustomModelResult> {
    if (options.preprocessing !== 'inception' && options.preprocessing !== 'caffe') throw new Error(`unknown input scaling "${options.preprocessing}"`);
    const { files, defaultName } = await readCustomModelSource(source);
    const read: ReadModelFile = async (path) => {
      const f = files.get(path) ?? files.get(path.split('/').pop()!);
      if (!f) throw new Error(source.kind === 'files' ? `${path} is missing: choose it together with model.json` : `${path} could not be downloaded`);
      return f;
    };
    const spec = await this.lock.run(() => inspectCustomModel(read));
    // Only the files the model uses are kept, under their manifest paths.
    const manifestPaths = modelJsonPaths(files.get('model.json')!);
    const kept = new Map<string, ArrayBuffer>([['model.json', files.get('model.json')!]]);
    for (const p of manifestPaths) kept.set(p, await read(p));
    if (spec.labels) kept.set('labels.json', files.get('labels.json')!);
    const digests = await Promise.all([...kept.entries()].sort(([a], [b]) => a.localeCompare(b)).map(async ([p, b]) => `${p}:${await sha256Hex(b)}`));
    const id = `custom-${(await sha256Hex(new TextEncoder().encode(`${options.preprocessing}\n${digests.join('\n')}`).buffer as ArrayBuffer)).slice(0, 16)}`;
    await putCustomModelFiles(id, kept);
    const record: CustomModelRecord = {
      id,
      name: (options.name ?? '').trim().slice(0, 80) || defaultName,
      preprocessing: options.preprocessing,
      featureLayer: spec.featureLayer,
      classifierLayer: spec.classifierLayer,
      channels: spec.channels,
      classes: spec.classes,
      stride: spec.stride,
      labels: spec.labels ? 'file' : 'numbered',
      source: source.kind === 'url' ? source.url : 'files',
      addedAt: Date.now(),
    };
    this.customModels.set(id, record);
    await this.store.saveCustomModels([...this.customModels.values()]);
    this.broadcast({ type: 'settings' });
    return {
      model: { id, name: record.name, custom: true },
      featureLayer: record.featureLayer,
      classifierLayer: record.classifierLayer,
      channels: record.channels,
      classes: record.classes,
      stride: record.stride,
      labels: record.labels,
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // The network

  private loadNetworkInBackground(): void {
    this.getNetwork().catch(() => undefined); // reported through the 'model' event
  }

  private getNetwork(): Promise<CwNetwork> {
    const key = modelKey(this.settings);
    if (this.network?.key === key) return this.network.promise;
    const adapter = this.adapterFor(this.settings.modelId);
    const promise = this.loadNetwork(adapter, this.settings.longSide);
    this.network = { key, promise };
    promise.then(
      (net) => {
        if (this.network?.promise === promise) this.networkReady = net;
        else net.dispose();
      },
      () => {
        if (this.network?.promise === promise) this.network = null; // the next call tries again
      },
    );
    return promise;
  }

  private async loadNetwork(adapter: ModelAdapter, longSide: number): Promise<CwNetwork> {
    this.emit({ type: 'model', status: { state: 'loading', bytes: 0 } });
    const custom = this.customModels.get(adapter.id);
    /** Progress of the current attempt only: reads of a failed attempt still finishing must not undo its error. */
    let live = 0;
    const attempt = async () => {
      const mine = ++live;
      const progress = (p: { bytes: number; fromNetwork: boolean }) => {
        if (mine === live) this.emit({ type: 'model', status: { state: 'loading', bytes: p.bytes, fromNetwork: p.fromNetwork } });
      };
      const read = custom ? customModelReader(custom.id, custom.labels === 'numbered' ? custom.classes : null, progress) : cachedModelReader(adapter.folder, progress);
      // Every file first (asynchronous: photos dropped meanwhile are read in alongside), then photos being read
      // in finish, and only then the weights are parsed, which blocks this worker for seconds (ResNet-50).
      const files = await readModelFolder(read);
      while (this.intakeRunning) await this.intakeRunning;
      return loadNetwork(adapter, async (path) => files.get(path) ?? read(path), { longSide });
    };
    try {
      let net: CwNetwork;
      try {
        net = await this.lock.run(attempt);
      } catch (first) {
        // A damaged cached copy of a shipped model: drop the cache and fetch once more. (A custom model's files
        // are its only copy: never dropped here.)
        if (custom || !('caches' in self) || !(await caches.delete(MODEL_CACHE))) throw first;
        net = await this.lock.run(attempt);
      }
      live++;
      this.emit({ type: 'model', status: { state: 'ready' }, info: this.info() });
      return net;
    } catch (e) {
      live++;
      const message = `The ${adapter.name} model could not be loaded: ${errorMessage(e)}`;
      this.emit({ type: 'model', status: { state: 'error', message } });
      throw new Error(message, { cause: e });
    }
  }

  private disposeNetwork(): void {
    this.networkReady?.dispose();
    this.networkReady = null;
    this.network = null;
  }

  private forward(net: CwNetwork, rgb: { data: Int32Array; width: number; height: number }, longSide?: number) {
    const pixels = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
    try {
      this.forwardPasses++;
      return net.forward(pixels, longSide);
    } finally {
      pixels.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Import

  importFiles(files: ImportFile[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(this.closed));
    const entries: IntakeFile[] = files.map((f) => ({ ...f, pendingKey: `${this.session}:${this.pendingSeq++}` }));
    this.intake.push(...entries);
    this.emitProgress();
    // Recorded before anything is read: if this tab closes half-way, the next visit lists what was not read in.
    // (This transaction is created now, so it commits before any photo's write below, which deletes its entry.)
    const now = Date.now();
    this.store
      .addPending(entries.map((e) => ({ key: e.pendingKey, session: this.session, name: e.file.name, path: e.path, size: e.file.size, addedAt: now })))
      .catch((e: unknown) => console.warn('[import] the files to read in could not be recorded:', e));
    return this.drainIntake();
  }

  /** Empties the files waiting to be read in (cancel, clear) and forgets them as pending. */
  private dropIntake(): void {
    const keys = this.intake.splice(0).map((f) => f.pendingKey);
    this.store?.removePending(keys).catch(noop);
  }

  private drainIntake(): Promise<void> {
    this.intakeRunning ??= (async () => {
      let duplicates = 0;
      let notImages = 0;
      let added = 0;
      /** Content id -> name, for the files read in by this drain. */
      const seen = new Map<string, string>();
      const problem = (p: FileProblem) => this.emit({ type: 'file-problems', problems: [p] });
      try {
        while (this.intake.length) {
          const { file, path, pendingKey } = this.intake.shift()!;
          if (!file.type.startsWith('image/') && !IMAGE_NAME.test(file.name)) {
            notImages++;
            problem({ name: file.name, path, kind: 'skipped', message: `skipped: not an image${file.type ? ` (${file.type})` : ' (by its name)'}` });
            await this.store.removePending([pendingKey]).catch(noop);
            continue;
          }
          const generation = this.generation;
          try {
            let bytes: ArrayBuffer;
            try {
              bytes = await file.arrayBuffer();
            } catch (e) {
              throw new ImportProblem('the file could not be read (moved, deleted or no longer readable)', e);
            }
            if (!bytes.byteLength) throw new ImportProblem('the file is empty (0 bytes)');
            const header = sniffImage(new Uint8Array(bytes));
            const id = await sha256Hex(bytes);
            const same = seen.get(id) ?? this.names.get(id);
            if (same !== undefined) {
              duplicates++;
              problem({ name: file.name, path, kind: 'duplicate', message: `the same photo as "${same}", already in the collection: not added again` });
              await this.store.removePending([pendingKey]).catch(noop);
              continue;
            }
            seen.set(id, file.name);
            const p = await preparePhoto(file, header);
            const record = await this.store.addImage(
              {
                id,
                name: file.name,
                path,
                addedAt: Date.now(),
                width: p.width,
                height: p.height,
                originalBytes: file.size,
                originalType: file.type,
                originalWidth: p.originalWidth,
                originalHeight: p.originalHeight,
                stored: p.stored,
                thumb: p.thumb,
                thumbWidth: p.thumbWidth,
                thumbHeight: p.thumbHeight,
              },
              p.blob,
              pendingKey,
            );
            if (!record) {
              // Added meanwhile by another tab.
              duplicates++;
              problem({ name: file.name, path, kind: 'duplicate', message: 'the same photo is already in the collection: not added again' });
              continue;
            }
            if (generation !== this.generation) {
              await this.store.removeImages([id]);
              continue;
            }
            added++;
            this.names.set(id, record.name);
            this.queue.push(id);
            this.emit({ type: 'photos-added', photos: [this.photoItem(record)] });
            this.broadcast({ type: 'added', ids: [id] });
          } catch (e) {
            const full = e instanceof Error && e.name === 'StorageFullError';
            problem({ name: file.name, path, message: errorMessage(e), kind: full ? 'storage' : 'error' });
            await this.store.removePending([pendingKey]).catch(noop);
            if (full) {
              // Nothing more fits: report the rest of this import in one go; what is stored stays.
              const rest = this.intake.splice(0);
              if (rest.length) {
                this.emit({
                  type: 'file-problems',
                  problems: rest.map((r) => ({ name: r.file.name, path: r.path, kind: 'storage' as const, message: 'not imported: the browser storage for this site is full' })),
                });
              }
              await this.store.removePending(rest.map((r) => r.pendingKey)).catch(noop);
              this.emit({ type: 'storage-full', message: errorMessage(e) });
            }
          }
          this.emitProgress();
        }
      } finally {
        this.intakeRunning = null;
        if (duplicates || notImages) this.emit({ type: 'skipped', duplicates, notImages });
        if (added && this.settings.paused) {
          this.settings = { ...this.settings, paused: false };
          await this.store.saveSettings(this.settings).catch(noop);
        }
        if (this.queue.length && !this.settings.paused) this.kickIndexer();
        this.emitProgress();
      }
    })();
    return this.intakeRunning;
  }

  // ------------------------------------------------------------------------------------------------------------
  // Indexing

  private kickIndexer(): void {
    if (this.indexer || this.closed) return;
    this.stopRequested = false;
    this.run = { done: 0, recentMs: [], current: null, state: 'running', message: undefined };
    this.indexer = this.withIndexerLock(() => this.indexLoop()).finally(() => {
      this.indexer = null;
      this.emitProgress();
      // Photos queued while the loop was finishing.
      if (!this.stopRequested && this.queue.length && !this.settings.paused && this.run.state !== 'error') this.kickIndexer();
    });
    this.emitProgress();
  }

  /**
   * Runs `work` holding the cross-tab indexer lock. When another tab of this app holds it, this tab waits (state
   * 'waiting': it shows that tab's progress through the channel) and takes over when that tab finishes or closes.
   */
  private async withIndexerLock(work: () => Promise<void>): Promise<void> {
    const locks = webLocks();
    if (!locks) return work();
    let got = false;
    await locks.request(INDEXER_LOCK, { ifAvailable: true }, async (lock) => {
      if (!lock) return;
      got = true;
      await work();
    });
    if (got || this.stopRequested) return;
    this.run.state = 'waiting';
    this.emitProgress();
    const abort = new AbortController();
    this.lockWait = abort;
    try {
      await locks.request(INDEXER_LOCK, { signal: abort.signal }, async () => {
        if (this.stopRequested) return;
        this.run.state = 'running';
        await this.syncFromStore(); // the other tab indexed (or removed) photos meanwhile
        await work();
      });
    } catch (e) {
      if (!(e instanceof Error && e.name === 'AbortError')) throw e;
      if (this.run.state === 'waiting') this.run.state = 'idle';
    } finally {
      this.lockWait = null;
    }
  }

  private async indexLoop(): Promise<void> {
    let retried: string | null = null;
    try {
      while (!this.stopRequested && this.queue.length && !this.closed) {
        // Reading files in comes first: thumbnails of a big drop appear before the network starts.
        while (this.intakeRunning) await this.intakeRunning;
        const net = await this.getNetwork();
        if (this.stopRequested) break;
        const id = this.queue[0];
        this.run.current = this.names.get(id) ?? null;
        this.emitProgress();
        try {
          await this.lock.run(() => this.indexOne(net, id));
        } catch (e) {
          // A lost GPU: start the backend again and index this photo once more (not in a loop).
          const lost = await this.gpuLoss(e);
          if (lost === null || retried === id) throw e;
          retried = id;
          await this.recoverFromGpuLoss(lost);
          continue;
        }
        this.queue = this.queue.filter((q) => q !== id);
      }
      this.run.state = this.stopRequested ? 'paused' : 'idle';
      if (!this.queue.length) this.warmUpSearch();
    } catch (e) {
      this.run.state = 'error';
      this.run.message = errorMessage(e);
      if (e instanceof Error && e.name === 'StorageFullError') this.emit({ type: 'storage-full', message: e.message });
      this.emit({ type: 'error', message: `Indexing stopped: ${this.run.message}` });
    } finally {
      this.run.current = null;
    }
  }

  /**
   * Idle time after loading or indexing: brings the resident OfA descriptors up to date and lets the backend prepare
   * them (XNNPACK packs each new block on its first query), so the next search does not wait for it. Best effort:
   * a failure here shows up, with its message, at the next search.
   */
  private warmUpSearch(): void {
    void this.lock.run(() => this.index.warmUp(this.settings.nc)).catch(() => undefined);
  }

  /** The reason when `error` came from losing the WebGPU device (waits briefly for the browser to say so); else null. */
  private async gpuLoss(error: unknown): Promise<string | null> {
    if (error instanceof GpuLostError) return this.deviceLost ?? error.message;
    if (this.backend !== 'webgpu') return null;
    return this.deviceLost ?? (await Promise.race([this.deviceLostSignal, new Promise<null>((r) => setTimeout(() => r(null), 1000))]));
  }

  /** Waits for a GPU read-back, unless the device is lost meanwhile (then throws instead of hanging). */
  private readback<T>(p: Promise<T>): Promise<T> {
    if (this.backend !== 'webgpu') return p;
    return Promise.race([p, this.deviceLostSignal.then((reason) => Promise.reject(new GpuLostError(reason)))]);
  }

  /** Everything on the lost device is gone: drop the network and query tensors, start a fresh backend. */
  private async recoverFromGpuLoss(reason: string): Promise<void> {
    const before = this.backend;
    await this.lock.run(async () => {
      try {
        this.networkReady?.dispose();
      } catch {
        /* its buffers went with the device */
      }
      this.networkReady = null;
      this.network = null;
      try {
        this.disposeQuery();
      } catch {
        this.query = null;
      }
      this.index.releaseTensors();
      await this.setUpBackend((o) => restartBackend(this.requestedBackend, o));
    });
    const now = BACKEND_NAMES[this.backend] ?? this.backend;
    this.emit({
      type: 'notice',
      level: 'warning',
      message: `The GPU device was lost (${reason}). The app restarted ${before === this.backend ? now : `on ${now} instead of ${BACKEND_NAMES[before] ?? before}`} and indexes the photo again.`,
    });
    this.emit({ type: 'model', status: { state: 'loading', bytes: 0 }, info: this.info() });
  }

  private async indexOne(net: CwNetwork, id: string): Promise<void> {
    if (modelKey(this.settings) !== `${net.adapter.id}@${net.longSide}`) return; // model switched meanwhile
    const t0 = performance.now();
    const blob = await this.store.getBlob(id);
    if (!blob) return; // removed meanwhile
    let rgb;
    try {
      const bitmap = await decodeUpright(blob);
      rgb = bitmapRgb(bitmap);
      bitmap.close();
    } catch (e) {
      const name = this.names.get(id) ?? id;
      await this.store.removeImages([id]);
      this.names.delete(id);
      this.emit({ type: 'photos-removed', ids: [id] });
      this.broadcast({ type: 'removed', ids: [id] });
      this.emit({ type: 'file-problems', problems: [{ name, path: '', message: errorMessage(e), kind: 'error' }] });
      return;
    }
    const r = this.forward(net, rgb);
    if (this.loseDeviceNextPhoto) {
      this.loseDeviceNextPhoto = false;
      destroyGpuDevice();
    }
    let descriptorT: tf.Tensor1D | null = null;
    try {
      const probabilities = (await this.readback(r.probabilities.data())) as Float32Array;
      const classes = tf.tensor1d(topIndices(probabilities, this.settings.nc), 'int32');
      descriptorT = cwDescriptor(r.X, net.head.w, classes, null);
      classes.dispose();
      const [X, descriptor] = (await this.readback(Promise.all([r.X.data(), descriptorT.data()]))) as Float32Array[];
      const [H, W, K] = r.X.shape;
      const key = modelKey(this.settings);
      const maps = encodeMaps(X, H, W, K, this.settings.codec);
      const record: FeatureRecord = {
        id,
        modelKey: key,
        grid: r.grid,
        probabilities,
        descriptor,
        nc: this.settings.nc,
        backend: this.backend,
        ms: 0,
        indexedAt: Date.now(),
      };
      record.ms = performance.now() - t0;
      if (await this.store.putIndexed(record, { id, modelKey: key, maps })) {
        this.index.add(record, maps);
        const ms = performance.now() - t0;
        this.indexMs.push(ms);
        this.run.recentMs = [...this.run.recentMs, ms].slice(-RECENT);
        this.run.done++;
        this.emit({ type: 'photos-indexed', ids: [id] });
        this.broadcast({ type: 'indexed', ids: [id] });
      }
    } finally {
      tf.dispose([r.X, r.probabilities, ...(descriptorT ? [descriptorT] : [])]);
    }
  }

  private async stopIndexer(): Promise<void> {
    this.stopRequested = true;
    this.lockWait?.abort();
    while (this.indexer) await this.indexer;
  }

  async cancelIndexing(): Promise<void> {
    this.dropIntake();
    await this.stopIndexer();
    this.settings = { ...this.settings, paused: true };
    await this.store.saveSettings(this.settings);
    this.broadcast({ type: 'settings' });
    this.run.state = 'paused';
    this.emitProgress();
  }

  async resumeIndexing(): Promise<void> {
    if (this.closed) throw new Error(this.closed);
    this.settings = { ...this.settings, paused: false };
    await this.store.saveSettings(this.settings);
    this.broadcast({ type: 'settings' });
    if (this.run.state === 'error') this.run.state = 'idle';
    if (!this.networkReady) this.network = null; // a model that failed is tried again
    this.kickIndexer();
  }

  async removeUnindexed(): Promise<void> {
    await this.stopIndexer();
    const ids = [...this.queue];
    await this.store.removeImages(ids);
    this.queue = [];
    for (const id of ids) this.names.delete(id);
    this.settings = { ...this.settings, paused: false };
    await this.store.saveSettings(this.settings);
    this.run.state = 'idle';
    this.emit({ type: 'photos-removed', ids });
    this.broadcast({ type: 'removed', ids });
    this.emitProgress();
  }

  async clearCollection(): Promise<void> {
    this.dropIntake();
    this.generation++;
    await this.stopIndexer();
    await this.lock.run(async () => {
      await this.store.clear();
      this.index.reset([]);
      this.queue = [];
      this.names.clear();
      if (this.query?.image.key && !this.query.image.key.startsWith('file:')) this.disposeQuery();
    });
    this.settings = { ...this.settings, paused: false };
    await this.store.saveSettings(this.settings);
    this.run = { done: 0, recentMs: [], current: null, state: 'idle', message: undefined };
    this.emit({ type: 'photos-reset', photos: [] });
    this.broadcast({ type: 'reset' });
    this.emitProgress();
  }

  private progress(): IndexProgress {
    const medianMs = median(this.run.recentMs);
    const remaining = this.queue.length;
    const state: IndexProgress['state'] = this.indexer
      ? this.run.state === 'waiting'
        ? 'waiting'
        : 'running'
      : this.run.state === 'error'
        ? 'error'
        : this.settings?.paused && remaining
          ? 'paused'
          : 'idle';
    return {
      state,
      done: this.run.done,
      total: this.run.done + remaining,
      current: this.run.current,
      imagesPerSecond: medianMs ? 1000 / medianMs : null,
      medianMs,
      etaSeconds: medianMs ? (remaining * medianMs) / 1000 : null,
      reading: this.intake.length + (this.intakeRunning ? 1 : 0),
      message: this.run.message,
    };
  }

  private emitProgress(): void {
    this.emit({ type: 'progress', progress: this.progress() });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Photos

  async photoBlob(id: string): Promise<Blob> {
    const blob = await this.store.getBlob(id);
    if (!blob) throw new Error('this photo is no longer in the collection');
    return blob;
  }

  async photoClasses(id: string): Promise<ClassScore[]> {
    const record = this.index.record(id);
    if (!record) return [];
    const net = await this.getNetwork();
    return this.topClasses(record.probabilities, net);
  }

  private topClasses(probabilities: Float32Array, net: CwNetwork, n = TOP_CLASSES): ClassScore[] {
    return topIndices(probabilities, n).map((index) => ({ index, name: shortLabel(net.labels[index] ?? `class ${index}`), probability: probabilities[index] }));
  }

  // ------------------------------------------------------------------------------------------------------------
  // Query and search

  async openQuery(source: QuerySource): Promise<QueryImage> {
    let key: string;
    let blob: Blob;
    let name: string;
    if (source.kind === 'photo') {
      key = source.id;
      if (this.query?.image.key === key) return this.query.image;
      blob = await this.photoBlob(source.id);
      name = this.names.get(source.id) ?? '';
    } else {
      key = `file:${await sha256Hex(source.file)}`;
      if (this.query?.image.key === key) return this.query.image;
      // The same stored-copy rule as for imported photos (large photos downscaled), so a photo gives the same
      // features whether it is dropped here or picked from the collection.
      blob = (await preparePhoto(source.file, sniffImage(new Uint8Array(await source.file.arrayBuffer())))).blob;
      name = source.name;
    }
    const bitmap = await decodeUpright(blob);
    const rgb = bitmapRgb(bitmap);
    bitmap.close();
    await this.lock.run(async () => this.disposeQuery());
    const image: QueryImage = { key, name, width: rgb.width, height: rgb.height, blob };
    this.query = { image, rgb, X: null, grid: null, probabilities: null, crops: new Map() };
    return image;
  }

  private disposeQuery(): void {
    this.query?.X?.dispose();
    this.query = null;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const t0 = performance.now();
    const controls = validControls(request.controls);
    const image = await this.openQuery(request.query);
    const net = await this.getNetwork();
    return this.lock.run(async () => {
      const q = this.query;
      if (!q || q.image.key !== image.key) throw new Error('the query changed during the search');
      const tn = performance.now();
      if (!q.X) {
        const r = this.forward(net, q.rgb);
        q.probabilities = (await r.probabilities.data()) as Float32Array;
        r.probabilities.dispose();
        q.X = r.X;
        q.grid = r.grid;
      }
      const grid = q.grid!;
      const box = clampBox(request.box, q.rgb.width, q.rgb.height);
      const cellBox = pixelBoxToCells(box, grid);
      const cropProbabilities = await this.cropProbabilities(net, q, box);
      const networkMs = performance.now() - tn;

      const ts = performance.now();
      const params: SearchParams = { ...DEFAULT_SEARCH, ...controls, limit: RESULT_LIMIT };
      const offline = controls.aggregation === 'offline' && this.index.size ? await this.index.offlineDescriptors(controls.nc, net.head.w) : null;
      const ids = this.index.ids;
      const result = await search(
        { X: q.X!, grid, box: cellBox, cropProbabilities },
        this.index.collection(offline),
        params,
        { w: net.head.w, whitening: null },
      );
      const results = Array.from(result.ranking, (i, r) => {
        const id = ids[i];
        const re = result.rerank.get(i);
        const g = this.index.record(id)!.grid;
        return {
          id,
          rank: r + 1,
          score: result.scores[r],
          scoreKind: result.scoreKinds[r],
          ...(re ? { rerank: { boxes: re.boxes.map((b) => rect(cellsToPixelBox(b, g))), best: re.best, regionScores: re.regionScores } } : {}),
        };
      });
      const searchMs = performance.now() - ts;
      return {
        query: {
          key: image.key,
          width: image.width,
          height: image.height,
          box,
          cellBox: rect(cellsToPixelBox(cellBox, grid)),
          classes: this.topClasses(cropProbabilities, net),
          grid: gridInfo(grid),
        },
        controls,
        results,
        searched: ids.length,
        timings: { networkMs, searchMs, totalMs: performance.now() - t0 },
      };
    });
  }

  /**
   * Class probabilities of the query box: a second forward pass on the crop, at the same scale as the whole image
   * (long side of the crop = round(max(cropW, cropH) * longSide / max(W, H))). The whole image reuses its own.
   */
  private async cropProbabilities(net: CwNetwork, q: QueryState, box: PixelRect): Promise<Float32Array> {
    const { width: W, height: H } = q.rgb;
    const x1 = Math.max(0, Math.floor(box.x1)), y1 = Math.max(0, Math.floor(box.y1));
    const x2 = Math.min(W, Math.ceil(box.x2)), y2 = Math.min(H, Math.ceil(box.y2));
    if (x1 === 0 && y1 === 0 && x2 === W && y2 === H) return q.probabilities!;
    const key = `${x1},${y1},${x2},${y2}`;
    const cached = q.crops.get(key);
    if (cached) return cached;
    const cw = x2 - x1, ch = y2 - y1;
    const crop = new Int32Array(cw * ch * 3);
    for (let y = 0; y < ch; y++) crop.set(q.rgb.data.subarray(((y1 + y) * W + x1) * 3, ((y1 + y) * W + x2) * 3), y * cw * 3);
    const longSide = Math.max(32, Math.round((Math.max(cw, ch) * net.longSide) / Math.max(W, H)));
    const r = this.forward(net, { data: crop, width: cw, height: ch }, longSide);
    const p = (await r.probabilities.data()) as Float32Array;
    tf.dispose([r.X, r.probabilities]);
    q.crops.set(key, p);
    return p;
  }

  async heatmaps(targets: HeatmapTarget[], classIndex: number): Promise<Heatmap[]> {
    if (!Number.isInteger(classIndex) || classIndex < 0) throw new Error(`class index must be a non-negative integer, got ${classIndex}`);
    const net = await this.getNetwork();
    if (classIndex >= net.adapter.classes) throw new Error(`class index ${classIndex} is out of range (${net.adapter.classes} classes)`);
    return this.lock.run(async () => {
      const out: Heatmap[] = [];
      const classes = tf.tensor1d([classIndex], 'int32');
      try {
        for (const target of targets) {
          let X: tf.Tensor3D;
          let grid: Grid;
          let owned = false;
          if (target.kind === 'query') {
            if (!this.query?.X || !this.query.grid) continue;
            X = this.query.X;
            grid = this.query.grid;
          } else {
            const record = this.index.record(target.id);
            if (!record) continue;
            const [e] = await this.index.encodedMaps([target.id]);
            X = tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]);
            grid = record.grid;
            owned = true;
          }
          const cam = classActivationMaps(X, net.head.w, classes);
          const values = (await cam.data()) as Float32Array;
          cam.dispose();
          if (owned) X.dispose();
          out.push({ target, classIndex, grid: gridInfo(grid), values });
        }
      } finally {
        classes.dispose();
      }
      return out;
    });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Other tabs of this app on the same collection

  private broadcast(message: Broadcast): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      /* channel closed */
    }
  }

  private incoming = { added: new Set<string>(), indexed: new Set<string>(), removed: new Set<string>(), full: false };
  private incomingTimer: ReturnType<typeof setTimeout> | null = null;

  /** Another tab wrote to the collection: show it here (batched, applied one batch at a time). */
  private onBroadcast(m: Broadcast): void {
    if (this.closed || !m || typeof m !== 'object') return;
    if (m.type === 'reset' || m.type === 'settings') this.incoming.full = true;
    else if (m.type === 'added' || m.type === 'indexed' || m.type === 'removed') for (const id of m.ids ?? []) this.incoming[m.type].add(id);
    this.incomingTimer ??= setTimeout(() => {
      this.incomingTimer = null;
      const batch = this.incoming;
      this.incoming = { added: new Set(), indexed: new Set(), removed: new Set(), full: false };
      this.syncing = this.syncing.then(() => this.applyIncoming(batch)).catch((e: unknown) => console.warn('[tabs] sync failed:', e));
    }, 100);
  }

  private async applyIncoming(batch: { added: Set<string>; indexed: Set<string>; removed: Set<string>; full: boolean }): Promise<void> {
    if (this.closed) return;
    if (batch.full) {
      await this.applySettingsFromStore();
      return;
    }
    const removed = [...batch.removed].filter((id) => this.names.has(id));
    if (removed.length) {
      await this.lock.run(async () => this.index.remove(removed));
      for (const id of removed) this.names.delete(id);
      const gone = new Set(removed);
      this.queue = this.queue.filter((id) => !gone.has(id));
      this.emit({ type: 'photos-removed', ids: removed });
    }
    const added = [...batch.added].filter((id) => !this.names.has(id));
    if (added.length) {
      const records = (await this.store.getImages(added)).filter((r) => r !== undefined);
      for (const r of records) {
        this.names.set(r.id, r.name);
        if (!this.index.has(r.id) && !batch.indexed.has(r.id)) this.queue.push(r.id);
      }
      if (records.length) this.emit({ type: 'photos-added', photos: records.map((r) => this.photoItem(r)) });
    }
    const indexed = [...batch.indexed].filter((id) => this.names.has(id) && !this.index.has(id));
    if (indexed.length) {
      const key = modelKey(this.settings);
      const adapter = this.adapterFor(this.settings.modelId);
      const records = (await this.store.getFeatures(indexed)).filter((f): f is FeatureRecord => !!f && f.modelKey === key && usableFeatures(f, adapter));
      await this.lock.run(async () => records.forEach((f) => this.index.add(f)));
      const done = new Set(records.map((f) => f.id));
      this.queue = this.queue.filter((id) => !done.has(id));
      if (done.size) this.emit({ type: 'photos-indexed', ids: [...done] });
    }
    // This tab takes over if the indexing tab closes (it waits for the lock meanwhile).
    if (this.queue.length && !this.settings.paused) this.kickIndexer();
    this.emitProgress();
  }

  /** Settings changed in another tab (model switch, pause, clear, custom models): follow them. */
  private async applySettingsFromStore(): Promise<void> {
    const stored = await this.store.settings();
    this.customModels = new Map((await this.store.customModels()).map((m) => [m.id, m]));
    if (stored && this.validModel(stored.modelId) && modelKey(stored) !== modelKey(this.settings)) {
      await this.stopIndexer();
      await this.lock.run(async () => {
        this.disposeNetwork();
        this.disposeQuery();
      });
      this.settings = stored;
      const photos = await this.lock.run(() => this.loadCollection());
      this.emit({ type: 'photos-reset', photos });
      this.emit({ type: 'info', info: this.info() });
      this.loadNetworkInBackground();
      if (this.queue.length && !this.settings.paused) this.kickIndexer();
      this.emitProgress();
      return;
    }
    this.emit({ type: 'info', info: this.info() });
    if (stored) {
      const pausedNow = stored.paused && !this.settings.paused;
      this.settings = { ...this.settings, paused: stored.paused };
      if (pausedNow && this.indexer) {
        await this.stopIndexer();
        this.run.state = 'paused';
      }
    }
    await this.syncFromStore();
    if (this.queue.length && !this.settings.paused) this.kickIndexer();
    this.emitProgress();
  }

  /** Reloads the collection from IndexedDB and tells the page what changed (photos added, removed, indexed). */
  private async syncFromStore(): Promise<void> {
    const before = new Set(this.names.keys());
    const indexedBefore = new Set(this.index.ids);
    const photos = await this.lock.run(() => this.loadCollection());
    const now = new Set(photos.map((p) => p.id));
    if (photos.some((p) => indexedBefore.has(p.id) && !p.indexed)) {
      this.emit({ type: 'photos-reset', photos });
      return;
    }
    const removed = [...before].filter((id) => !now.has(id));
    const added = photos.filter((p) => !before.has(p.id));
    const indexed = photos.filter((p) => before.has(p.id) && p.indexed && !indexedBefore.has(p.id)).map((p) => p.id);
    if (removed.length) this.emit({ type: 'photos-removed', ids: removed });
    if (added.length) this.emit({ type: 'photos-added', photos: added });
    if (indexed.length) this.emit({ type: 'photos-indexed', ids: indexed });
  }

  // ------------------------------------------------------------------------------------------------------------
  // Introspection (status line, tests)

  async stats(): Promise<EngineStats> {
    const counts = await this.store.counts();
    return { forwardPasses: this.forwardPasses, indexedPhotos: this.index.size, photos: counts.images, queued: counts.queued, indexMs: [...this.indexMs] };
  }

  async checkIntegrity(): Promise<IntegrityReport> {
    const { counts, problems } = await this.store.integrity();
    return { images: counts.images, blobs: counts.blobs, queued: counts.queue, features: counts.features, maps: counts.maps, pending: counts.pending, problems };
  }

  async debugLoseGpuDevice(when: 'now' | 'next-photo'): Promise<boolean> {
    if (this.backend !== 'webgpu') return false;
    if (when === 'now') return destroyGpuDevice();
    this.loseDeviceNextPhoto = true;
    return true;
  }

  async debugPhoto(id: string): Promise<PhotoDebug | null> {
    const r = this.index.record(id);
    if (!r) return null;
    return { id, modelKey: r.modelKey, backend: r.backend, nc: r.nc, grid: gridInfo(r.grid), descriptor: r.descriptor, probabilities: r.probabilities };
  }
}

/** model.json, labels.json and every weight file model.json names, read concurrently. */
async function readModelFolder(read: (path: string) => Promise<ArrayBuffer>): Promise<Map<string, ArrayBuffer>> {
  const files = new Map<string, ArrayBuffer>();
  const modelJson = await read('model.json');
  files.set('model.json', modelJson);
  let paths: string[] = [];
  try {
    const manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] }).weightsManifest;
    paths = (manifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    /* not JSON: loadNetwork reports it */
  }
  await Promise.all(['labels.json', ...paths].map(async (p) => files.set(p, await read(p))));
  return files;
}

/**
 * A feature record this version can search with: typed arrays of the model's sizes and a sane grid. Records of an
 * older layout or damaged ones are not (the photo is indexed again).
 */
function usableFeatures(f: FeatureRecord, adapter: ModelAdapter): boolean {
  const g = f.grid as Partial<Grid> | undefined;
  return (
    f.descriptor instanceof Float32Array &&
    f.descriptor.length === adapter.channels &&
    f.probabilities instanceof Float32Array &&
    f.probabilities.length === adapter.classes &&
    Number.isInteger(f.nc) &&
    !!g &&
    [g.H, g.W].every((v) => Number.isInteger(v) && v! >= 1) &&
    [g.cellWidth, g.cellHeight, g.imageWidth, g.imageHeight].every((v) => typeof v === 'number' && v > 0)
  );
}

/** The weight file paths model.json lists ([] when it is not JSON). */
function modelJsonPaths(modelJson: ArrayBuffer): string[] {
  try {
    const manifest = (JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] }).weightsManifest;
    return (manifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    return [];
  }
}

/**
 * The files of a model the user gives: chosen files (model.json, weights, labels.json; matched by name), or a
 * model.json URL ON THIS SITE and the files next to it. Other sites are refused here (and by the CSP).
 */
async function readCustomModelSource(source: CustomModelSource): Promise<{ files: Map<string, ArrayBuffer>; defaultName: string }> {
  const files = new Map<string, ArrayBuffer>();
  if (source.kind === 'files') {
    const list = [...source.files];
    const jsons = list.filter((f) => /\.json$/i.test(f.name) && f.name !== 'labels.json');
    const modelJson = list.find((f) => f.name === 'model.json') ?? (jsons.length === 1 ? jsons[0] : undefined);
    if (!modelJson) throw new Error('choose the model.json of a TensorFlow.js layers model, with its weight files (.bin) and, optionally, labels.json');
    files.set('model.json', await modelJson.arrayBuffer());
    for (const f of list) if (f !== modelJson) files.set(f.name, await f.arrayBuffer());
    const folder = (modelJson as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/').slice(-2, -1)[0];
    return { files, defaultName: folder || modelJson.name.replace(/\.json$/i, '') || 'Custom model' };
  }
  let url: URL;
  try {
    url = new URL(source.url.trim(), self.location.href);
  } catch {
    throw new Error(`"${source.url}" is not a web address`);
  }
  if (url.origin !== self.location.origin) {
    throw new Error(
      `models can only be loaded from this site (${self.location.origin}): the app may not connect anywhere else, so that photos cannot leave this device. ` +
        "Download the model's files and choose them instead.",
    );
  }
  const get = async (u: URL, optional = false): Promise<ArrayBuffer | null> => {
    const res = await fetch(u);
    const html = (res.headers.get('content-type') ?? '').includes('text/html');
    if (!res.ok || html) {
      if (optional) return null;
      throw new Error(`${u.pathname}: ${res.ok ? 'not found (the site answered with a page)' : `HTTP ${res.status}`}`);
    }
    return res.arrayBuffer();
  };
  const modelJson = (await get(url))!;
  files.set('model.json', modelJson);
  for (const p of modelJsonPaths(modelJson)) {
    const b = await get(new URL(p, url), true);
    if (b) files.set(p, b);
  }
  const labels = await get(new URL('labels.json', url), true);
  if (labels) files.set('labels.json', labels);
  return { files, defaultName: url.pathname.split('/').filter(Boolean).slice(-2, -1)[0] ?? 'Custom model' };
}

function validLongSide(v: number | undefined): number | undefined {
  return v !== undefined && Number.isInteger(v) && v >= 64 && v <= 2048 ? v : undefined;
}

function validControls(c: SearchControls): SearchControls {
  const int = (v: number, min: number, max: number, name: string) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
    return v;
  };
  if (c.aggregation !== 'offline' && c.aggregation !== 'online') throw new Error(`aggregation must be offline or online, got ${c.aggregation}`);
  const out: SearchControls = { aggregation: c.aggregation, nc: int(c.nc, 1, 1000, 'NC'), qe: int(c.qe, 0, 1000, 'QE n'), rerank: int(c.rerank, 0, 100000, 'Re-ranking R') };
  if (c.qeAlpha !== undefined && !(c.qeAlpha >= 0 && c.qeAlpha <= 10)) throw new Error(`QE alpha must be a number from 0 to 10, got ${c.qeAlpha}`);
  if (c.qeAlpha !== undefined) out.qeAlpha = c.qeAlpha;
  if (c.superGlobal !== undefined) out.superGlobal = int(c.superGlobal, 0, 100000, 'SuperGlobal M');
  return out;
}

/** The box clipped to the image; a box with no area inside it becomes the whole image. */
function clampBox(b: PixelRect, width: number, height: number): PixelRect {
  const x1 = Math.max(0, Math.min(b.x1, b.x2)), y1 = Math.max(0, Math.min(b.y1, b.y2));
  const x2 = Math.min(width, Math.max(b.x1, b.x2)), y2 = Math.min(height, Math.max(b.y1, b.y2));
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 - x1 < 1 || y2 - y1 < 1) return { x1: 0, y1: 0, x2: width, y2: height };
  return { x1, y1, x2, y2 };
}
