/**
 * The worker's engine: a facade implementing EngineApi (src/worker-api/api.ts) that only delegates, each method to
 * the service whose job it is (./services/, created and wired in ./compose.ts). Exposed to the page through comlink
 * (./worker.ts), behind ./boundary.ts; the debug tools (./debug/) sit beside it, reachable only with ?debug=1.
 *
 * Order of work inside the worker: reading dropped files in (hash, dedupe, thumbnail) goes before the network, so
 * thumbnails appear at once; indexing then takes one queued photo at a time; searches and heatmaps take the tfjs
 * lock between two photos, so a search waits for at most one forward pass.
 */
import type {
  CustomModelOptions,
  CustomModelResult,
  CustomModelSource,
  EngineApi,
  EngineEvent,
  EngineInfo,
  GroupingProgress,
  HeatmapTarget,
  ImportFile,
  PhotoFacts,
  QuerySource,
  SearchRequest,
  StartOptions,
  StorageMode,
  StorageReport,
} from '../worker-api/api';
import { composeServices, type Services } from './compose';
import { DebugTools } from './debug/debugTools';
import { storageReport } from './services/storageReport';

export class Engine implements EngineApi {
  /** Set by start() (the boundary holds every other call until it is done). */
  private s!: Services;
  /** The debug tools (DebugApi), over the same services: ./worker.ts exposes them only to a page with ?debug=1. */
  readonly debug = new DebugTools(() => this.s);

  async start(options: StartOptions, onEvent: (event: EngineEvent) => void) {
    const t0 = performance.now();
    this.s = await composeServices(options, onEvent);
    return this.s.lifecycle.open(options, t0);
  }

  /** The services, while this tab may still use the collection (else the reason is thrown). */
  private usable(): Services {
    this.s.session.assertOpen();
    return this.s;
  }

  // ---- settings and models

  async setStorageMode(mode: StorageMode): Promise<EngineInfo> {
    await this.s.lifecycle.setStorageMode(mode);
    return this.s.info();
  }

  storageReport(): Promise<StorageReport> {
    return storageReport(this.s);
  }

  linkedFolders() {
    return this.s.photos.folders();
  }

  async foldersGranted(): Promise<void> {
    this.s.lifecycle.foldersGranted();
  }

  async setModel(model: string): Promise<EngineInfo> {
    await this.s.lifecycle.switchModel(model);
    return this.s.info();
  }

  retryModel(): Promise<void> {
    return this.s.lifecycle.retryModel();
  }

  addCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<CustomModelResult> {
    return this.s.lifecycle.addCustomModel(source, options);
  }

  // ---- import and indexing

  async importFiles(files: ImportFile[]): Promise<void> {
    return this.usable().intake.add(files);
  }

  cancelIndexing(): Promise<void> {
    return this.s.lifecycle.pause();
  }

  resumeIndexing(): Promise<void> {
    return this.s.lifecycle.resume();
  }

  removeUnindexed(): Promise<void> {
    return this.s.lifecycle.removeUnindexed();
  }

  clearCollection(): Promise<void> {
    return this.s.lifecycle.clear();
  }

  exportIndex(options: { photos: boolean }) {
    return this.s.transfer.export(options);
  }

  importIndex(file: Blob) {
    return this.s.transfer.import(file);
  }

  // ---- photos, query and search

  async photoBlob(id: string) {
    return (await this.s.query.photoFile(id)).blob;
  }

  photoFile(id: string) {
    return this.s.query.photoFile(id);
  }

  thumbnails(ids: string[]) {
    return this.s.store.getThumbs(ids);
  }

  thumbnailUrls(ids: string[]) {
    return this.s.thumbUrls.make(ids);
  }

  async releaseThumbnailUrls(urls: string[]) {
    this.s.thumbUrls.release(urls);
  }

  photoClasses(id: string) {
    return this.s.query.photoClasses(id);
  }

  openQuery(source: QuerySource) {
    return this.s.query.open(source);
  }

  search(request: SearchRequest) {
    return this.s.query.search(request);
  }

  heatmaps(targets: HeatmapTarget[], classIndex: number) {
    return this.s.query.heatmaps(targets, classIndex);
  }

  // ---- collection tools: delete and undo, near-duplicates, groups, classes

  deletePhotos(ids: string[]) {
    return this.s.deletion.delete(ids);
  }

  undoDelete(undoToken: string) {
    return this.s.deletion.undo(undoToken);
  }

  duplicates(options?: { threshold?: number; wait?: boolean }) {
    return this.usable().graph.duplicates(options);
  }

  groups(options?: { k?: number; minSim?: number; wait?: boolean }) {
    return this.usable().graph.groups(options);
  }

  rebuildGroups(): Promise<GroupingProgress> {
    return this.usable().graph.rebuild();
  }

  cancelGrouping(): Promise<void> {
    return this.s.graph.cancel();
  }

  classCounts(options?: { topK?: number; limit?: number }) {
    return this.s.classes.counts(options);
  }

  async photosWithClass(classIndex: number, options?: { topK?: number }) {
    return this.s.classes.photosWithClass(classIndex, options);
  }

  photoFacts(ids: string[]): Promise<(PhotoFacts | undefined)[]> {
    return this.s.photos.facts(ids);
  }
}
