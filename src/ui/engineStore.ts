/**
 * The page's view of the worker: collection, indexing progress, model status, problems. An external store
 * (useSyncExternalStore) fed by the worker's events. Photo events are applied in batches (one new list per batch,
 * not per photo: an import of 50,000 photos is not quadratic), and thumbnails are fetched for the tiles shown, as
 * object URLs the worker makes (thumbnails.ts).
 */
import { useSyncExternalStore } from 'react';
import type { EngineEvent, EngineInfo, FileProblem, GroupingProgress, ImportFile, IndexProgress, ModelStatus, PhotoItem, StartOptions, StorageMode } from '../worker-api/api';
import { createEngineClient, type EngineClient } from '../worker-api/client';
import { errorMessage } from './format';
import { setThumbnailSource, type ThumbnailCache } from './thumbnails';

export type Photo = PhotoItem;

/** Photo events arriving within this many ms are applied together. */
const PHOTO_BATCH_MS = 50;

type PhotoEvent = Extract<EngineEvent, { type: 'photos-added' | 'photos-indexed' | 'photos-removed' | 'photos-reset' }>;

export interface Notice {
  id: number;
  /** info: goes away by itself after a few seconds; warning and error stay until dismissed. */
  level: 'info' | 'warning' | 'error';
  text: string;
}

export interface EngineState {
  phase: 'starting' | 'ready' | 'failed';
  info: EngineInfo | null;
  /** Every photo, in import order. */
  photos: Photo[];
  /** The same photos by id. */
  photoIndex: ReadonlyMap<string, Photo>;
  /** How many of them are indexed. */
  indexedCount: number;
  progress: IndexProgress;
  model: ModelStatus;
  problems: FileProblem[];
  notices: Notice[];
  fatal: string | null;
  /** The browser storage ran out (the worker's message); cleared when a photo is stored again, or dismissed. */
  storageFull: string | null;
  /** The neighbour graph behind near-duplicates and groups ('grouping' events). */
  grouping: GroupingProgress;
}

const IDLE: IndexProgress = { state: 'idle', done: 0, total: 0, current: null, imagesPerSecond: null, medianMs: null, etaSeconds: null, reading: 0 };

export class EngineStore {
  private state: EngineState = {
    phase: 'starting',
    info: null,
    photos: [],
    photoIndex: new Map(),
    indexedCount: 0,
    progress: IDLE,
    model: { state: 'idle' },
    problems: [],
    notices: [],
    fatal: null,
    storageFull: null,
    grouping: { state: 'idle', done: 0, total: 0 },
  };
  private photoEvents: PhotoEvent[] = [];
  private photoTimer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<() => void>();
  private client: EngineClient;
  private noticeId = 0;
  readonly api: EngineClient['api'];
  /** The worker's debug tools: with ?debug=1 only (window.cwApp.debug), else null. */
  readonly debug: EngineClient['debug'];
  /** Thumbnails fetched as tiles show them (thumbnails.ts). */
  readonly thumbs: ThumbnailCache;

  constructor({ debug = false, ...options }: StartOptions & { debug?: boolean }) {
    this.client = createEngineClient({ debug });
    this.api = this.client.api;
    this.debug = this.client.debug;
    this.thumbs = setThumbnailSource(
      (ids) => this.api.thumbnailUrls(ids),
      (urls) => void this.api.releaseThumbnailUrls(urls).catch(() => undefined),
    );
    this.client.onCrash((message) => this.set({ phase: 'failed', fatal: `The search worker stopped: ${message}` }));
    // Photo lists come without thumbnails: opening 50,000 photos reads none; the grid asks for those it shows.
    this.api
      .start({ ...options, thumbnails: 'on-demand' }, this.client.listen((e) => this.onEvent(e)))
      .then(({ info, photos, progress }) => {
        this.set({ phase: 'ready', info, progress, ...photoState(new Map(photos.map((p) => [p.id, p]))) });
      })
      .catch((e: unknown) => this.set({ phase: 'failed', fatal: `The app could not start: ${errorMessage(e)}` }));
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.state;

  private set(patch: Partial<EngineState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** Per-file messages from somewhere other than an import of photos (e.g. an imported index). */
  addProblems(problems: FileProblem[]): void {
    if (problems.length) this.set({ problems: [...this.state.problems, ...problems] });
  }

  notify(level: Notice['level'], text: string): void {
    const notice = { id: ++this.noticeId, level, text };
    this.set({ notices: [...this.state.notices, notice].slice(-5) });
    if (level === 'info') setTimeout(() => this.dismiss(notice.id), 6000);
  }

  dismiss(id: number): void {
    this.set({ notices: this.state.notices.filter((n) => n.id !== id) });
  }

  clearProblems(): void {
    this.set({ problems: [] });
  }

  dismissStorageFull(): void {
    this.set({ storageFull: null });
  }

  private onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'photos-added':
      case 'photos-indexed':
      case 'photos-removed':
      case 'photos-reset':
        this.photoEvents.push(e);
        this.photoTimer ??= setTimeout(() => this.applyPhotoEvents(), PHOTO_BATCH_MS);
        break;
      case 'grouping':
        this.set({ grouping: e.progress });
        break;
      case 'progress':
        this.set({ progress: e.progress });
        break;
      case 'model':
        this.set({ model: e.status, ...(e.info ? { info: e.info } : {}) });
        break;
      case 'file-problems':
        this.set({ problems: [...this.state.problems, ...e.problems] });
        break;
      case 'skipped': {
        const parts = [];
        if (e.duplicates) parts.push(`${e.duplicates} already in the collection`);
        if (e.notImages) parts.push(`${e.notImages} not ${e.notImages === 1 ? 'an image' : 'images'}`);
        this.notify('info', `Skipped ${parts.join(' and ')}.`);
        break;
      }
      case 'error':
        this.notify('error', e.message);
        break;
      case 'notice':
        this.notify(e.level, e.message);
        break;
      case 'info':
        this.set({ info: e.info });
        break;
      case 'storage-full':
        this.set({ storageFull: e.message });
        break;
      case 'fatal':
        this.set({ fatal: e.message });
        break;
    }
  }

