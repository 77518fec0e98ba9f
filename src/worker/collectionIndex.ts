/**
 * The indexed collection as the search sees it, kept in the worker's memory: feature records (grid, class
 * probabilities, stored OfA descriptor) in import order, OfA descriptors for other NCs (recomputed from the stored
 * maps and probabilities, cached), and an LRU cache of encoded maps in front of IndexedDB.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../index/db';
import { decodeMaps, type EncodedMaps } from '../index/mapCodec';
import type { FeatureRecord } from '../index/schema';
import { BlockedDescriptors } from '../search/descriptorBlocks';
import { describeImages, preferredBatchSize, type Grid } from '../search/describe';
import type { Collection, DescriptorBlocks } from '../search/types';

/** Encoded maps kept in memory (ResNet-50 at long side 512, uint8: ~0.4 MB per photo). */
const MAPS_BUDGET_BYTES = 256 * 1024 * 1024;

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
  private records: FeatureRecord[] = [];
  private position = new Map<string, number>();
  /** OfA descriptors for an NC other than the stored one: nc -> id -> descriptor. */
  private recomputed = new Map<number, Map<string, Float32Array>>();
  /** OfA descriptors resident on the backend for one NC, transposed in column blocks. */
  private resident: { nc: number; blocks: BlockedDescriptors } | null = null;
  /** Position of the first record whose resident descriptor is out of date (appended, moved, or never built). */
  private staleFrom = 0;
  private readonly mapsCache = new MapsCache(MAPS_BUDGET_BYTES);

  constructor(private readonly store: CollectionStore) {}

  get size(): number {
    return this.records.length;
  }

  get ids(): string[] {
    return this.records.map((r) => r.id);
  }

  has(id: string): boolean {
    return this.position.has(id);
  }

  record(id: string): FeatureRecord | undefined {
    const i = this.position.get(id);
    return i === undefined ? undefined : this.records[i];
  }

  /** Replaces everything (start-up, model switch, clear). */
  reset(records: FeatureRecord[]): void {
    this.records = [...records];
    this.reindexPositions();
    this.recomputed.clear();
    this.mapsCache.clear();
    this.dropResident();
  }

  /** A newly indexed photo (appended: the queue runs in import order). */
  add(record: FeatureRecord, maps?: EncodedMaps): void {
    if (this.position.has(record.id)) this.remove([record.id]);
    this.position.set(record.id, this.records.length);
    this.staleFrom = Math.min(this.staleFrom, this.records.length);
    this.records.push(record);
    if (maps) this.mapsCache.set(record.id, maps);
  }

  /**
   * Photos put back (undo of a deletion), each where it was: `order` lists photo ids in import order (the restored
   * ones and the indexed ones among them; others are ignored).
   */
  restore(records: readonly FeatureRecord[], order: readonly string[], maps?: ReadonlyMap<string, EncodedMaps>): void {
    const byId = new Map(this.records.map((r) => [r.id, r]));
    for (const r of records) byId.set(r.id, r);
    const placed = order.flatMap((id) => byId.get(id) ?? []);
    const inOrder = new Set(placed.map((r) => r.id));
    // Records missing from `order` (not expected) stay, at the end.
    const next = [...placed, ...[...byId.values()].filter((r) => !inOrder.has(r.id))];
    const restored = new Set(records.map((r) => r.id));
    const first = next.findIndex((r) => restored.has(r.id));
    if (first >= 0) this.staleFrom = Math.min(this.staleFrom, first);
    this.records = next;
    this.reindexPositions();
    for (const [id, m] of maps ?? []) this.mapsCache.set(id, m);
  }

  remove(ids: readonly string[]): void {
    const gone = new Set(ids);
    // Records after the first removed one move up: their resident blocks are rebuilt.
    const first = this.records.findIndex((r) => gone.has(r.id));
    if (first >= 0) this.staleFrom = Math.min(this.staleFrom, first);
    this.records = this.records.filter((r) => !gone.has(r.id));
    this.reindexPositions();
    for (const id of ids) {
      this.mapsCache.delete(id);
      for (const m of this.recomputed.values()) m.delete(id);
    }
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

  private reindexPositions(): void {
    this.position = new Map(this.records.map((r, i) => [r.id, i]));
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

  /** Feature maps X [H, W, K] of the photos at these positions (the caller disposes them). */
  async maps(indices: readonly number[]): Promise<tf.Tensor3D[]> {
    const encoded = await this.encodedMaps(indices.map((i) => this.records[i].id));
    return encoded.map((e) => tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]));
  }

  /**
   * OfA descriptors for `nc` classes per photo, resident on the backend as transposed column blocks: the stored
   * ones when they were computed with this NC, else recomputed from the maps and the stored probabilities (and
   * remembered). Photos added since the last call rebuild only the last block. Owned by the index: do not dispose.
   */
  async offlineDescriptors(nc: number, w: tf.Tensor2D): Promise<DescriptorBlocks> {
    const cache = this.recomputed.get(nc) ?? new Map<string, Float32Array>();
    this.recomputed.set(nc, cache);
    const need = this.records.map((r, i) => ({ r, i })).filter(({ r }) => r.nc !== nc && !cache.has(r.id));
    const chunk = preferredBatchSize();
    for (let s = 0; s < need.length; s += chunk) {
      const part = need.slice(s, s + chunk);
      const maps = await this.maps(part.map((p) => p.i));
      try {
        const { values, D } = await describeImages(maps, w, part.map((p) => p.r.probabilities), nc);
        part.forEach((p, b) => cache.set(p.r.id, values.slice(b * D, (b + 1) * D)));
      } finally {
        tf.dispose(maps);
      }
    }
    return this.residentBlocks(nc, (r) => (r.nc === nc ? r.descriptor : cache.get(r.id)!));
  }

  /**
   * Builds (or brings up to date) the resident blocks for the NC last searched (else `defaultNc`) and runs one
   * throw-away query on the new ones, so that the next search does not pay XNNPACK's packing. For idle time;
   * skipped when the descriptors for that NC would first have to be recomputed from the maps.
   */
  async warmUp(defaultNc: number): Promise<void> {
    if (!this.records.length) return;
    const nc = this.resident?.nc ?? defaultNc;
    const cache = this.recomputed.get(nc);
    if (this.records.some((r) => r.nc !== nc && !cache?.has(r.id))) return;
    const blocks = this.residentBlocks(nc, (r) => (r.nc === nc ? r.descriptor : cache!.get(r.id)!));
    await blocks.warmUp();
  }

  private residentBlocks(nc: number, descriptorOf: (r: FeatureRecord) => ArrayLike<number>): BlockedDescriptors {
    if (this.resident?.nc !== nc) {
      this.dropResident();
      this.resident = { nc, blocks: new BlockedDescriptors() };
    }
    const D = this.records.length ? descriptorOf(this.records[0]).length : 0;
    this.resident.blocks.sync(this.records.length, D, (i) => descriptorOf(this.records[i]), this.staleFrom);
    this.staleFrom = this.records.length;
    return this.resident.blocks;
  }

  /** The collection for src/search: offline descriptors when given, maps on demand. */
  collection(offlineDescriptors: DescriptorBlocks | null): Collection {
    return {
      size: this.records.length,
      grids: this.records.map((r) => r.grid) as readonly Grid[],
      offlineDescriptors,
      maps: (indices) => this.maps(indices),
    };
  }
}
