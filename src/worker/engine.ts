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
import { SCHEMA_VERSION, type FeatureRecord, type ImageRecord } from '../index/schema';
import { DEFAULT_LONG_SIDE, INDEX_NC, MAP_CODEC, modelKey, type IndexSettings } from '../index/settings';
import { DEFAULT_MODEL, MODELS, modelAdapter, type ModelAdapter } from '../model/adapters';
import { initBackend, webgpuAdapterInfo } from '../model/backend';
import { loadNetwork, type CwNetwork } from '../model/network';
import { search, topIndices } from '../search/search';
import { DEFAULT_SEARCH, type SearchParams } from '../search/types';
import type {
  ClassScore,
  EngineApi,
  EngineEvent,
  EngineInfo,
  EngineStats,
  FileProblem,
  GridInfo,
  Heatmap,
  HeatmapTarget,
  ImportFile,
  IndexProgress,
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
import { bitmapRgb, decodeUpright, preparePhoto } from './images';
import { Lock } from './lock';
import { MODEL_CACHE, cachedModelReader } from './modelCache';

/**
 * What the app searches with by default: offline descriptors (stored, instant) plus CAM re-ranking of the top 100,
 * which adds about 5 points of mAP on paris6k-mini-dev (METHOD.md) and gives the boxes drawn on results.
 */
export const APP_DEFAULT_CONTROLS: SearchControls = { aggregation: DEFAULT_SEARCH.aggregation, nc: DEFAULT_SEARCH.nc, qe: DEFAULT_SEARCH.qe, rerank: 100 };

/** Extensions imported from dropped folders even when the browser gives no MIME type. */
const IMAGE_NAME = /\.(jpe?g|jfif|pjpe?g|png|webp|gif|bmp|avif|ico|heic|heif|tiff?)$/i;

const TOP_CLASSES = 5;
const RECENT = 20;

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

  private intake: ImportFile[] = [];
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
    this.backend = await initBackend(options.backend);
    if (this.backend === 'webgpu') {
      const a = await webgpuAdapterInfo().catch(() => null);
      this.adapterText = a ? [a.vendor, a.architecture || a.device || a.description].filter(Boolean).join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '') : null;
    }
    this.store = await openCollection({
      onVersionChange: () => this.emit({ type: 'error', message: 'The app was updated in another tab: reload this page.' }),
    });
    this.index = new CollectionIndex(this.store);

    const stored = await this.store.settings();
    const wanted: IndexSettings = {
      modelId: validModel(options.model) ?? (stored && validModel(stored.modelId)) ?? DEFAULT_MODEL,
      longSide: validLongSide(options.longSide) ?? stored?.longSide ?? DEFAULT_LONG_SIDE,
      nc: stored?.nc ?? INDEX_NC,
      codec: MAP_CODEC,
      paused: stored?.paused ?? false,
    };
    if (stored && modelKey(stored) !== modelKey(wanted)) {
      // Never mix descriptors of two models (or scales): everything is indexed again with the new one.
      await this.store.reindexAll(wanted);
    } else {
      await this.store.saveSettings(wanted);
    }
    this.settings = wanted;

    const photos = await this.loadCollection();
    this.loadNetworkInBackground();
    if (this.queue.length && !this.settings.paused) this.kickIndexer();
    return { info: this.info(), photos, progress: this.progress() };
  }

  private info(): EngineInfo {
    const adapter = modelAdapter(this.settings.modelId);
    return {
      backend: this.backend,
      requestedBackend: this.requestedBackend,
      adapter: this.adapterText,
      model: { id: adapter.id, name: adapter.name },
      models: Object.values(MODELS).map((m) => ({ id: m.id, name: m.name })),
      longSide: this.settings.longSide,
      nc: this.settings.nc,
      codec: this.settings.codec,
      schemaVersion: SCHEMA_VERSION,
      defaultControls: { ...APP_DEFAULT_CONTROLS },
    };
  }

  /** Reads the collection from IndexedDB into memory; returns the photo list for the page. */
  private async loadCollection(): Promise<PhotoItem[]> {
    const [images, features, queue] = await Promise.all([this.store.listImages(), this.store.listFeatures(modelKey(this.settings)), this.store.queued()]);
    this.index.reset(features);
    this.names = new Map(images.map((i) => [i.id, i.name]));
    const known = new Set(images.map((i) => i.id));
    this.queue = queue.filter((id) => known.has(id) && !this.index.has(id));
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

  async setModel(model: string): Promise<EngineInfo> {
    const id = validModel(model);
    if (!id) throw new Error(`unknown model "${model}"; choose one of: ${Object.keys(MODELS).join(', ')}`);
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
    this.loadNetworkInBackground();
    this.kickIndexer();
    return this.info();
  }

  // ------------------------------------------------------------------------------------------------------------
  // The network

  private loadNetworkInBackground(): void {
    this.getNetwork().catch(() => undefined); // reported through the 'model' event
  }

  private getNetwork(): Promise<CwNetwork> {
    const key = modelKey(this.settings);
    if (this.network?.key === key) return this.network.promise;
    const adapter = modelAdapter(this.settings.modelId);
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
    const attempt = async () => {
      const read = cachedModelReader(adapter.folder, (p) => this.emit({ type: 'model', status: { state: 'loading', bytes: p.bytes, fromNetwork: p.fromNetwork } }));
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
        // A damaged cached copy: drop the cache and fetch once more.
        if (!('caches' in self) || !(await caches.delete(MODEL_CACHE))) throw first;
        net = await this.lock.run(attempt);
      }
      this.emit({ type: 'model', status: { state: 'ready' }, info: this.info() });
      return net;
    } catch (e) {
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
    this.intake.push(...files);
    this.emitProgress();
    return this.drainIntake();
  }

  private drainIntake(): Promise<void> {
    this.intakeRunning ??= (async () => {
      const problems: FileProblem[] = [];
      let duplicates = 0;
      let notImages = 0;
      let added = 0;
      const seen = new Set<string>();
      try {
        while (this.intake.length) {
          const { file, path } = this.intake.shift()!;
          if (!file.type.startsWith('image/') && !IMAGE_NAME.test(file.name)) {
            notImages++;
            continue;
          }
          const generation = this.generation;
          try {
            const id = await sha256Hex(file);
            if (seen.has(id) || this.names.has(id)) {
              duplicates++;
              continue;
            }
            seen.add(id);
            const p = await preparePhoto(file);
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
            );
            if (!record) {
              duplicates++;
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
          } catch (e) {
            problems.push({ name: file.name, path, message: errorMessage(e) });
            if (e instanceof Error && e.name === 'StorageFullError') {
              // Nothing more fits: report the rest of this import in one go.
              for (const rest of this.intake.splice(0)) problems.push({ name: rest.file.name, path: rest.path, message: 'not imported: storage is full' });
            }
          }
          this.emitProgress();
        }
      } finally {
        this.intakeRunning = null;
        if (problems.length) this.emit({ type: 'file-problems', problems });
        if (duplicates || notImages) this.emit({ type: 'skipped', duplicates, notImages });
        if (added && this.settings.paused) {
          this.settings = { ...this.settings, paused: false };
          await this.store.saveSettings(this.settings).catch(() => undefined);
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
    if (this.indexer) return;
    this.stopRequested = false;
    this.run = { done: 0, recentMs: [], current: null, state: 'running', message: undefined };
    this.indexer = this.indexLoop().finally(() => {
      this.indexer = null;
      this.emitProgress();
      // Photos queued while the loop was finishing.
      if (!this.stopRequested && this.queue.length && !this.settings.paused && this.run.state !== 'error') this.kickIndexer();
    });
    this.emitProgress();
  }

  private async indexLoop(): Promise<void> {
    try {
      while (!this.stopRequested && this.queue.length) {
        // Reading files in comes first: thumbnails of a big drop appear before the network starts.
        while (this.intakeRunning) await this.intakeRunning;
        const net = await this.getNetwork();
        if (this.stopRequested) break;
        const id = this.queue[0];
        this.run.current = this.names.get(id) ?? null;
        this.emitProgress();
        await this.lock.run(() => this.indexOne(net, id));
        this.queue = this.queue.filter((q) => q !== id);
      }
      this.run.state = this.stopRequested ? 'paused' : 'idle';
    } catch (e) {
      this.run.state = 'error';
      this.run.message = errorMessage(e);
      this.emit({ type: 'error', message: `Indexing stopped: ${this.run.message}` });
    } finally {
      this.run.current = null;
    }
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
      this.emit({ type: 'file-problems', problems: [{ name, path: '', message: errorMessage(e) }] });
      return;
    }
    const r = this.forward(net, rgb);
    let descriptorT: tf.Tensor1D | null = null;
    try {
      const probabilities = (await r.probabilities.data()) as Float32Array;
      const classes = tf.tensor1d(topIndices(probabilities, this.settings.nc), 'int32');
      descriptorT = cwDescriptor(r.X, net.head.w, classes, null);
      classes.dispose();
      const [X, descriptor] = (await Promise.all([r.X.data(), descriptorT.data()])) as Float32Array[];
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
      }
    } finally {
      tf.dispose([r.X, r.probabilities, ...(descriptorT ? [descriptorT] : [])]);
    }
  }

  private async stopIndexer(): Promise<void> {
    this.stopRequested = true;
    while (this.indexer) await this.indexer;
  }

  async cancelIndexing(): Promise<void> {
    this.intake.length = 0;
    await this.stopIndexer();
    this.settings = { ...this.settings, paused: true };
    await this.store.saveSettings(this.settings);
    this.run.state = 'paused';
    this.emitProgress();
  }

  async resumeIndexing(): Promise<void> {
    this.settings = { ...this.settings, paused: false };
    await this.store.saveSettings(this.settings);
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
    this.emitProgress();
  }

  async clearCollection(): Promise<void> {
    this.intake.length = 0;
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
    this.emitProgress();
  }

  private progress(): IndexProgress {
    const medianMs = median(this.run.recentMs);
    const remaining = this.queue.length;
    const state: IndexProgress['state'] = this.indexer
      ? 'running'
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
      blob = (await preparePhoto(source.file)).blob;
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
      const params: SearchParams = { ...DEFAULT_SEARCH, ...controls };
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
  // Introspection (status line, tests)

  async stats(): Promise<EngineStats> {
    const counts = await this.store.counts();
    return { forwardPasses: this.forwardPasses, indexedPhotos: this.index.size, photos: counts.images, queued: counts.queued, indexMs: [...this.indexMs] };
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

function validModel(id: string | undefined | null): ModelAdapter['id'] | undefined {
  return id && id in MODELS ? (id as ModelAdapter['id']) : undefined;
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
  return { aggregation: c.aggregation, nc: int(c.nc, 1, 1000, 'NC'), qe: int(c.qe, 0, 1000, 'QE n'), rerank: int(c.rerank, 0, 100000, 'Re-ranking R') };
}

/** The box clipped to the image; a box with no area inside it becomes the whole image. */
function clampBox(b: PixelRect, width: number, height: number): PixelRect {
  const x1 = Math.max(0, Math.min(b.x1, b.x2)), y1 = Math.max(0, Math.min(b.y1, b.y2));
  const x2 = Math.min(width, Math.max(b.x1, b.x2)), y2 = Math.min(height, Math.max(b.y1, b.y2));
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 - x1 < 1 || y2 - y1 < 1) return { x1: 0, y1: 0, x2: width, y2: height };
  return { x1, y1, x2, y2 };
}
