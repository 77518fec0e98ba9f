/**
 * The photo collection in IndexedDB (through idb): what is stored is described in ./schema.ts.
 *
 * Every write that must be all-or-nothing is ONE transaction: adding a photo (metadata, thumbnail, stored copy,
 * queue entry), recording its features (features, maps, leaving the queue), a model change, a clear. A write that
 * fails because the disk quota is full throws StorageFullError with a message for the user.
 */
import { openDB } from 'idb';
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
} from './schema';
import type { IndexSettings } from './settings';

export class StorageFullError extends Error {
  constructor(cause: unknown) {
    super('The browser storage for this site is full: free some disk space or clear the collection, then try again.');
    this.name = 'StorageFullError';
    this.cause = cause;
  }
}

const isQuotaError = (e: unknown) => {
  const { name, message } = (e ?? {}) as { name?: unknown; message?: unknown };
  return name === 'QuotaExceededError' || (typeof message === 'string' && /quota/i.test(message));
};

/**
 * Issues the requests of one readwrite transaction and waits for it to commit. On ANY failure (a request that
 * throws or fails, a commit refused for quota) the transaction is aborted, so nothing of it is written.
 */
export async function commit(tx: { done: Promise<void>; abort(): void }, requests: (() => Promise<unknown>)[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  try {
    for (const request of requests) {
      const p = request();
      p.catch(() => undefined); // reported through Promise.all below, never as an unhandled rejection
      pending.push(p);
    }
    await Promise.all(pending);
    await tx.done;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      /* already aborted or committed */
    }
    await tx.done.catch(() => undefined);
    throw e;
  }
}

