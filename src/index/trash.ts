/**
 * Deleting photos so that they can be restored exactly: `takePhotos` reads every record of the photos (each store of
 * PHOTO_STORES) and deletes them in ONE transaction, returning what it removed; `restorePhotos` writes those records
 * back, same ids, same import order `seq`, same features and maps, in ONE transaction. What was taken is kept by the
 * caller (the worker keeps it in memory until the page is left: nothing of a deleted photo stays on disk).
 */
import type { CollectionStore } from './db';
import { PHOTO_STORES, type CollectionSchema } from './schema';
import { commit, writing } from './tx';

type PhotoStore = (typeof PHOTO_STORES)[number];

/**
 * Every record a photo had, store by store (absent where it had none, e.g. no features while queued). The image
 * record holds its thumbnail only when written before schema v3; later ones have it in `thumbs`.
 */
export type TakenPhoto = { id: string; image: CollectionSchema['images']['value'] } & { [S in Exclude<PhotoStore, 'images'>]?: CollectionSchema[S]['value'] };

/** Bytes a taken photo holds in memory (stored copy, maps, thumbnail, descriptor and probabilities). */
export function takenBytes(p: TakenPhoto): number {
  const f = p.features;
  const copy = p.blobs && 'blob' in p.blobs ? p.blobs.blob.size : 0;
  const thumb = (p.image.thumb ?? p.thumbs?.thumb)?.size ?? 0;
  return copy + thumb + (p.maps?.maps.data.byteLength ?? 0) + (f ? f.descriptor.byteLength + f.probabilities.byteLength : 0);
}

/**
 * Removes these photos from every store in one transaction and returns their records, in the order of `ids`
 * (ids not in the collection are left out). Nothing is removed when any part fails.
 */
export async function takePhotos(store: CollectionStore, ids: readonly string[]): Promise<TakenPhoto[]> {
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  return writing(async () => {
    const tx = store.db.transaction([...PHOTO_STORES], 'readwrite');
    const records = await Promise.all(unique.map((id) => Promise.all(PHOTO_STORES.map((s) => tx.objectStore(s).get(id)))));
    const taken: TakenPhoto[] = [];
    records.forEach((perStore, i) => {
      const [image, ...rest] = perStore as [TakenPhoto['image'] | undefined, ...unknown[]];
      if (!image) return;
      const p = { id: unique[i], image } as TakenPhoto;
      PHOTO_STORES.slice(1).forEach((s, j) => {
        if (rest[j] !== undefined) (p as Record<string, unknown>)[s] = rest[j];
      });
      taken.push(p);
    });
    await commit(tx, taken.flatMap((p) => PHOTO_STORES.map((s) => () => tx.objectStore(s).delete(p.id))));
    return taken;
  });
}

export interface RestoreReport {
  /** Put back as they were (indexed ones indexed again, queued ones queued). */
  restored: string[];
  /** Put back, but queued for the network: their features were computed with another model than the current one. */
  requeued: string[];
  /** Not put back: a photo with the same content is in the collection again (imported meanwhile). */
  present: string[];
}

/**
 * Writes taken photos back in one transaction: every record as it was, so ids, import order, features and maps
 * are the same as before the deletion. A photo whose features belong to another model than `modelKey` (the model
 * was switched meanwhile) comes back queued for indexing, without them. Nothing is written when any part fails.
 */
export async function restorePhotos(store: CollectionStore, photos: readonly TakenPhoto[], modelKey: string): Promise<RestoreReport> {
  const report: RestoreReport = { restored: [], requeued: [], present: [] };
  if (!photos.length) return report;
  return writing(async () => {
    const tx = store.db.transaction([...PHOTO_STORES], 'readwrite');
    const there = await Promise.all(photos.map((p) => tx.objectStore('images').getKey(p.id)));
    const writes: (() => Promise<unknown>)[] = [];
    photos.forEach((p, i) => {
      if (there[i] !== undefined) {
        report.present.push(p.id);
        return;
      }
      const stale = !!p.features && p.features.modelKey !== modelKey;
      for (const s of PHOTO_STORES) {
        const value = s === 'images' ? p.image : p[s];
        // Its block row is not put back: the block may have been rewritten since; the photo is packed again.
        if (s === 'packed') continue;
        if (stale && (s === 'features' || s === 'maps')) continue;
        if (value !== undefined) writes.push(() => tx.objectStore(s).put(value as never));
      }
      if (stale && !p.queue) writes.push(() => tx.objectStore('queue').put({ id: p.id, seq: p.image.seq }));
      (stale ? report.requeued : report.restored).push(p.id);
    });
    await commit(tx, writes);
    return report;
  });
}

/** Every photo's id in import order (keys only: cheap at any size). */
export async function photoOrder(store: CollectionStore): Promise<string[]> {
  return store.db.getAllKeysFromIndex('images', 'seq');
}
