/**
 * The messages between the page and the indexing/search worker (src/worker/), types only: the page imports this
 * folder (this file and ./client.ts), never tfjs, idb or the CW code; type-only imports of their records are fine.
 * Boxes here are in PIXELS of a photo's stored copy, upright.
 */
import type { Grid } from '../cw/boxes';
import type { CustomModelRecord } from '../index/schema';
import type { ScoreKind } from '../search/types';
import type { CollectionToolsApi, GroupingProgress } from './collectionToolsApi';

export type { ScoreKind };
export type * from './collectionToolsApi';
export type * from './debugApi';

export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/**
 * What the app keeps of each photo itself (thumbnail, features and maps are always kept): 'link' = the original
 * on disk where the browser gives a file-system handle (a dropped folder, a folder picker), else a copy; 'copy' =
 * always a copy (long side StorageInfo.copySide); 'none' = a link where possible, else only the thumbnail.
 */
export type StorageMode = 'link' | 'copy' | 'none';

/** Where a photo itself is: a stored copy, the original on disk (linked), or only its thumbnail. */
type PhotoSource = 'copy' | 'disk' | 'none';

interface StorageInfo {
  mode: StorageMode;
  /** Long side of stored copies, px. */
  copySide: number;
  /** Bytes per photo the default model at its default input size stays within (everything included). */
  budgetPerPhoto: number;
}

/**
 * What the collection takes in the browser, measured on it. perPhoto: mean bytes per indexed photo by part
 * (thumbnail, the photo's copy where one is kept, feature maps, OfA descriptor in its record and its block, class
 * probabilities); usage/quota: navigator.storage.estimate() for the whole site (null where unavailable).
 */
export interface StorageReport {
  photos: number;
  indexed: number;
  bySource: Record<PhotoSource, number>;
  perPhoto: { thumbnail: number; photo: number; maps: number; descriptor: number; probabilities: number; total: number };
  usage: number | null;
  quota: number | null;
  /** The IndexedDB part of usage (Chromium's usageDetails; null elsewhere): the collection without the cached model files. */
  indexedDb: number | null;
  budgetPerPhoto: number;
}

/**
 * A folder (or file) whose photos are linked on disk. The page asks the user again when `permission` is 'prompt':
 * `await handle.requestPermission({ mode: 'read' })` inside a click handler, then `api.foldersGranted()`.
 */
export interface LinkedFolder {
  key: string;
  name: string;
  kind: 'directory' | 'file';
  handle: FileSystemDirectoryHandle | FileSystemFileHandle;
  permission: PermissionState;
  photos: number;
}

/** A photo to show: the original (linked on disk), the stored copy, or the thumbnail when neither can be had. */
export interface PhotoFile {
  blob: Blob;
  kind: 'original' | 'copy' | 'thumbnail';
  /** Why only the thumbnail is shown (absent when the collection keeps only thumbnails by choice). */
  problem?: string;
  reason?: 'permission' | 'missing';
}

export interface StartOptions {
  /**
   * tfjs backend: 'auto' = the fastest working one here: a GPU that looks real is measured against wasm (once per
   * model and browser), a software-emulated GPU comes after wasm, cpu last. Any other value forces that backend.
   */
  backend: BackendChoice;
  /** Model id; default: the collection's model, else the default model. A different one re-indexes. */
  model?: string;
  /** Network input long side; default: the collection's, else 512. A different one re-indexes. */
  longSide?: number;
  /**
   * 'with-photos' (default): every PhotoItem carries its thumbnail. 'on-demand': none does, and the page asks
   * `thumbnails(ids)` for the ones it shows: opening a 50,000-photo collection then reads no thumbnail at all.
   */
  thumbnails?: 'with-photos' | 'on-demand';
  /** wasm threads; default: src/model/wasmThreads.ts's choice (more than 1 needs a cross-origin isolated page). */
  threads?: number;
}

export interface ModelChoice {
  id: string;
  name: string;
  /** A model the user loaded (files or a same-origin URL). */
  custom?: boolean;
}

export interface EngineInfo {
  /** The tfjs backend actually running. */
  backend: string;
  requestedBackend: BackendChoice;
  /**
   * A warning about the backend, or null: the one asked for could not start ("WebGPU is not available (…), so the app
   * uses …"), or one failed while indexing and the app moved to the next ("WebGPU failed while indexing (…), so …").
   */
  backendNote: string | null;
  /** Why this backend (header): e.g. "this browser's WebGPU is a software emulator (SwiftShader), …". */
  backendReason: string;
  /** ms of one forward pass per backend when the choice was measured (or remembered); else null. */
  backendTimings: Record<string, number> | null;
  /** WebGPU adapter, e.g. "google swiftshader (fallback adapter)"; null when not on webgpu. */
  adapter: string | null;
  /** On wasm: the threads it runs on (1 = single-threaded: not cross-origin isolated, or few cores); else null. */
  wasmThreads: number | null;
  model: ModelChoice;
  models: ModelChoice[];
  longSide: number;
  /** NC of the stored offline descriptors. */
  nc: number;
  codec: string;
  schemaVersion: number;
  storage: StorageInfo;
  /** Search settings the app starts with. */
  defaultControls: SearchControls;
}

