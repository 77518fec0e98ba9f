/**
 * Collection state: the worker's picture of the collection — every photo's name, the queue waiting for the network
 * (in import order, mirroring the `queue` store) and the indexed photos (CollectionIndex) — loaded from one
 * consistent IndexedDB snapshot, repaired when the stores disagree.
 */
import type { CollectionSnapshot, CollectionStore } from '../../index/db';
import type { FeatureRecord, ImageRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import type { ModelAdapter } from '../../model/adapters';
import type { Grid } from '../../search/cwForWorker';
import type { PhotoItem } from '../../worker-api/api';
import { CollectionIndex } from '../../index/memory/collectionIndex';
import type { Emit } from '../events';
import type { Lock } from '../lock';
import type { Settings } from './session';
import type { ModelRegistry } from './modelRegistry';

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export class CollectionState {
  /** Every photo of the collection: id -> name. */
  names = new Map<string, string>();
  /** Ids waiting for the network, in import order. */
  queue: string[] = [];
  readonly index: CollectionIndex;
  /** The page fetches thumbnails as it shows them (StartOptions.thumbnails 'on-demand'): photo lists carry none. */
  thumbsOnDemand = false;
  /** Times of the last load: reading the snapshot from IndexedDB, and in all (ms). */
  readonly lastLoad = { snapshotMs: 0, totalMs: 0 };
  /** Blocks the last load found with retired rows, or unusable: rewritten or deleted by `pack`. */
  private staleBlocks: CollectionSnapshot['stale'] = { rewrite: [], drop: [] };

  constructor(
    private readonly store: CollectionStore,
    private readonly settings: Settings,
    private readonly registry: ModelRegistry,
    private readonly emit: Emit,
  ) {
    this.index = new CollectionIndex(store);
  }

  /**
   * Reads the collection from IndexedDB into memory (one consistent snapshot); returns the photo list for the page.
   * Feature records this version cannot use (older layout, damaged, another model) and photos that are neither
   * indexed nor queued are queued again, with a message.
   */
  async load(): Promise<PhotoItem[]> {
    const settings = this.settings.current;
    const adapter = this.registry.adapter(settings.modelId);
    const t0 = performance.now();
    const snapshot = await this.store.snapshot(modelKey(settings), adapter.channels, !this.thumbsOnDemand);
    this.lastLoad.snapshotMs = performance.now() - t0;
    const { images, blocks, tail } = snapshot;
    let { queued } = snapshot;
    const usable = tail.filter((f) => usableFeatures(f, adapter));
    const indexed = new Set([...blocks.flatMap((b) => b.ids), ...usable.map((f) => f.id)]);
    const inQueue = new Set(queued);
    const stale = images.filter((i) => !indexed.has(i.id) && !inQueue.has(i.id)).map((i) => i.id);
    if (stale.length) {
      const n = await this.store.requeue(stale);
      queued = await this.store.queued();
      if (n) this.noticeReindexed(n);
    }
    this.index.reset(usable, blocks);
    this.names = new Map(images.map((i) => [i.id, i.name]));
    this.queue = queued.filter((id) => this.names.has(id) && !this.index.has(id));
    this.staleBlocks = snapshot.stale;
    const items = images.map((i) => this.photoItem(i));
    this.lastLoad.totalMs = performance.now() - t0;
    return items;
  }

  /**
   * Idle work after loading or indexing: writes the photos not yet in a descriptor block into blocks (all of them
   * when `all`, else full blocks only), and rewrites blocks holding rows of removed or re-indexed photos. Best
   * effort: what is not packed now is read from its feature record at the next start, and packed then.
   */
  async pack(all = false): Promise<void> {
    const stale = this.staleBlocks;
    this.staleBlocks = { rewrite: [], drop: [] };
    await this.store.compactBlocks(stale);
    await this.index.pack(modelKey(this.settings.current), all);
  }

  /**
   * Reloads the collection from IndexedDB (under the tfjs lock) and tells the page what changed: photos added,
   * removed, indexed (by another tab), or the whole list when photos lost their features (another model).
   */
  async syncFromStore(lock: Lock): Promise<void> {
    const before = new Set(this.names.keys());
    const indexedBefore = new Set(this.index.ids);
    const photos = await lock.run(() => this.load());
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

  /** Forgets everything (the collection was cleared). */
  clear(): void {
    this.index.reset([]);
    this.queue = [];
    this.names.clear();
  }

  /** Photos that left the collection (removed here or in another tab). */
  forget(ids: readonly string[]): void {
    this.index.remove(ids);
    for (const id of ids) this.names.delete(id);
    const gone = new Set(ids);
    this.queue = this.queue.filter((id) => !gone.has(id));
  }

  /** Photos that got their features (here or in another tab): off the queue. */
  dequeue(ids: Iterable<string>): void {
    const done = new Set(ids);
    this.queue = this.queue.filter((id) => !done.has(id));
  }

  photoItem(i: Omit<ImageRecord, 'thumb'> & { thumb?: Blob }): PhotoItem {
    return {
      id: i.id,
      name: i.name,
      path: i.path,
      width: i.width,
      height: i.height,
      ...(i.thumb && !this.thumbsOnDemand ? { thumb: i.thumb } : {}),
      thumbWidth: i.thumbWidth,
      thumbHeight: i.thumbHeight,
      indexed: this.index.has(i.id),
      source: i.source ?? 'copy',
      seq: i.seq,
    };
  }

  /** A feature record this collection can search with (see usableFeatures). */
  usable(f: FeatureRecord): boolean {
    return f.modelKey === modelKey(this.settings.current) && usableFeatures(f, this.registry.adapter(this.settings.current.modelId));
  }

  /** Makes the stores agree (see CollectionStore.repair) and says what was fixed. */
  async repair(): Promise<void> {
    const report = await this.store.repair().catch((e: unknown) => {
      console.warn('[collection] repair failed:', e);
      return null;
    });
    if (report?.removed.length) {
      const names = report.removed.map((r) => r.name);
      const n = names.length;
      this.emit({
        type: 'notice',
        level: 'warning',
        message: `${n} ${plural(n, 'photo was', 'photos were')} removed because ${plural(n, 'its', 'their')} stored copy is missing: ${names.slice(0, 5).join(', ')}${n > 5 ? ', …' : ''}. Add ${plural(n, 'it', 'them')} again.`,
      });
    }
    if (report?.requeued.length) this.noticeReindexed(report.requeued.length);
  }

  private noticeReindexed(n: number): void {
    this.emit({
      type: 'notice',
      level: 'warning',
      message: `${n} ${plural(n, 'photo is', 'photos are')} being indexed again: ${plural(n, 'its', 'their')} stored features were incomplete or written by an older version of the app.`,
    });
  }
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
