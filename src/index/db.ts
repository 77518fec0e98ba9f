/**
 * The photo collection in IndexedDB (through idb): what is stored is described in ./schema.ts.
 *
 * Every write that must be all-or-nothing is ONE transaction: adding a photo (metadata, thumbnail, where the photo
 * is, queue entry), recording its features (features, maps, leaving the queue), a batch of imported photos with
 * their descriptor block, a model change, a clear. A write that fails because the disk quota is full throws
 * StorageFullError with a message for the user.
 */
import { openDB } from 'idb';
import type { BlockRows } from './blocks';
import * as blockStore from './blockStore';
import type { CollectionSnapshot, IndexedEntry, IndexedOutcome, SourceWrite } from './blockStore';
import { commit, StorageFullError, writing } from './tx';

export { StorageFullError };
export type { CollectionSnapshot, IndexedEntry, IndexedOutcome, SourceWrite };
import {
  DB_NAME,
  MIGRATIONS,
  PHOTO_STORES,
  SCHEMA_VERSION,
  type CollectionDatabase,
  type CustomModelRecord,
  type FeatureRecord,
  type ImageRecord,
  type MapsRecord,
  type Migration,
  type PendingRecord,
  type PhotoSourceRecord,
  type RootRecord,
} from './schema';
import type { IndexSettings } from './settings';

export interface OpenOptions {
  name?: string;
  /** For tests: a different migration list (its length is the version opened). */
  migrations?: readonly Migration[];
  /** Another tab wants to upgrade the schema: this connection has been closed; the page should reload. */
  onVersionChange?: () => void;
  /** This tab upgrades the schema but another tab (an older version of the app) keeps the database open. */
  onBlocked?: () => void;
  /** The browser closed the connection abnormally (site data cleared, disk error). */
  onTerminated?: () => void;
}