export interface PhotoItem {
  id: string;
  name: string;
  /** Path inside a dropped folder, '' for single files. */
  path: string;
  /** Upright size of the stored copy (the pixel space of boxes). */
  width: number;
  height: number;
  /** Absent when the page asked for thumbnails on demand (StartOptions.thumbnails). */
  thumb?: Blob;
  thumbWidth: number;
  thumbHeight: number;
  indexed: boolean;
  /** Where the photo itself is kept. */
  source: PhotoSource;
  /** Import order: the collection is shown in this order (a photo restored by undoDelete comes back to its place). */
  seq: number;
}

export interface IndexProgress {
  /**
   * running: the network is working through the queue; paused: cancelled by the user, photos wait; waiting: another
   * tab of this app is indexing the same collection (this one takes over when that tab closes).
   */
  state: 'idle' | 'running' | 'paused' | 'error' | 'waiting';
  /** Photos indexed in this run, and done + still queued. */
  done: number;
  total: number;
  /** Name of the photo in the network now. */
  current: string | null;
  /** From the median time per photo over the recent photos of this run. */
  imagesPerSecond: number | null;
  medianMs: number | null;
  etaSeconds: number | null;
  /** Files dropped but not read in yet (hashing, decoding, thumbnails). */
  reading: number;
  message?: string;
}

export interface ModelStatus {
  state: 'idle' | 'loading' | 'ready' | 'error';
  /** While loading: model files read so far (bytes), and whether any came from the network. */
  bytes?: number;
  fromNetwork?: boolean;
  message?: string;
}

export interface FileProblem {
  name: string;
  path: string;
  message: string;
  /**
   * error: the file cannot be imported (broken, not an image, too small); skipped: not an image by its name or
   * type; duplicate: the same content is already in the collection; interrupted: the page closed before it was
   * read in; storage: it did not fit.
   */
  kind?: 'error' | 'skipped' | 'duplicate' | 'interrupted' | 'storage';
}

export type EngineEvent =
  | { type: 'photos-added'; photos: PhotoItem[] }
  | { type: 'photos-indexed'; ids: string[] }
  /** Photos left the collection (deleted here or in another tab); queryRemoved: the query photo was one of them. */
  | { type: 'photos-removed'; ids: string[]; queryRemoved?: boolean }
  /** Near-duplicates and groups: building or updating the neighbour graph (see EngineApi.duplicates). */
  | { type: 'grouping'; progress: GroupingProgress }
  /** The whole list changed (cleared, model switched): replace it. */
  | { type: 'photos-reset'; photos: PhotoItem[] }
  | { type: 'progress'; progress: IndexProgress }
  | { type: 'model'; status: ModelStatus; info?: EngineInfo }
  /** The engine's description changed (e.g. another tab added a model). */
  | { type: 'info'; info: EngineInfo }
  | { type: 'file-problems'; problems: FileProblem[] }
  /** Files left out of an import: already in the collection (same content), or not images at all. */
  | { type: 'skipped'; duplicates: number; notImages: number }
  | { type: 'error'; message: string }
  /** Something the user should know that is not an error (warning: stays until dismissed). */
  | { type: 'notice'; level: 'info' | 'warning'; message: string }
  /** A write did not fit in the browser's storage: what is stored is kept, importing/indexing stopped. */
  | { type: 'storage-full'; message: string }
  /** The collection cannot be used in this tab any more (another tab upgraded it, storage was cleared): reload. */
  | { type: 'fatal'; message: string };

export interface ImportFile {
  file: File;
  /** Path inside a dropped folder ('' for single files). */
  path: string;
  /**
   * Where the browser gave a file-system handle (a dropped folder's getAsFileSystemHandle, showDirectoryPicker):
   * the root handle and the path under it (folders, then the file name; [] when the root is the file itself). With
   * storage 'link' or 'none' the photo is then linked, not copied.
   */
  handle?: { root: FileSystemDirectoryHandle | FileSystemFileHandle; path: string[] };
}

export interface PixelRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The query photo: one of the collection, or a file dropped on the query area (never added to the collection). */
export type QuerySource = { kind: 'photo'; id: string } | { kind: 'file'; file: Blob; name: string };

export interface QueryImage {
  /** Identifies this query image (photo id, or 'file:<sha256>'). */
  key: string;
  name: string;
  width: number;
  height: number;
  /** The image to show (the stored copy, or the dropped file). */
  blob: Blob;
}

