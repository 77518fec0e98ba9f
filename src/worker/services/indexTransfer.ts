/**
 * Index transfer: export and import of the collection's index as one NumPy .npz file (format:
 * src/index/exportFormat.ts), so a collection can move to another browser, or continue on a vector engine (FAISS,
 * Qdrant, numpy) when it outgrows one. An import adds photos already indexed: the network does not run again. Both
 * stream: 50,000 photos go through in batches, never whole in memory.
 */
import { blockFromFeatures } from '../../index/blocks';
import type { CollectionStore, IndexedEntry, IndexedOutcome, SourceWrite } from '../../index/db';
import { readIndex, writeIndex, type ExportedPhoto, type IndexReader, type IndexSource, type PhotoMeta } from '../../index/exportFormat';
import type { FeatureRecord, ImageRecord, MapsRecord } from '../../index/schema';
import { modelKey, type IndexSettings } from '../../index/settings';
import type { ModelAdapter } from '../../model/adapters';
import type { FileProblem, IndexExport, IndexImportReport } from '../../worker-api/api';
import type { CollectionIndex } from '../../index/memory/collectionIndex';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Emit } from '../events';
import type { Session, Settings } from './session';
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
  /** Publishes the page's events, and 'progress-changed' after each batch imported. */
  emit: Emit;
}

/** Photos read, checked and written per transaction on import (fewer when their maps are large). */
const IMPORT_BATCH = 1024;
const IMPORT_BATCH_MAP_BYTES = 48 << 20;
/** Photos read per chunk on export. */
const EXPORT_CHUNK = 512;

export class IndexTransfer {
  constructor(private readonly deps: IndexTransferDeps) {}

  /** The indexed photos as one .npz Blob, streamed (never the whole file in this worker's memory). */
  async export(options: { photos: boolean }): Promise<IndexExport> {
    const settings = this.deps.settings.current;
    const source = exportSource(this.deps.store, this.deps.state.index, settings, this.deps.registry.adapter(settings.modelId).classes, options.photos);
    const file = await new Response(writeIndex(source)).blob();
    const date = new Date().toISOString().slice(0, 10);
    const fileName = `cw-index-${settings.modelId}-${settings.longSide}${options.photos ? '' : '-vectors'}-${date}.npz`;
    return { file: new Blob([file], { type: 'application/octet-stream' }), fileName, photos: source.count };
  }