export async function writing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw isQuotaError(e) ? new StorageFullError(e) : e;
  }
}

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
  async addImage(image: Omit<ImageRecord, 'seq'>, blob: Blob, pendingKey?: string): Promise<ImageRecord | null> {
    return writing(async () => {
      const tx = this.db.transaction(['images', 'blobs', 'queue', 'meta', 'pending'], 'readwrite');
      if ((await tx.objectStore('images').getKey(image.id)) !== undefined) {
        if (pendingKey) await tx.objectStore('pending').delete(pendingKey);
        await tx.done;
        return null;
      }
      const counter = await tx.objectStore('meta').get('seq');
      const seq = counter?.key === 'seq' ? counter.value : 0;
      const record: ImageRecord = { ...image, seq };
      await commit(tx, [
        () => tx.objectStore('meta').put({ key: 'seq', value: seq + 1 }),
        () => tx.objectStore('images').put(record),
        () => tx.objectStore('blobs').put({ id: image.id, blob }),
        () => tx.objectStore('queue').put({ id: image.id, seq }),
        // The dropped file is read in: no longer pending, in the same transaction.
        ...(pendingKey ? [() => tx.objectStore('pending').delete(pendingKey)] : []),
      ]);
      return record;
    });
  }

  /** Every photo, in import order. */
  async listImages(): Promise<ImageRecord[]> {
    return this.db.getAllFromIndex('images', 'seq');
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    return this.db.get('images', id);
  }

  async getBlob(id: string): Promise<Blob | undefined> {
    return (await this.db.get('blobs', id))?.blob;
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
    return writing(async () => {
      const tx = this.db.transaction(['images', 'queue', 'features', 'maps'], 'readwrite');
      if ((await tx.objectStore('images').getKey(features.id)) === undefined) {
        tx.abort();
        await tx.done.catch(() => undefined);
        return false;
      }
      await commit(tx, [
        () => tx.objectStore('features').put(features),
        () => tx.objectStore('maps').put(maps),
        () => tx.objectStore('queue').delete(features.id),
      ]);
      return true;
    });
  }

  /**
   * An already indexed photo (from an exported index): the photo, its features and maps in ONE transaction, never
   * queued for the network. A photo already in the collection keeps its record and only gains the features and maps
   * (and leaves the queue) when it has none for this model. Returns what happened.
   */
  async addIndexedImage(image: Omit<ImageRecord, 'seq'>, blob: Blob | null, features: FeatureRecord, maps: MapsRecord): Promise<'added' | 'indexed' | 'duplicate'> {
    if (image.id !== features.id || features.id !== maps.id || features.modelKey !== maps.modelKey) throw new Error('addIndexedImage: records of different photos or models');
    return writing(async () => {
      const tx = this.db.transaction(['images', 'blobs', 'queue', 'features', 'maps', 'meta'], 'readwrite');
      const indexedRecords = [() => tx.objectStore('features').put(features), () => tx.objectStore('maps').put(maps)];
      if ((await tx.objectStore('images').getKey(image.id)) !== undefined) {
        const current = await tx.objectStore('features').get(image.id);
        if (current?.modelKey === features.modelKey) {
          await tx.done;
          return 'duplicate';
        }
        await commit(tx, [...indexedRecords, () => tx.objectStore('queue').delete(image.id)]);
        return 'indexed';
      }
      if (!blob) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new Error('the export holds no copy of this photo (exported without photos)');
      }
      const counter = await tx.objectStore('meta').get('seq');
      const seq = counter?.key === 'seq' ? counter.value : 0;
      await commit(tx, [
        () => tx.objectStore('meta').put({ key: 'seq', value: seq + 1 }),
        () => tx.objectStore('images').put({ ...image, seq }),
        () => tx.objectStore('blobs').put({ id: image.id, blob }),
        ...indexedRecords,
      ]);
      return 'added';
    });
  }

  /** Feature records (without maps) computed with `modelKey`, in import order. */
  async listFeatures(modelKey: string): Promise<FeatureRecord[]> {
    const tx = this.db.transaction(['images', 'features'], 'readonly');
    const [images, features] = await Promise.all([tx.objectStore('images').index('seq').getAllKeys(), tx.objectStore('features').getAll(), tx.done]);
    const byId = new Map(features.filter((f) => f.modelKey === modelKey).map((f) => [f.id, f]));
    return images.flatMap((id) => byId.get(id) ?? []);
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
      const tx = this.db.transaction(['images', 'queue', 'features', 'maps', 'meta'], 'readwrite');
      const images = await tx.objectStore('images').getAll();
      await commit(tx, [
        () => tx.objectStore('features').clear(),
        () => tx.objectStore('maps').clear(),
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

  /** Image records of these photos (undefined where missing), in one transaction. */
  async getImages(ids: readonly string[]): Promise<(ImageRecord | undefined)[]> {
    const tx = this.db.transaction('images', 'readonly');
    const out = await Promise.all(ids.map((id) => tx.store.get(id)));
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
      const tx = this.db.transaction(['images', 'queue', 'features', 'maps'], 'readwrite');
      const images = (await Promise.all(ids.map((id) => tx.objectStore('images').get(id)))).filter((i) => i !== undefined);
      // Already queued (another tab did it meanwhile): its features are being computed, leave them.
      const queuedNow = new Set(await tx.objectStore('queue').getAllKeys());
      ids = ids.filter((id) => !queuedNow.has(id));
      await commit(tx, [
        ...ids.flatMap((id) => [() => tx.objectStore('features').delete(id), () => tx.objectStore('maps').delete(id)]),
        ...images.filter((i) => !queuedNow.has(i.id)).map((i) => () => tx.objectStore('queue').put({ id: i.id, seq: i.seq })),
      ]);
      return images.filter((i) => !queuedNow.has(i.id)).length;
    });
  }

  /**
   * Makes the stores agree, in one transaction, reading keys only: a photo without its stored copy is removed;
   * records of photos that are not in the collection are deleted; a photo whose features have no maps, or that is
   * neither indexed nor queued, is queued again. Every write here is one transaction already, so this finds nothing
   * after normal use; it guards against data written by older versions, other tools or a damaged disk.
   */
  async repair(): Promise<RepairReport> {
    return writing(async () => {
      const names = ['images', 'blobs', 'queue', 'features', 'maps'] as const;
      const tx = this.db.transaction([...names], 'readwrite');
      const [images, blobs, queue, features, maps] = await Promise.all(names.map((n) => tx.objectStore(n).getAllKeys()));
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
      for (const [n, keys] of [['blobs', blobs], ['queue', queue], ['features', features], ['maps', maps]] as const) {
        for (const id of keys) {
          if (!imageSet.has(id)) {
            orphans++;
            writes.push(() => tx.objectStore(n).delete(id));
          }
        }
      }
      for (const { id, seq } of requeueSeq) {
        writes.push(() => tx.objectStore('features').delete(id), () => tx.objectStore('maps').delete(id), () => tx.objectStore('queue').put({ id, seq }));
      }
      await commit(tx, writes);
      return { removed, requeued: requeue, orphans };
    });
  }

  /**
   * The collection as one consistent snapshot (one readonly transaction): every photo in import order, the feature
   * records computed with `modelKey`, and the queue. Another tab writing meanwhile is seen entirely or not at all.
   */
  async snapshot(modelKey: string): Promise<{ images: ImageRecord[]; features: FeatureRecord[]; queued: string[] }> {
    const tx = this.db.transaction(['images', 'features', 'queue'], 'readonly');
    const [images, features, queue] = await Promise.all([
      tx.objectStore('images').index('seq').getAll(),
      tx.objectStore('features').getAll(),
      tx.objectStore('queue').index('seq').getAll(),
      tx.done,
    ]);
    const byId = new Map(features.filter((f) => f.modelKey === modelKey).map((f) => [f.id, f]));
    return { images, features: images.flatMap((i) => byId.get(i.id) ?? []), queued: queue.map((q) => q.id) };
  }

  /** Record counts per store and what does not add up (read-only; see `repair`). */
  async integrity(): Promise<{ counts: Record<string, number>; problems: string[] }> {
    const names = ['images', 'blobs', 'queue', 'features', 'maps', 'pending'] as const;
    const tx = this.db.transaction([...names], 'readonly');
    const keys = await Promise.all(names.map((n) => tx.objectStore(n).getAllKeys()));
    await tx.done;
    const [images, blobs, queue, features, maps] = keys.map((k) => new Set(k));
    const problems: string[] = [];
    const check = (what: string, ids: Iterable<string>, ok: (id: string) => boolean) => {
      const bad = [...ids].filter((id) => !ok(id));
      if (bad.length) problems.push(`${bad.length} ${what}: ${bad.slice(0, 3).map((id) => id.slice(0, 12)).join(', ')}`);
    };
    check('photos without their stored copy', images, (id) => blobs.has(id));
    check('stored copies without a photo', blobs, (id) => images.has(id));
    check('queue entries without a photo', queue, (id) => images.has(id));
    check('feature records without a photo', features, (id) => images.has(id));
    check('feature records without maps', features, (id) => maps.has(id));
    check('maps without feature records', maps, (id) => features.has(id));
    check('photos neither indexed nor queued', images, (id) => queue.has(id) || features.has(id));
    return { counts: Object.fromEntries(names.map((n, i) => [n, keys[i].length])), problems };
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

  /** Empties the collection; the settings (and custom models) stay. */
  async clear(): Promise<void> {
    const stores = ['images', 'blobs', 'queue', 'features', 'maps'] as const;
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