export interface SearchControls {
  /** 'offline' (OfA): stored descriptors, each photo's own classes. 'online' (OnA): the query's classes for every photo. */
  aggregation: 'offline' | 'online';
  /** Classes aggregated per descriptor, NC. */
  nc: number;
  /** Query expansion: top-n descriptors averaged, 0 = off. */
  qe: number;
  /** CAM re-ranking of the top R, 0 = off. */
  rerank: number;
  /**
   * Online aggregation over a shortlist: OnA descriptors for the OfA top M only (the rest keep their OfA order after
   * them); 0 or absent = every photo (slow on a large collection). Only with aggregation 'online'.
   */
  onlineShortlist?: number;
  /** SuperGlobal re-ranking (Shao et al. 2023) of the top M: descriptors refined by their neighbours; 0 or absent = off. */
  superGlobal?: number;
  /** Query expansion weights: 0 or absent = the paper's average of the top n; alpha > 0 = alpha-QE (Radenovic et al.). */
  qeAlpha?: number;
  /** What QE averages for re-ranked photos: 'global' (absent) their descriptors, 'region' their best region (authors' code). */
  qeSource?: 'global' | 'region';
  /**
   * Which of the top n QE averages: 'top' (absent) all of them, as published; 'reciprocal' only those that have the
   * query among their own 10 nearest photos (k-reciprocal, Zhong et al. 2017); 'gap' those before the largest score drop.
   */
  qeNeighbours?: 'top' | 'reciprocal' | 'gap';
  /** Diffusion (Iscen et al. 2017) over a kNN graph of the top M, run last; 0 or absent = off. */
  diffusion?: number;
  /** Neighbours per node of the diffusion graph (absent: 50, Iscen et al.'s). */
  diffusionK?: number;
}

export interface SearchRequest {
  query: QuerySource;
  /** The query region, pixels of the query image; absent: the whole image. */
  box?: PixelRect;
  /** Absent: the app's default search (EngineInfo.defaultControls). */
  controls?: SearchControls;
  /**
   * Search only these photos: a group (GroupsReport), the photos with a class among their top `topK` (default 1),
   * or a list of ids. Applied in the ranking: the results are the best photos of the scope, re-ranking and query
   * expansion work within it. Default: the whole collection.
   */
  within?: SearchScope;
  /**
   * A page of the ranking: results offset .. offset + limit - 1 (default 0 and 1000). The same request with another
   * offset pages through the whole ranking without searching again (the last ranking is kept).
   */
  offset?: number;
  limit?: number;
  /** Leave out results scoring below this (the results' score, whatever its scoreKind). */
  minScore?: number;
}

export type SearchScope = { group: string } | { class: number; topK?: number } | { ids: string[] };

export interface ClassScore {
  index: number;
  name: string;
  probability: number;
}

/** Feature-map geometry of a photo, to draw heatmaps and boxes on it. */
type GridInfo = Grid;

export interface ResultItem {
  id: string;
  /** 1-based. */
  rank: number;
  /** The score the results are sorted by: never increases down the list; scoreKind says what it is. */
  score: number;
  /**
   * 'cosine': query descriptor . photo descriptor; 'region': the best re-ranking region's cosine (it beat the photo's);
   * 'expanded': the QE query . photo descriptor; 'refined': SuperGlobal's score; 'diffusion': a diffusion score.
   */
  scoreKind: ScoreKind;
  /** Re-ranking: the 5 threshold boxes (pixels) and which scored best. */
  rerank?: { boxes: PixelRect[]; best: number; regionScores: number[] };
}

export interface SearchResponse {
  query: {
    key: string;
    width: number;
    height: number;
    box: PixelRect;
    /** The box as the features see it: snapped to feature cells. */
    cellBox: PixelRect;
    /** Top-5 classes of the CROPPED query region. */
    classes: ClassScore[];
    grid: GridInfo;
  };
  controls: SearchControls;
  results: ResultItem[];
  /** Indexed photos searched (those in `within`, when given). */
  searched: number;
  /** Where this page starts in the ranking, and the ranking's length (after minScore and `within`). */
  offset: number;
  total: number;
  /** Where the query's maps and box classes came from: a forward pass, or the photo's stored maps (no network). */
  queryFrom: 'forward' | 'stored';
  /** Results left out by minScore (0 when none was given). */
  belowMinScore: number;
  timings: { networkMs: number; searchMs: number; totalMs: number };
}

export type HeatmapTarget = { kind: 'query' } | { kind: 'photo'; id: string };

export interface Heatmap {
  target: HeatmapTarget;
  classIndex: number;
  grid: GridInfo;
  /** H x W, row-major, normalised CAM (0..1). */
  values: Float32Array;
}