  /** Applies the photo events of the last few ms, in order, as one new photo list. */
  private applyPhotoEvents(): void {
    this.photoTimer = null;
    const events = this.photoEvents.splice(0);
    let byId = new Map(this.state.photoIndex);
    const patch: Partial<EngineState> = {};
    for (const e of events) {
      if (e.type === 'photos-reset') {
        byId = new Map(e.photos.map((p) => [p.id, p]));
        patch.problems = [];
        this.thumbs.clear();
      } else if (e.type === 'photos-added') {
        const last = lastSeq(byId);
        for (const p of e.photos) if (!byId.has(p.id)) byId.set(p.id, p);
        // Photos restored by undoDelete go back to their place in the import order (new ones come last anyway).
        if (e.photos.some((p) => p.seq < last)) byId = new Map([...byId].sort(([, a], [, b]) => a.seq - b.seq));
        patch.storageFull = null;
      } else if (e.type === 'photos-indexed') {
        for (const id of e.ids) {
          const p = byId.get(id);
          if (p && !p.indexed) byId.set(id, { ...p, indexed: true });
        }
      } else {
        for (const id of e.ids) byId.delete(id);
      }
    }
    this.set({ ...patch, ...photoState(byId) });
  }

  importFiles(files: ImportFile[]): void {
    if (!files.length) return;
    // The worker holds calls made while it starts until the collection is open: say so, the grid shows nothing yet.
    if (this.state.phase === 'starting') this.notify('info', `Opening your collection: ${files.length === 1 ? 'the file is' : `the ${files.length} files are`} added as soon as it is open.`);
    this.api.importFiles(files).catch((e: unknown) => this.notify('error', `Import failed: ${errorMessage(e)}`));
  }

  async run<T>(what: string, action: (api: EngineClient['api']) => Promise<T>): Promise<T | undefined> {
    try {
      return await action(this.api);
    } catch (e) {
      this.notify('error', `${what} failed: ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** Loads the current model again (after it failed to load). */
  retryModel(): void {
    this.set({ model: { state: 'loading', bytes: 0 } });
    void this.run('Loading the model', (api) => api.retryModel());
  }

  async setStorageMode(mode: StorageMode): Promise<void> {
    const info = await this.run('Changing what is kept of photos', (api) => api.setStorageMode(mode));
    if (info) this.set({ info });
  }

  async setModel(model: string): Promise<void> {
    const info = await this.run('Switching model', (api) => api.setModel(model));
    if (info) this.set({ info });
  }
}

function lastSeq(byId: Map<string, Photo>): number {
  let last = -Infinity;
  for (const p of byId.values()) last = p.seq;
  return last;
}

/** The photo fields of the state, from the photos by id (in import order). */
function photoState(byId: Map<string, Photo>): Pick<EngineState, 'photos' | 'photoIndex' | 'indexedCount'> {
  const photos = [...byId.values()];
  return { photos, photoIndex: byId, indexedCount: photos.reduce((n, p) => n + (p.indexed ? 1 : 0), 0) };
}

let singleton: EngineStore | null = null;

/** One worker per page, created on first use (StrictMode's double effects do not start two). */
export function engineStore(options: StartOptions & { debug?: boolean }): EngineStore {
  return (singleton ??= new EngineStore(options));
}

export function useEngineState(store: EngineStore): EngineState {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

