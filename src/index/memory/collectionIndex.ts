/**
 * The indexed collection as the search sees it, kept in the worker's memory: each photo's id, OfA descriptor, grid
 * and NC packed in typed arrays (./indexRows.ts; no object per photo, no class probabilities: those stay in
 * IndexedDB until an NC change needs them), OfA descriptors for other NCs (recomputed from the stored maps and
 * probabilities, cached), and a bounded LRU cache of encoded maps in front of IndexedDB (never the whole
 * collection's maps in memory).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../db';
import { decodeMaps, type EncodedMaps } from '../mapCodec';
import { BLOCK_ROWS, mapsBytesOf, type BlockRows } from '../blocks';
import type { FeatureRecord } from '../schema';
import { BlockedDescriptors } from '../../search/descriptorBlocks';
import { describeImages, preferredBatchSize, type Grid } from '../../search/cwForWorker';
import type { Collection, DescriptorBlocks } from '../../search/types';
import { IndexRows, type IndexRow } from './indexRows';

/**
 * Encoded maps kept in memory: 128 MiB is ~3,300 photos of MobileNet v1 0.75 or ~1,400 of ResNet-50 at long side
 * 512 (uint8-sparse), enough for an online-aggregation shortlist and re-ranking without reading them twice.
 */
const MAPS_BUDGET_BYTES = 128 * 1024 * 1024;

export class MapsCache {
  private entries = new Map<string, EncodedMaps>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  get(id: string): EncodedMaps | undefined {
    const m = this.entries.get(id);
    if (m) {
      this.entries.delete(id);
      this.entries.set(id, m);
    }
    return m;
  }

  set(id: string, maps: EncodedMaps): void {
    this.delete(id);
    if (maps.data.byteLength > this.budget) return;
    this.entries.set(id, maps);
    this.bytes += maps.data.byteLength;
    for (const [oldest, m] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(oldest);
      this.bytes -= m.data.byteLength;
    }
  }

