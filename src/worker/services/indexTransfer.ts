/**
 * Index transfer: export and import of the collection's index as one NumPy .npz file (format:
 * src/index/exportFormat.ts), so a collection can move to another browser, or continue on a vector engine (FAISS,
 * Qdrant, numpy) when it outgrows one. An import adds photos already indexed: the network does not run again.
 */
import type { CollectionStore } from '../../index/db';
import { exportIndex, importIndex, type ExportedPhoto } from '../../index/exportFormat';
import type { FeatureRecord, ImageRecord, MapsRecord } from '../../index/schema';
import { modelKey, type IndexSettings } from '../../index/settings';
import type { ModelAdapter } from '../../model/adapters';
import type { FileProblem, IndexExport, IndexImportReport } from '../api';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Emit, Session, Settings } from './context';
import type { ModelRegistry } from './modelRegistry';
import type { TabSync } from './tabSync';

export interface IndexTransferDeps {
  store: CollectionStore;
  session: Session;
  settings: Settings;
  registry: ModelRegistry;
  state: CollectionState;
  tabs: TabSync;
  lock: Lock;
  emit: Emit;
  onProgress: () => void;
}

export class IndexTransfer {
  constructor(private readonly deps: IndexTransferDeps) {}

  async export(options: { photos: boolean }): Promise<IndexExport> {
    const settings = this.deps.settings.current;
    const { bytes, photos } = await buildExport(this.deps.store, settings, options.photos);
    const date = new Date().toISOString().slice(0, 10);
    const fileName = `cw-index-${settings.modelId}-${settings.longSide}${options.photos ? '' : '-vectors'}-${date}.npz`;
    return { file: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), fileName, photos };
  }

  async import(file: Blob): Promise<IndexImportReport> {
    const { store, session, settings, registry, state, tabs, lock, emit } = this.deps;
    session.assertOpen();
    const bytes = new Uint8Array(await file.arrayBuffer());
    const outcome = await readImport(store, settings.current, registry.adapter(settings.current.modelId), bytes);
    const entries = [...outcome.added, ...outcome.indexed];
    await lock.run(async () => entries.forEach(({ features, maps }) => state.index.add(features, maps.maps)));
    const addedIds = outcome.added.map((a) => a.features.id);
    const newImages = (await store.getImages(addedIds)).filter((r) => r !== undefined);
    for (const r of newImages) state.names.set(r.id, r.name);
    const done = new Set(entries.map((e) => e.features.id));
    state.dequeue(done);
    if (newImages.length) emit({ type: 'photos-added', photos: newImages.map((r) => state.photoItem(r)) });
    const indexedIds = outcome.indexed.map((e) => e.features.id);
    if (indexedIds.length) emit({ type: 'photos-indexed', ids: indexedIds });
    if (addedIds.length) tabs.broadcast({ type: 'added', ids: addedIds });
    if (done.size) tabs.broadcast({ type: 'indexed', ids: [...done] });
    if (outcome.storageFull) emit({ type: 'storage-full', message: outcome.storageFull });
    this.deps.onProgress();
    return outcome.report;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The indexed photos of the current model, in import order, as .npz bytes. */
export async function buildExport(store: CollectionStore, settings: IndexSettings, withPhotos: boolean): Promise<{ bytes: Uint8Array; photos: number }> {
  const key = modelKey(settings);
  const features = await store.listFeatures(key);
  const ids = features.map((f) => f.id);
  const [images, maps] = await Promise.all([store.getImages(ids), store.getMaps(ids)]);
  const photos: ExportedPhoto[] = [];
  for (const [i, f] of features.entries()) {
    const image = images[i];
    const m = maps[i];
    if (!image || !m || m.modelKey !== key) continue; // removed meanwhile
    const blob = withPhotos ? await store.getBlob(f.id) : undefined;
    photos.push({
      id: f.id,
      name: image.name,
      path: image.path,
      width: image.width,
      height: image.height,
      grid: f.grid,
      nc: f.nc,
      descriptor: f.descriptor,
      probabilities: f.probabilities,
      maps: m.maps,
      ...(blob && {
        photo: { bytes: new Uint8Array(await blob.arrayBuffer()), type: blob.type },
        thumb: { bytes: new Uint8Array(await image.thumb.arrayBuffer()), type: image.thumb.type || 'image/jpeg' },
      }),
      details: {
        addedAt: image.addedAt,
        originalBytes: image.originalBytes,
        originalType: image.originalType,
        originalWidth: image.originalWidth,
        originalHeight: image.originalHeight,
        stored: image.stored,
        thumbWidth: image.thumbWidth,
        thumbHeight: image.thumbHeight,
      },
    });
  }
  const bytes = exportIndex({ model: { id: settings.modelId, longSide: settings.longSide, nc: settings.nc, codec: settings.codec }, whitening: null, photos });
  return { bytes, photos: photos.length };
}

export interface ImportOutcome {
  report: IndexImportReport;
  /** Photos new to the collection (added indexed). */
  added: { features: FeatureRecord; maps: MapsRecord }[];
  /** Photos already in the collection that gained features and maps. */
  indexed: { features: FeatureRecord; maps: MapsRecord }[];
  /** The disk filled up: what was written before stays, the rest was not imported. */
  storageFull: string | null;
}

/**
 * Reads an exported index and writes its photos, each in one transaction (a photo is complete or absent, so an
 * interrupted import can simply be run again: what is there already counts as a duplicate).
 */
export async function readImport(store: CollectionStore, settings: IndexSettings, adapter: ModelAdapter, bytes: Uint8Array): Promise<ImportOutcome> {
  const parsed = importIndex(bytes);
  if (parsed.model.id !== settings.modelId || parsed.model.longSide !== settings.longSide) {
    throw new Error(
      `this index was made with the model ${parsed.model.id} at long side ${parsed.model.longSide}, but the collection uses ` +
        `${settings.modelId} at ${settings.longSide}: switch to that model and size first, then import again (descriptors of two models are never mixed)`,
    );
  }
  if (parsed.whitening) throw new Error('this index is whitened; the app keeps unwhitened descriptors and cannot use it');
  const key = modelKey(settings);
  const outcome: ImportOutcome = { report: { added: 0, indexed: 0, duplicates: 0, problems: [] }, added: [], indexed: [], storageFull: null };
  const problem = (p: ExportedPhoto, message: string, kind: FileProblem['kind'] = 'error') => outcome.report.problems.push({ name: p.name, path: p.path, message, kind });

  for (const p of parsed.photos) {
    const mismatch = checkPhoto(p, adapter);
    if (mismatch) {
      problem(p, mismatch);
      continue;
    }
    const features: FeatureRecord = {
      id: p.id,
      modelKey: key,
      grid: p.grid,
      probabilities: p.probabilities,
      descriptor: p.descriptor,
      nc: p.nc,
      backend: 'imported',
      ms: 0,
      indexedAt: Date.now(),
    };
    const maps: MapsRecord = { id: p.id, modelKey: key, maps: p.maps! };
    const d = p.details;
    const image: Omit<ImageRecord, 'seq'> | null = p.thumb
      ? {
          id: p.id,
          name: p.name,
          path: p.path,
          addedAt: d?.addedAt ?? Date.now(),
          width: p.width,
          height: p.height,
          originalBytes: d?.originalBytes ?? p.photo?.bytes.length ?? 0,
          originalType: d?.originalType ?? p.photo?.type ?? '',
          originalWidth: d?.originalWidth ?? p.width,
          originalHeight: d?.originalHeight ?? p.height,
          stored: d?.stored ?? 'original',
          thumb: new Blob([p.thumb.bytes as Uint8Array<ArrayBuffer>], { type: p.thumb.type }),
          thumbWidth: d?.thumbWidth ?? p.width,
          thumbHeight: d?.thumbHeight ?? p.height,
        }
      : null;
    try {
      if (!image || !p.photo) {
        // Vectors only (exported for a vector engine): usable for photos this collection already holds.
        if (!(await store.hasImage(p.id))) {
          problem(p, 'the file holds no copy of this photo (it was exported without photos)', 'skipped');
          continue;
        }
      }
      const blob = p.photo ? new Blob([p.photo.bytes as Uint8Array<ArrayBuffer>], { type: p.photo.type }) : null;
      const done = await store.addIndexedImage(image ?? placeholderImage(p), blob, features, maps);
      if (done === 'duplicate') outcome.report.duplicates++;
      else if (done === 'indexed') {
        outcome.report.indexed++;
        outcome.indexed.push({ features, maps });
      } else {
        outcome.report.added++;
        outcome.added.push({ features, maps });
      }
    } catch (e) {
      if (e instanceof Error && e.name === 'StorageFullError') {
        outcome.storageFull = e.message;
        problem(p, 'not imported: the browser storage for this site is full', 'storage');
        break;
      }
      problem(p, e instanceof Error ? e.message : String(e));
    }
  }
  return outcome;
}

/** Why a photo of the file cannot be used with this model (null when it can). */
function checkPhoto(p: ExportedPhoto, adapter: ModelAdapter): string | null {
  if (!SHA256_HEX.test(p.id)) return 'its id is not a SHA-256 content id';
  if (p.descriptor.length !== adapter.channels) return `its descriptor has ${p.descriptor.length} dimensions, the model gives ${adapter.channels}`;
  if (p.probabilities.length !== adapter.classes) return `it has ${p.probabilities.length} class probabilities, the model has ${adapter.classes} classes`;
  if (!p.descriptor.every(Number.isFinite) || !p.probabilities.every(Number.isFinite)) return 'its descriptor or probabilities are not finite numbers';
  if (!p.maps) return 'the file holds no feature maps for it (online aggregation and re-ranking need them)';
  const g = p.grid;
  if (p.maps.H !== g.H || p.maps.W !== g.W || p.maps.K !== adapter.channels) return `its feature maps (${p.maps.H}x${p.maps.W}x${p.maps.K}) do not match its grid and the model`;
  return null;
}

/** Only used for a photo that is already in the collection (its record is kept as it is). */
function placeholderImage(p: ExportedPhoto): Omit<ImageRecord, 'seq'> {
  return {
    id: p.id,
    name: p.name,
    path: p.path,
    addedAt: 0,
    width: p.width,
    height: p.height,
    originalBytes: 0,
    originalType: '',
    originalWidth: p.width,
    originalHeight: p.height,
    stored: 'original',
    thumb: new Blob([]),
    thumbWidth: 1,
    thumbHeight: 1,
  };
}
