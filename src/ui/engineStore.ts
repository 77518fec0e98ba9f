/**
 * The page's view of the worker: collection, indexing progress, model status, problems. An external store
 * (useSyncExternalStore) fed by the worker's events; thumbnails become object URLs here, revoked when removed.
 */
import { useSyncExternalStore } from 'react';
import type { EngineApi, EngineEvent, EngineInfo, FileProblem, ImportFile, IndexProgress, ModelStatus, PhotoItem, StartOptions } from '../worker/api';
import { createEngineClient, type EngineClient } from '../worker/client';

export interface Photo extends PhotoItem {
  thumbUrl: string;
}

export interface Notice {
  id: number;
  /** info: goes away by itself after a few seconds; warning and error stay until dismissed. */
  level: 'info' | 'warning' | 'error';
  text: string;
}

export interface EngineState {
  phase: 'starting' | 'ready' | 'failed';
  info: EngineInfo | null;
  photos: Photo[];
  progress: IndexProgress;
  model: ModelStatus;
  problems: FileProblem[];
  notices: Notice[];
  fatal: string | null;
  /** The browser storage ran out (the worker's message); cleared when a photo is stored again, or dismissed. */
  storageFull: string | null;
}

const IDLE: IndexProgress = { state: 'idle', done: 0, total: 0, current: null, imagesPerSecond: null, medianMs: null, etaSeconds: null, reading: 0 };

export class EngineStore {
  private state: EngineState = { phase: 'starting', info: null, photos: [], progress: IDLE, model: { state: 'idle' }, problems: [], notices: [], fatal: null, storageFull: null };
  private listeners = new Set<() => void>();
  private client: EngineClient;
  private noticeId = 0;
  readonly api: EngineClient['api'];

  constructor(options: StartOptions) {
    this.client = createEngineClient();
    this.api = this.client.api;
    this.client.onCrash((message) => this.set({ phase: 'failed', fatal: `The search worker stopped: ${message}` }));
    this.api
      .start(options, this.client.listen((e) => this.onEvent(e)))
      .then(({ info, photos, progress }) => {
        this.set({ phase: 'ready', info, photos: photos.map(withUrl), progress });
      })
      .catch((e: unknown) => this.set({ phase: 'failed', fatal: `The app could not start: ${e instanceof Error ? e.message : String(e)}` }));
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
    const photos = this.state.photos;
    switch (e.type) {
      case 'photos-added': {
        const known = new Set(photos.map((p) => p.id));
        this.set({ photos: [...photos, ...e.photos.filter((p) => !known.has(p.id)).map(withUrl)], storageFull: null });
        break;
      }
      case 'photos-indexed': {
        const ids = new Set(e.ids);
        this.set({ photos: photos.map((p) => (ids.has(p.id) ? { ...p, indexed: true } : p)) });
        break;
      }
      case 'photos-removed': {
        const ids = new Set(e.ids);
        photos.filter((p) => ids.has(p.id)).forEach((p) => URL.revokeObjectURL(p.thumbUrl));
        this.set({ photos: photos.filter((p) => !ids.has(p.id)) });
        break;
      }
      case 'photos-reset':
        photos.forEach((p) => URL.revokeObjectURL(p.thumbUrl));
        this.set({ photos: e.photos.map(withUrl), problems: [] });
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

  importFiles(files: ImportFile[]): void {
    if (!files.length) return;
    this.api.importFiles(files).catch((e: unknown) => this.notify('error', `Import failed: ${message(e)}`));
  }

  async run<T>(what: string, action: (api: EngineClient['api']) => Promise<T>): Promise<T | undefined> {
    try {
      return await action(this.api);
    } catch (e) {
      this.notify('error', `${what} failed: ${message(e)}`);
      return undefined;
    }
  }

  /** Loads the current model again (after it failed to load). */
  retryModel(): void {
    this.set({ model: { state: 'loading', bytes: 0 } });
    void this.run('Loading the model', (api) => api.retryModel());
  }

  async setModel(model: string): Promise<void> {
    const info = await this.run('Switching model', (api) => api.setModel(model));
    if (info) this.set({ info });
  }
}

// This page starts the worker with thumbnails 'with-photos' (the default): every photo comes with its thumbnail.
const withUrl = (p: PhotoItem): Photo => ({ ...p, thumbUrl: URL.createObjectURL(p.thumb ?? new Blob()) });
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

let singleton: EngineStore | null = null;

/** One worker per page, created on first use (StrictMode's double effects do not start two). */
export function engineStore(options: StartOptions): EngineStore {
  return (singleton ??= new EngineStore(options));
}

export function useEngineState(store: EngineStore): EngineState {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

export type { EngineApi };