  delete(id: string): void {
    const m = this.entries.get(id);
    if (m) {
      this.entries.delete(id);
      this.bytes -= m.data.byteLength;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

export class CollectionIndex {
  private rows = new IndexRows();
  /** Photos whose row is in no stored descriptor block yet (indexed since, or read from their features record). */
  private unpacked = new Set<string>();
  /** OfA descriptors for an NC other than the stored one: nc -> id -> descriptor. */
  private recomputed = new Map<number, Map<string, Float32Array>>();
  /** OfA descriptors resident on the backend for one NC, transposed in column blocks. */
  private resident: { nc: number; blocks: BlockedDescriptors } | null = null;
  /** Position of the first photo whose resident descriptor is out of date (appended, moved, or never built). */
  private staleFrom = 0;
  private readonly mapsCache = new MapsCache(MAPS_BUDGET_BYTES);
  /** Bumped by every change of the indexed photos (a kept search ranking is valid for one version). */
  version = 0;

  constructor(private readonly store: CollectionStore) {}

  get size(): number {
    return this.rows.size;
  }

  /** Ids in position order (the search's image indices). Do not change the array. */
  get ids(): readonly string[] {
    return this.rows.idList;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** A photo's row (views into the index's arrays: read, do not keep). */
  record(id: string): IndexRow | undefined {
    const i = this.rows.indexOf(id);
    return i < 0 ? undefined : this.rows.at(i);
  }

  /** Class probabilities of photos, from their stored feature records (not held in memory). */
  async probabilities(ids: readonly string[]): Promise<(Float32Array | undefined)[]> {
    return (await this.store.getFeatures(ids)).map((f) => f?.probabilities);
  }

  /** Sum of the indexed photos' stored maps sizes, bytes. */
  get mapsBytes(): number {
    return this.rows.totalMapsBytes();
  }

  /** Photos not in a stored descriptor block yet. */
  get unpackedCount(): number {
    return this.unpacked.size;
  }

  /**
   * Replaces everything (start-up, model switch, clear): the rows of stored descriptor blocks (kept as they are),
   * then photos from their feature records (not packed yet).
   */
  reset(records: readonly FeatureRecord[], blocks: readonly BlockRows[] = []): void {
    this.version++;
    this.rows.clear();
    this.unpacked.clear();
    for (const b of blocks) this.rows.appendBlock(b);
    for (const r of records) if (!this.rows.has(r.id)) this.push(r);
    this.recomputed.clear();
    this.mapsCache.clear();
    this.dropResident();
  }

  /** A newly indexed photo (appended: the queue runs in import order). Its maps, when given, go to the cache. */
  add(record: FeatureRecord, maps?: EncodedMaps): void {
    if (this.rows.has(record.id)) this.remove([record.id]);
    this.version++;
    this.staleFrom = Math.min(this.staleFrom, this.rows.size);
    this.push(record);
    if (maps) this.mapsCache.set(record.id, maps);
  }

  /** Rows already written in a stored block (an imported batch). Photos held already are left out. */
  addBlock(block: BlockRows): void {
    this.version++;
    this.staleFrom = Math.min(this.staleFrom, this.rows.size);
    this.rows.appendBlock(block);
  }

  /**
   * Photos put back (undo of a deletion), each where it was: `order` lists photo ids in import order (the restored
   * ones and the indexed ones among them; others are ignored). The restored rows are unpacked: their stored block
   * rows were retired when they were deleted, so they are packed again like newly indexed photos.
   */
  restore(records: readonly FeatureRecord[], order: readonly string[], maps?: ReadonlyMap<string, EncodedMaps>): void {
    const restored = new Map(records.map((r) => [r.id, r]));
    const old = this.rows;
    const next = new IndexRows();
    let first = -1;
    const place = (id: string) => {
      if (next.has(id)) return;
      const r = restored.get(id);
      if (r) {
        if (first < 0) first = next.size;
        next.push(r.id, r.descriptor, r.grid, r.nc, mapsBytesOf(r));
        this.unpacked.add(r.id);
        return;
      }
      const i = old.indexOf(id);
      if (i < 0) return;
      const row = old.at(i);
      next.push(row.id, row.descriptor, row.grid, row.nc, row.mapsBytes);
    };
    for (const id of order) place(id);
    // Rows missing from `order` (not expected) stay, at the end.
    for (const id of old.idList) place(id);
    for (const r of records) place(r.id);
    if (first < 0) return;
    this.version++;
    this.staleFrom = Math.min(this.staleFrom, first);
    this.rows = next;
    for (const [id, m] of maps ?? []) this.mapsCache.set(id, m);
  }

  private push(r: FeatureRecord): void {
    this.rows.push(r.id, r.descriptor, r.grid, r.nc, mapsBytesOf(r));
    this.unpacked.add(r.id);
  }

  remove(ids: readonly string[]): void {
    const gone = new Set(ids);
    this.version++;
    // Photos after the first removed one move up: their resident blocks are rebuilt.
    this.staleFrom = Math.min(this.staleFrom, this.rows.remove(gone));
    for (const id of ids) {
      this.unpacked.delete(id);
      this.mapsCache.delete(id);
      for (const m of this.recomputed.values()) m.delete(id);
    }
  }

  /**
   * Writes the unpacked photos' rows into stored blocks of BLOCK_ROWS (in position order), so the next start-up
   * reads them as blocks; with `all`, a last partial block too. Returns how many photos were packed.
   */
  async pack(modelKey: string, all = false): Promise<number> {
    let packed = 0;
    while (this.unpacked.size >= BLOCK_ROWS || (all && this.unpacked.size)) {
      const positions = [...this.unpacked].slice(0, BLOCK_ROWS).map((id) => this.rows.indexOf(id)).sort((a, b) => a - b);
      const rows = this.rows.rowsAt(positions, modelKey);
      await this.store.packBlock(rows);
      for (const id of rows.ids) this.unpacked.delete(id);
      packed += rows.ids.length;
    }
    return packed;
  }

  dispose(): void {
    this.reset([]);
  }

  /** Drops the tensors held on the backend (the backend is being replaced, e.g. after a lost GPU device). */
  releaseTensors(): void {
    try {
      this.dropResident();
    } catch {
      this.resident = null;
      this.staleFrom = 0;
    }
  }

  private dropResident(): void {
    const r = this.resident;
    this.resident = null;
    this.staleFrom = 0;
    r?.blocks.dispose();
  }

  /** Encoded maps of photos (memory cache, else one IndexedDB transaction). */
  async encodedMaps(ids: readonly string[]): Promise<EncodedMaps[]> {
    const out: (EncodedMaps | undefined)[] = ids.map((id) => this.mapsCache.get(id));
    const missing = ids.filter((_, i) => !out[i]);
    if (missing.length) {
      const fetched = await this.store.getMaps(missing);
      const byId = new Map<string, EncodedMaps>();
      fetched.forEach((r, i) => {
        if (r) {
          byId.set(missing[i], r.maps);
          this.mapsCache.set(missing[i], r.maps);
        }
      });
      ids.forEach((id, i) => (out[i] ??= byId.get(id)));
    }
    return out.map((m, i) => {
      if (!m) throw new Error(`the feature maps of photo ${ids[i].slice(0, 12)} are missing from storage`);
      return m;
    });
  }

  /**
   * Feature maps X [H, W, K] of the photos at these positions (the caller disposes them): only these photos' maps
   * are read from IndexedDB, through the bounded cache, so a shortlist of M photos costs M reads at most.
   */
  async maps(indices: readonly number[]): Promise<tf.Tensor3D[]> {
    const encoded = await this.encodedMaps(indices.map((i) => this.rows.idList[i]));
    return encoded.map((e) => tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]));
  }

  /**
   * OfA descriptors for `nc` classes per photo, resident on the backend as transposed column blocks: the stored
   * ones when they were computed with this NC, else recomputed from the maps and the stored probabilities (read
   * from IndexedDB a chunk at a time, and remembered). Photos added since the last call rebuild only the last
   * block. Owned by the index: do not dispose.
   */
  async offlineDescriptors(nc: number, w: tf.Tensor2D): Promise<DescriptorBlocks> {
    const cache = this.recomputed.get(nc) ?? new Map<string, Float32Array>();
    this.recomputed.set(nc, cache);
    const ids = this.rows.idList;
    const other = this.rows.positionsWithout(nc);
    const need = other.filter((i) => !cache.has(ids[i]));
    const chunk = preferredBatchSize();
    for (let s = 0; s < need.length; s += chunk) {
      const part = need.slice(s, s + chunk);
      const partIds = part.map((i) => ids[i]);
      const features = await this.store.getFeatures(partIds);
      const probabilities = features.map((f, b) => {
        if (!f) throw new Error(`the features of photo ${partIds[b].slice(0, 12)} are missing from storage`);
        return f.probabilities;
      });
      const maps = await this.maps(part);
      try {
        const { values, D } = await describeImages(maps, w, probabilities, nc);
        partIds.forEach((id, b) => cache.set(id, values.slice(b * D, (b + 1) * D)));
      } finally {
        tf.dispose(maps);
      }
    }
    const own = new Set(other);
    return this.residentBlocks(nc, (i) => (own.has(i) ? cache.get(ids[i])! : this.rows.descriptorAt(i)));
  }

  /**
   * Builds (or brings up to date) the resident blocks for the NC last searched (else `defaultNc`) and runs one
   * throw-away query on the new ones, so that the next search does not pay XNNPACK's packing. For idle time;
   * skipped when the descriptors for that NC would first have to be recomputed from the maps.
   */
  async warmUp(defaultNc: number): Promise<void> {
    if (!this.rows.size) return;
    const nc = this.resident?.nc ?? defaultNc;
    const cache = this.recomputed.get(nc);
    const ids = this.rows.idList;
    const other = this.rows.positionsWithout(nc);
    if (other.some((i) => !cache?.has(ids[i]))) return;
    const own = new Set(other);
    const blocks = this.residentBlocks(nc, (i) => (own.has(i) ? cache!.get(ids[i])! : this.rows.descriptorAt(i)));
    await blocks.warmUp();
  }

  private residentBlocks(nc: number, descriptorAt: (i: number) => ArrayLike<number>): BlockedDescriptors {
    if (this.resident?.nc !== nc) {
      this.dropResident();
      this.resident = { nc, blocks: new BlockedDescriptors() };
    }
    const n = this.rows.size;
    this.resident.blocks.sync(n, n ? this.rows.D : 0, descriptorAt, this.staleFrom);
    this.staleFrom = n;
    return this.resident.blocks;
  }

  /** The collection for src/search: offline descriptors when given, maps on demand (grids built when first read). */
  collection(offlineDescriptors: DescriptorBlocks | null): Collection {
    const rows = this.rows;
    let grids: Grid[] | null = null;
    return {
      size: rows.size,
      get grids() {
        return (grids ??= Array.from({ length: rows.size }, (_, i) => rows.gridAt(i)));
      },
      offlineDescriptors,
      maps: (indices) => this.maps(indices),
    };
  }
}
