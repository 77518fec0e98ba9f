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
  SCHEMA_VERSION,
  type CollectionDatabase,
  type FeatureRecord,
  type ImageRecord,
  type MapsRecord,
  type Migration,
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
async function commit(tx: { done: Promise<void>; abort(): void }, requests: (() => Promise<unknown>)[]): Promise<void> {
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

async function writing<T>(work: () => Promise<T>): Promise<T> {
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
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'VersionError') {
      throw new Error('This collection was saved by a newer version of the app: reload the page to get it.', { cause: e });
    }
    throw e;
  }
  return new CollectionStore(db);
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
  async addImage(image: Omit<ImageRecord, 'seq'>, blob: Blob): Promise<ImageRecord | null> {
    return writing(async () => {
      const tx = this.db.transaction(['images', 'blobs', 'queue', 'meta'], 'readwrite');
      if ((await tx.objectStore('images').getKey(image.id)) !== undefined) {
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
    const stores = ['images', 'blobs', 'queue', 'features', 'maps'] as const;
    const tx = this.db.transaction([...stores], 'readwrite');
    await commit(tx, ids.flatMap((id) => stores.map((s) => () => tx.objectStore(s).delete(id))));
  }

  /** Empties the collection; the settings stay. */
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