/** A model to load: files the user chose (model.json, weight files, optional labels.json), or a model.json URL. */
export type CustomModelSource = { kind: 'files'; files: File[] } | { kind: 'url'; url: string };

export interface CustomModelOptions {
  /** Shown in the model menu; default: from the file or URL. */
  name?: string;
  /** Input scaling the network was trained with: 'inception' = RGB to [-1, 1]; 'caffe' = BGR minus the ImageNet mean. */
  preprocessing: 'inception' | 'caffe';
}

/** The model as kept (labels 'numbered' when no labels.json was given). */
export interface CustomModelResult extends Pick<CustomModelRecord, 'featureLayer' | 'classifierLayer' | 'channels' | 'classes' | 'stride' | 'labels'> {
  model: ModelChoice;
}

/** An exported index (a NumPy .npz file, src/index/exportFormat.ts) and what it holds. */
export interface IndexExport {
  file: Blob;
  /** Suggested file name, e.g. cw-index-resnet50-512-2026-11-28.npz */
  fileName: string;
  photos: number;
}

/** What importing an exported index did. */
export interface IndexImportReport {
  /** New photos, added already indexed (no network run). */
  added: number;
  /** Photos already in the collection that gained their descriptor from the file. */
  indexed: number;
  /** Already in the collection and indexed: left as they were. */
  duplicates: number;
  /** Photos of the file that could not be added, with the reason. */
  problems: FileProblem[];
}

/**
 * What the worker exposes (through comlink). Every method checks its arguments and refuses wrong ones with an Error
 * that says which and why (unknown fields of an object are ignored); every call made while start() runs waits for it.
 */
export interface EngineApi extends CollectionToolsApi {
  /** Opens the collection, starts the backend; returns the collection and resumes an interrupted import. */
  start(options: StartOptions, onEvent: (event: EngineEvent) => void): Promise<{ info: EngineInfo; photos: PhotoItem[]; progress: IndexProgress }>;
  /** Reads files in (dedupe, thumbnails, stored copy) and queues them; resolves when all are read in. */
  importFiles(files: ImportFile[]): Promise<void>;
  cancelIndexing(): Promise<void>;
  resumeIndexing(): Promise<void>;
  /** Removes the photos that are not indexed yet (after a cancel). */
  removeUnindexed(): Promise<void>;
  clearCollection(): Promise<void>;
  /**
   * The indexed photos as one .npz file (descriptors, probabilities, maps, ids, names, model and parameters;
   * with `photos`, also each stored copy and thumbnail so it can be imported elsewhere).
   */
  exportIndex(options: { photos: boolean }): Promise<IndexExport>;
  /** Adds the photos of an exported index, already indexed; the model and input size must be the current ones. */
  importIndex(file: Blob): Promise<IndexImportReport>;
  /** Switches model: the collection is re-indexed with it. */
  setModel(model: string): Promise<EngineInfo>;
  /** The photo to show (the original, a copy, or its thumbnail); photoFile says which, and why. */
  photoBlob(id: string): Promise<Blob>;
  photoFile(id: string): Promise<PhotoFile>;
  /** Thumbnails of these photos (null where a photo is gone), read in one transaction. */
  thumbnails(ids: string[]): Promise<(Blob | null)[]>;
  /**
   * The same as object URLs made in the worker (what the grid shows: the page's main thread then makes none), each
   * valid until releaseThumbnailUrls or the worker ends.
   */
  thumbnailUrls(ids: string[]): Promise<(string | null)[]>;
  releaseThumbnailUrls(urls: string[]): Promise<void>;
  /** What to keep of photos added from now on (persisted). */
  setStorageMode(mode: StorageMode): Promise<EngineInfo>;
  /** What the collection takes, per photo and in all (measured). */
  storageReport(): Promise<StorageReport>;
  /** Folders and files linked on disk, with their permission state (the page asks again from a click). */
  linkedFolders(): Promise<LinkedFolder[]>;
  /** The page asked for permission again: photos waiting for it are indexed (the queue resumes). */
  foldersGranted(): Promise<void>;
  photoClasses(id: string): Promise<ClassScore[]>;
  /** Decodes the query image (no network yet). */
  openQuery(source: QuerySource): Promise<QueryImage>;
  search(request: SearchRequest): Promise<SearchResponse>;
  heatmaps(targets: HeatmapTarget[], classIndex: number): Promise<Heatmap[]>;
  /** Loads the current model again after it failed (a missing or broken file fixed meanwhile). */
  retryModel(): Promise<void>;
  /** Validates a model (GAP + one linear classifier) and keeps it; does not switch to it (setModel does). */
  addCustomModel(source: CustomModelSource, options: CustomModelOptions): Promise<CustomModelResult>;
}