  /**
   * Adds the photos of an exported index, a batch at a time: each batch is read from the file, checked and written
   * in one transaction with its descriptor block, then shown; the file is never read whole.
   */
  async import(file: Blob): Promise<IndexImportReport> {
    const { store, session, settings, registry, state, tabs, lock, emit } = this.deps;
    session.assertOpen();
    const reader = await readIndex(file);
    const current = settings.current;
    checkModel(reader, current);
    const adapter = registry.adapter(current.modelId);
    const key = modelKey(current);
    const report: IndexImportReport = { added: 0, indexed: 0, duplicates: 0, problems: [] };
    const problem = (p: Pick<PhotoMeta, 'name' | 'path'>, message: string, kind: FileProblem['kind'] = 'error') => report.problems.push({ name: p.name, path: p.path, message, kind });
    const seen = new Set<string>();
    const sparse = current.codec === 'uint8-sparse';
    for (let start = 0; start < reader.photos.length; ) {
      const end = batchEnd(reader, start);
      const batch = await reader.batch(start, end, sparse);
      start = end;
      const entries: IndexedEntry[] = [];
      for (const p of batch) {
        const mismatch = seen.has(p.id) ? 'the same photo appears twice in the file' : checkPhoto(p, adapter);
        seen.add(p.id);
        if (mismatch) problem(p, mismatch);
        else entries.push(entryOf(p, key));
      }
      if (!entries.length) continue;
      let outcomes: IndexedOutcome[];
      try {
        outcomes = await store.addIndexedImages(entries, blockFromFeatures(entries.map((e) => e.features), key));
      } catch (e) {
        if (e instanceof Error && e.name === 'StorageFullError') {
          for (const p of [...entries.map((x) => x.image), ...reader.photos.slice(start)]) problem(p, 'not imported: the browser storage for this site is full', 'storage');
          emit({ type: 'storage-full', message: e.message });
          break;
        }
        throw e;
      }
      const written = entries.filter((_, i) => outcomes[i] === 'added' || outcomes[i] === 'indexed');
      await lock.run(async () => state.index.addBlock(blockFromFeatures(written.map((e) => e.features), key)));
      const added = entries.filter((_, i) => outcomes[i] === 'added');
      const indexedIds = entries.filter((_, i) => outcomes[i] === 'indexed').map((e) => e.image.id);
      outcomes.forEach((o, i) => {
        if (o === 'duplicate') report.duplicates++;
        else if (o === 'no-photo') problem(entries[i].image, 'the file holds no thumbnail or copy of this photo (it was exported without photos)', 'skipped');
      });
      report.added += added.length;
      report.indexed += indexedIds.length;
      const newImages = (await store.getImages(added.map((e) => e.image.id))).filter((r) => r !== undefined);
      for (const r of newImages) state.names.set(r.id, r.name);
      state.dequeue(written.map((e) => e.image.id));
      if (newImages.length) emit({ type: 'photos-added', photos: newImages.map((r) => state.photoItem(r)) });
      if (indexedIds.length) emit({ type: 'photos-indexed', ids: indexedIds });
      if (added.length) tabs.broadcast({ type: 'added', ids: added.map((e) => e.image.id) });
      if (written.length) tabs.broadcast({ type: 'indexed', ids: written.map((e) => e.image.id) });
      emit({ type: 'progress-changed' });
    }
    return report;
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The end of the import batch starting at `start`: at most IMPORT_BATCH photos and about IMPORT_BATCH_MAP_BYTES of maps. */
function batchEnd(reader: IndexReader, start: number): number {
  let bytes = 0;
  let end = start;
  while (end < reader.photos.length && end - start < IMPORT_BATCH) {
    bytes += reader.photos[end].maps?.length ?? 0;
    if (end > start && bytes > IMPORT_BATCH_MAP_BYTES) break;
    end++;
  }
  return end;
}

function checkModel(reader: IndexReader, settings: IndexSettings): void {
  if (reader.model.id !== settings.modelId || reader.model.longSide !== settings.longSide) {
    throw new Error(
      `this index was made with the model ${reader.model.id} at long side ${reader.model.longSide}, but the collection uses ` +
        `${settings.modelId} at ${settings.longSide}: switch to that model and size first, then import again (descriptors of two models are never mixed)`,
    );
  }
  if (reader.whitened) throw new Error('this index is whitened; the app keeps unwhitened descriptors and cannot use it');
}

/** The records of one imported photo. */
function entryOf(p: ExportedPhoto, key: string): IndexedEntry {
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
    mapsBytes: p.maps!.data.byteLength,
  };
  const maps: MapsRecord = { id: p.id, modelKey: key, maps: p.maps! };
  const d = p.details;
  // Photos linked on disk elsewhere cannot be linked here: they come as their copy, or as their thumbnail only.
  const source = p.photo ? 'copy' : 'none';
  const image: Omit<ImageRecord, 'seq'> = {
    id: p.id,
    name: p.name,
    path: p.path,
    addedAt: d?.addedAt ?? Date.now(),
    width: p.width,
    height: p.height,
    originalBytes: d?.originalBytes ?? p.photo?.size ?? 0,
    originalType: d?.originalType ?? p.photo?.type ?? '',
    originalWidth: d?.originalWidth ?? p.width,
    originalHeight: d?.originalHeight ?? p.height,
    stored: d?.stored ?? 'original',
    source,
    thumb: p.thumb ?? new Blob([]),
    thumbWidth: d?.thumbWidth ?? p.width,
    thumbHeight: d?.thumbHeight ?? p.height,
  };
  // A photo with neither a thumbnail nor a copy (vectors only) can only index one the collection already holds.
  const where: SourceWrite | null = p.photo ? { blob: p.photo } : p.thumb ? { none: true } : null;
  return { image, source: where, features, maps };
}

/** What the export reads: rows from the index in memory, records from IndexedDB a chunk at a time. */
function exportSource(store: CollectionStore, index: CollectionIndex, settings: IndexSettings, C: number, withPhotos: boolean): IndexSource {
  const ids = [...index.ids];
  const rows = ids.map((id) => index.record(id)!);
  const chunks = <T>(read: (part: string[], start: number) => Promise<T>) =>
    (async function* () {
      for (let s = 0; s < ids.length; s += EXPORT_CHUNK) yield read(ids.slice(s, s + EXPORT_CHUNK), s);
    })();
  const missing = (what: string, id: string) => new Error(`the ${what} of photo ${id.slice(0, 12)} are missing (the collection changed during the export: export again)`);
  return {
    model: { id: settings.modelId, longSide: settings.longSide, nc: settings.nc, codec: settings.codec },
    count: ids.length,
    D: index.size ? rows[0].descriptor.length : 0,
    C,
    mapsBytes: (i) => rows[i].mapsBytes,
    descriptors: () =>
      chunks(async (part, start) => {
        const D = rows[0].descriptor.length;
        const out = new Float32Array(part.length * D);
        part.forEach((_, i) => out.set(rows[start + i].descriptor, i * D));
        return out;
      }),
    probabilities: () =>
      chunks(async (part) => {
        const features = await store.getFeatures(part);
        const out = new Float32Array(part.length * C);
        features.forEach((f, i) => {
          if (!f) throw missing('features', part[i]);
          out.set(f.probabilities, i * C);
        });
        return out;
      }),
    maps: () =>
      chunks(async (part) =>
        (await store.getMaps(part)).map((m, i) => {
          if (!m) throw missing('maps', part[i]);
          return m.maps;
        }),
      ),
    photos: () =>
      chunks(async (part, start) => {
        const [images, sources] = await Promise.all([store.getImages(part), withPhotos ? store.getSources(part) : Promise.resolve([])]);
        return images.map((image, i) => {
          if (!image) throw missing('record', part[i]);
          const row = rows[start + i];
          const source = sources[i];
          const { addedAt, originalBytes, originalType, originalWidth, originalHeight, stored, thumbWidth, thumbHeight } = image;
          return {
            id: image.id,
            name: image.name,
            path: image.path,
            width: image.width,
            height: image.height,
            grid: row.grid,
            nc: row.nc,
            details: { addedAt, originalBytes, originalType, originalWidth, originalHeight, stored, thumbWidth, thumbHeight, source: image.source ?? 'copy' },
            ...(withPhotos ? { thumb: image.thumb } : {}),
            ...(source && 'blob' in source && !source.temporary ? { photo: source.blob } : {}),
          };
        });
      }),
  };
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