/** Opens (creating or upgrading) the collection database. */
export async function openCollection(options: OpenOptions = {}): Promise<CollectionStore> {
  const migrations = options.migrations ?? MIGRATIONS;
  const version = options.migrations ? migrations.length : SCHEMA_VERSION;
  let db: CollectionDatabase;
  try {
    db = await openDB(options.name ?? DB_NAME, version, {
      upgrade(database, oldVersion, newVersion, tx) {
        for (let v = oldVersion + 1; v <= (newVersion ?? version); v++) migrations[v - 1](database, tx);
      },
      blocking() {
        db?.close();
        options.onVersionChange?.();
      },
      blocked() {
        options.onBlocked?.();
      },
      terminated() {
        options.onTerminated?.();
      },
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'VersionError') {
      throw new Error('This collection was saved by a newer version of the app: reload the page to get it.', { cause: e });
    }
    throw e;
  }
  return new CollectionStore(db);
}

/** What `repair` found and fixed (see there). */
export interface RepairReport {
  /** Photos whose stored copy was missing: removed (their id and name). */
  removed: { id: string; name: string }[];
  /** Photos put back in the queue: neither indexed nor queued, or features without maps. */
  requeued: string[];
  /** Records of photos that are not in the collection (orphans), deleted. */
  orphans: number;
}

export interface CollectionCounts {
  images: number;
  queued: number;
  indexed: number;
}

export class CollectionStore {
  constructor(readonly db: CollectionDatabase) {}

  close(): void {
    this.db.close();
  }

  async settings(): Promise<IndexSettings | undefined> {
    const r = await this.db.get('meta', 'settings');
    return r?.key === 'settings' ? r.value : undefined;
  }

  async saveSettings(settings: IndexSettings): Promise<void> {
    await writing(() => this.db.put('meta', { key: 'settings', value: settings }));
  }

  async hasImage(id: string): Promise<boolean> {
    return (await this.db.getKey('images', id)) !== undefined;
  }

  /**
   * Adds a photo and queues it for indexing, in one transaction. Returns the stored record (with its import
   * order `seq`), or null when a photo with this id is already in the collection.
   */
  async addImage(image: Omit<ImageRecord, 'seq'>, source: SourceWrite, pendingKey?: string): Promise<ImageRecord | null> {
    return writing(async () => {
      const tx = this.db.transaction(['images', 'thumbs', 'blobs', 'queue', 'meta', 'pending'], 'readwrite');
      if ((await tx.objectStore('images').getKey(image.id)) !== undefined) {
        if (pendingKey) await tx.objectStore('pending').delete(pendingKey);
        await tx.done;
        return null;
      }
      const counter = await tx.objectStore('meta').get('seq');
      const seq = counter?.key === 'seq' ? counter.value : 0;
      const record: ImageRecord = { ...image, seq };
      const { thumb, ...meta } = record;
      await commit(tx, [
        () => tx.objectStore('meta').put({ key: 'seq', value: seq + 1 }),
        () => tx.objectStore('images').put(meta),
        () => tx.objectStore('thumbs').put({ id: image.id, thumb }),
        () => tx.objectStore('blobs').put({ id: image.id, ...source }),
        () => tx.objectStore('queue').put({ id: image.id, seq }),
        // The dropped file is read in: no longer pending, in the same transaction.
        ...(pendingKey ? [() => tx.objectStore('pending').delete(pendingKey)] : []),
      ]);
      return record;
    });
  }

  /** Every photo with its thumbnail, in import order. */
  async listImages(): Promise<ImageRecord[]> {
    const tx = this.db.transaction(['images', 'thumbs'], 'readonly');
    const [images, thumbs] = await Promise.all([tx.objectStore('images').index('seq').getAll(), tx.objectStore('thumbs').getAll(), tx.done]);
    const byId = new Map(thumbs.map((t) => [t.id, t.thumb]));
    return images.map((i) => withThumb(i, byId.get(i.id)));
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    return (await this.getImages([id]))[0];
  }

  /** Thumbnails of these photos (null where missing), in one transaction: what a grid shows, a screen at a time. */
  async getThumbs(ids: readonly string[]): Promise<(Blob | null)[]> {
    const tx = this.db.transaction(['images', 'thumbs'], 'readonly');
    const out = await Promise.all(ids.map(async (id) => (await tx.objectStore('thumbs').get(id))?.thumb ?? (await tx.objectStore('images').get(id))?.thumb ?? null));
    await tx.done;
    return out;
  }

  /** Where a photo is: its stored copy, its link on disk, or nothing but its thumbnail (undefined: not in the collection). */
  async getSource(id: string): Promise<PhotoSourceRecord | undefined> {
    return this.db.get('blobs', id);
  }

  /** Source records of these photos (undefined where missing), in one transaction. */
  async getSources(ids: readonly string[]): Promise<(PhotoSourceRecord | undefined)[]> {
    const tx = this.db.transaction('blobs', 'readonly');
    const out = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    return out;
  }

  /** Every photo's source record (Blob handles and links only: the bytes stay on disk until read). */
  async listSources(): Promise<PhotoSourceRecord[]> {
    return this.db.getAll('blobs');
  }

  /** Ids waiting for the network, in import order. */
  async queued(): Promise<string[]> {
    return (await this.db.getAllFromIndex('queue', 'seq')).map((q) => q.id);
  }

  /**
   * Records a photo's features and maps and takes it off the queue, in one transaction. Returns false (writing
   * nothing) when the photo is no longer in the collection (removed or cleared while the network ran).
   */
  async putIndexed(features: FeatureRecord, maps: MapsRecord): Promise<boolean> {
    if (features.id !== maps.id || features.modelKey !== maps.modelKey) throw new Error('putIndexed: features and maps of different photos or models');
    features.mapsBytes ??= maps.maps.data.byteLength; // the export needs every photo's maps size before the maps
    return writing(async () => {
      const tx = this.db.transaction(['images', 'blobs', 'queue', 'features', 'maps'], 'readwrite');
      const [present, source] = await Promise.all([tx.objectStore('images').getKey(features.id), tx.objectStore('blobs').get(features.id)]);
      if (present === undefined) {
        tx.abort();
        await tx.done.catch(() => undefined);
        return false;
      }
      await commit(tx, [
        () => tx.objectStore('features').put(features),
        () => tx.objectStore('maps').put(maps),
        () => tx.objectStore('queue').delete(features.id),
        // A copy kept only for the network (storage 'none') goes once the photo is indexed.
        ...(source && 'temporary' in source ? [() => tx.objectStore('blobs').put({ id: features.id, none: true as const })] : []),
      ]);
      return true;
    });
  }

  /** Already indexed photos with their descriptor block, in one transaction (blockStore.addIndexedImages). */
  addIndexedImages(entries: readonly IndexedEntry[], block: BlockRows | null): Promise<IndexedOutcome[]> {
    return blockStore.addIndexedImages(this.db, entries, block);
  }

  /** What start-up reads, in one transaction (blockStore.snapshot). */
  snapshot(modelKey: string, D: number, thumbs = true): Promise<CollectionSnapshot> {
    return blockStore.snapshot(this.db, modelKey, D, thumbs);
  }

  /** Packs rows into a new block (blockStore.packBlock). */
  packBlock(rows: BlockRows): Promise<number | null> {
    return blockStore.packBlock(this.db, rows);
  }

  /** Rewrites or deletes stale blocks (blockStore.compactBlocks). */
  compactBlocks(stale: CollectionSnapshot['stale']): Promise<void> {
    return blockStore.compactBlocks(this.db, stale);
  }

  /** Maps records of the given photos (undefined where missing), read in one transaction. */
  async getMaps(ids: readonly string[]): Promise<(MapsRecord | undefined)[]> {
    const tx = this.db.transaction('maps', 'readonly');
    const out = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    return out;
  }

  /**
   * A different model or input scale: drops every feature and maps record, queues every photo again (import
   * order) and saves the new settings, in one transaction. Returns how many photos were queued.
   */
  async reindexAll(settings: IndexSettings): Promise<number> {
    return writing(async () => {
      const tx = this.db.transaction(['images', 'queue', 'features', 'maps', 'meta', 'descriptorBlocks', 'packed'], 'readwrite');
      const images = await tx.objectStore('images').getAll();
      await commit(tx, [
        () => tx.objectStore('features').clear(),
        () => tx.objectStore('maps').clear(),
        () => tx.objectStore('descriptorBlocks').clear(),
        () => tx.objectStore('packed').clear(),
        () => tx.objectStore('queue').clear(),
        ...images.map((i) => () => tx.objectStore('queue').put({ id: i.id, seq: i.seq })),
        () => tx.objectStore('meta').put({ key: 'settings', value: settings }),
      ]);
      return images.length;
    });
  }

  /** Removes photos entirely (all stores), in one transaction. */
  async removeImages(ids: readonly string[]): Promise<void> {
    const tx = this.db.transaction([...PHOTO_STORES], 'readwrite');
    await commit(tx, ids.flatMap((id) => PHOTO_STORES.map((s) => () => tx.objectStore(s).delete(id))));
  }

  /** Image records of these photos with their thumbnails (undefined where missing), in one transaction. */
  async getImages(ids: readonly string[]): Promise<(ImageRecord | undefined)[]> {
    const tx = this.db.transaction(['images', 'thumbs'], 'readonly');
    const out = await Promise.all(
      ids.map(async (id) => {
        const [image, thumb] = await Promise.all([tx.objectStore('images').get(id), tx.objectStore('thumbs').get(id)]);
        return image && withThumb(image, thumb?.thumb);
      }),
    );
    await tx.done;
    return out;
  }

  /** Feature records of these photos (undefined where missing), in one transaction. */
  async getFeatures(ids: readonly string[]): Promise<(FeatureRecord | undefined)[]> {
    const tx = this.db.transaction('features', 'readonly');
    const out = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    return out;
  }

  /**
   * Puts photos back in the queue (their features and maps dropped), in one transaction: features that cannot be
   * used (written by an older version of the app, or damaged) are computed again. Returns how many were queued.
   */
  async requeue(ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    return writing(async () => {
      const tx = this.db.transaction(['images', 'queue', 'features', 'maps', 'packed'], 'readwrite');
      const images = (await Promise.all(ids.map((id) => tx.objectStore('images').get(id)))).filter((i) => i !== undefined);
      // Already queued (another tab did it meanwhile): its features are being computed, leave them.
      const queuedNow = new Set(await tx.objectStore('queue').getAllKeys());
      ids = ids.filter((id) => !queuedNow.has(id));
      await commit(tx, [
        ...ids.flatMap((id) => [() => tx.objectStore('features').delete(id), () => tx.objectStore('maps').delete(id), () => tx.objectStore('packed').delete(id)]),
        ...images.filter((i) => !queuedNow.has(i.id)).map((i) => () => tx.objectStore('queue').put({ id: i.id, seq: i.seq })),
      ]);
      return images.filter((i) => !queuedNow.has(i.id)).length;
    });
  }

  /**
   * Makes the stores agree, in one transaction, reading keys only: a photo without its source record is removed;
   * records of photos that are not in the collection are deleted; a photo whose features have no maps, or that is
   * neither indexed nor queued, is queued again. Every write here is one transaction already, so this finds nothing
   * after normal use; it guards against data written by older versions, other tools or a damaged disk.
   */
  async repair(): Promise<RepairReport> {
    return writing(async () => {
      const names = ['images', 'blobs', 'queue', 'features', 'maps', 'packed', 'thumbs'] as const;
      const tx = this.db.transaction([...names], 'readwrite');
      const [images, blobs, queue, features, maps, packed, thumbs] = await Promise.all(names.map((n) => tx.objectStore(n).getAllKeys()));
      const has = (keys: string[]) => new Set(keys);
      const [imageSet, blobSet, queueSet, featureSet, mapSet] = [images, blobs, queue, features, maps].map(has);
      const lost = images.filter((id) => !blobSet.has(id));
      const lostSet = new Set(lost);
      const removed = await Promise.all(lost.map(async (id) => ({ id, name: (await tx.objectStore('images').get(id))?.name ?? id })));
      const alive = (id: string) => imageSet.has(id) && !lostSet.has(id);
      const requeue = images.filter((id) => alive(id) && !queueSet.has(id) && !(featureSet.has(id) && mapSet.has(id)));
      const requeueSeq = await Promise.all(requeue.map(async (id) => ({ id, seq: (await tx.objectStore('images').get(id))!.seq })));
      const writes: (() => Promise<unknown>)[] = [];
      let orphans = 0;
      for (const id of lost) for (const n of names) writes.push(() => tx.objectStore(n).delete(id));
      for (const [n, keys] of [['blobs', blobs], ['queue', queue], ['features', features], ['maps', maps], ['packed', packed], ['thumbs', thumbs]] as const) {
        for (const id of keys) {
          if (!imageSet.has(id) || (n === 'packed' && !featureSet.has(id))) {
            orphans++;
            writes.push(() => tx.objectStore(n).delete(id));
          }
        }
      }
      for (const { id, seq } of requeueSeq) {
        writes.push(
          () => tx.objectStore('features').delete(id),
          () => tx.objectStore('maps').delete(id),
          () => tx.objectStore('packed').delete(id),
          () => tx.objectStore('queue').put({ id, seq }),
        );
      }
      await commit(tx, writes);
      return { removed, requeued: requeue, orphans };
    });
  }

  /** Record counts per store and what does not add up (read-only; see `repair`). */
  async integrity(): Promise<{ counts: Record<string, number>; problems: string[] }> {
    const names = ['images', 'blobs', 'queue', 'features', 'maps', 'pending', 'packed'] as const;
    const tx = this.db.transaction([...names, 'descriptorBlocks'], 'readonly');
    const [keys, blocks] = await Promise.all([Promise.all(names.map((n) => tx.objectStore(n).getAllKeys())), tx.objectStore('descriptorBlocks').count()]);
    await tx.done;
    const [images, blobs, queue, features, maps, , packed] = keys.map((k) => new Set<string>(k));
    const problems: string[] = [];
    const check = (what: string, ids: Iterable<string>, ok: (id: string) => boolean) => {
      const bad = [...ids].filter((id) => !ok(id));
      if (bad.length) problems.push(`${bad.length} ${what}: ${bad.slice(0, 3).map((id) => id.slice(0, 12)).join(', ')}`);
    };
    check('photos without their source record', images, (id) => blobs.has(id));
    check('source records without a photo', blobs, (id) => images.has(id));
    check('packed rows without features', packed, (id) => features.has(id));
    check('queue entries without a photo', queue, (id) => images.has(id));
    check('feature records without a photo', features, (id) => images.has(id));
    check('feature records without maps', features, (id) => maps.has(id));
    check('maps without feature records', maps, (id) => features.has(id));
    check('photos neither indexed nor queued', images, (id) => queue.has(id) || features.has(id));
    return { counts: { ...Object.fromEntries(names.map((n, i) => [n, keys[i].length])), descriptorBlocks: blocks }, problems };
  }

  // ---- files dropped but not read in yet (v2)

  /** Records dropped files before they are read in (one transaction). */
  async addPending(entries: readonly PendingRecord[]): Promise<void> {
    if (!entries.length) return;
    await writing(async () => {
      const tx = this.db.transaction('pending', 'readwrite');
      await commit(tx, entries.map((e) => () => tx.store.put(e)));
    });
  }

  async removePending(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    const tx = this.db.transaction('pending', 'readwrite');
    await commit(tx, keys.map((k) => () => tx.store.delete(k)));
  }

  async listPending(): Promise<PendingRecord[]> {
    return this.db.getAll('pending');
  }

  // ---- custom models

  async customModels(): Promise<CustomModelRecord[]> {
    const r = await this.db.get('meta', 'customModels');
    return r?.key === 'customModels' ? r.value : [];
  }

  async saveCustomModels(models: CustomModelRecord[]): Promise<void> {
    await writing(() => this.db.put('meta', { key: 'customModels', value: models }));
  }

  // ---- folders and files linked on disk (v3)

  async putRoot(root: RootRecord): Promise<void> {
    await writing(() => this.db.put('roots', root));
  }

  async listRoots(): Promise<RootRecord[]> {
    return this.db.getAll('roots');
  }

  async getRoot(key: string): Promise<RootRecord | undefined> {
    return this.db.get('roots', key);
  }

  /** Empties the collection; the settings (and custom models) stay. */
  async clear(): Promise<void> {
    const stores = ['images', 'thumbs', 'blobs', 'queue', 'features', 'maps', 'descriptorBlocks', 'packed', 'roots'] as const;
    const tx = this.db.transaction([...stores, 'meta' as const], 'readwrite');
    await commit(tx, [...stores.map((s) => () => tx.objectStore(s).clear()), () => tx.objectStore('meta').delete('seq')]);
  }

  /** Store sizes (features are only ever written with the current model key: reindexAll clears them first). */
  async counts(): Promise<CollectionCounts> {
    const tx = this.db.transaction(['images', 'queue', 'features'], 'readonly');
    const [images, queued, indexed] = await Promise.all([
      tx.objectStore('images').count(),
      tx.objectStore('queue').count(),
      tx.objectStore('features').count(),
      tx.done,
    ]);
    return { images, queued, indexed };
  }
}

/** A record of the images store with its thumbnail: its own (v1/v2) or the one from the thumbs store (v3). */
function withThumb(image: Omit<ImageRecord, 'thumb'> & { thumb?: Blob }, thumb: Blob | undefined): ImageRecord {
  return { ...image, thumb: image.thumb ?? thumb ?? new Blob([], { type: 'image/jpeg' }) };
}
