/**
 * The writes and reads of schema v3's descriptor blocks (see blocks.ts): a batch of imported photos with their
 * block, the start-up snapshot (blocks + unpacked records), packing the unpacked rows, rewriting blocks that hold
 * retired rows. Each is one transaction; CollectionStore (db.ts) exposes them.
 */
import { filterRows, validBlock, type BlockRows } from './blocks';
import type { CollectionDatabase, DescriptorBlockRecord, DiskLink, FeatureRecord, ImageRecord, MapsRecord } from './schema';
import { commit, writing } from './tx';

/** Where a new photo is kept (see PhotoSourceRecord). */
export type SourceWrite = { blob: Blob; temporary?: true } | { disk: DiskLink } | { none: true };

/** An already indexed photo to add (an imported index). */
export interface IndexedEntry {
  image: Omit<ImageRecord, 'seq'>;
  /** Where the photo is; null when the file holds none (usable only for photos already in the collection). */
  source: SourceWrite | null;
  features: FeatureRecord;
  maps: MapsRecord;
}

export type IndexedOutcome = 'added' | 'indexed' | 'duplicate' | 'no-photo';

/** What start-up needs: photos in import order, the packed rows and the unpacked feature records of one model, the queue. */
export interface CollectionSnapshot {
  /** With their thumbnails only when asked (older records keep theirs inside). */
  images: (Omit<ImageRecord, 'thumb'> & { thumb?: Blob })[];
  /** Blocks of this model with their live rows only (see blocks.ts), in key order. */
  blocks: DescriptorBlockRecord[];
  /** Keys of blocks holding retired rows (worth rewriting) or of another model or layout (to delete). */
  stale: { rewrite: number[]; drop: number[] };
  /** Feature records of this model not in any block, in import order. */
  tail: FeatureRecord[];
  queued: string[];
}

/**
 * Already indexed photos (an imported index), in ONE transaction, never queued for the network: a new photo gets
 * its record, where it is kept, features and maps; one already in the collection keeps its record and only gains
 * the features and maps (and leaves the queue) when it has none for this model. The rows written go into one new
 * descriptor block (`block`: the entries' rows in order, as blockFromFeatures packs them), so a large import
 * needs no packing afterwards. Returns what happened to each entry, in order.
 */
export async function addIndexedImages(db: CollectionDatabase, entries: readonly IndexedEntry[], block: BlockRows | null): Promise<IndexedOutcome[]> {
  for (const { image, features, maps } of entries) {
    if (image.id !== features.id || features.id !== maps.id || features.modelKey !== maps.modelKey) throw new Error('addIndexedImages: records of different photos or models');
  }
  return writing(async () => {
    const tx = db.transaction(['images', 'thumbs', 'blobs', 'queue', 'features', 'maps', 'meta', 'descriptorBlocks', 'packed'], 'readwrite');
    const [present, current, counter, blockKeys] = await Promise.all([
      Promise.all(entries.map((e) => tx.objectStore('images').getKey(e.image.id))),
      Promise.all(entries.map((e) => tx.objectStore('features').get(e.image.id))),
      tx.objectStore('meta').get('seq'),
      block ? tx.objectStore('descriptorBlocks').getAllKeys() : Promise.resolve([] as number[]),
    ]);
    let seq = counter?.key === 'seq' ? counter.value : 0;
    const writes: (() => Promise<unknown>)[] = [];
    const outcomes = entries.map(({ image, source, features, maps }, i): IndexedOutcome => {
      if (present[i] !== undefined && current[i]?.modelKey === features.modelKey) return 'duplicate';
      if (present[i] === undefined && !source) return 'no-photo';
      writes.push(() => tx.objectStore('features').put(features), () => tx.objectStore('maps').put(maps));
      if (present[i] !== undefined) {
        writes.push(() => tx.objectStore('queue').delete(image.id));
        return 'indexed';
      }
      const { thumb, ...record } = { ...image, seq: seq++ };
      writes.push(
        () => tx.objectStore('images').put(record),
        () => tx.objectStore('thumbs').put({ id: image.id, thumb }),
        () => tx.objectStore('blobs').put({ id: image.id, ...source! }),
      );
      return 'added';
    });
    writes.push(() => tx.objectStore('meta').put({ key: 'seq', value: seq }));
    if (block) {
      const written = new Set(entries.flatMap((e, i) => (outcomes[i] === 'added' || outcomes[i] === 'indexed' ? [e.image.id] : [])));
      const rows = filterRows(block, (id) => written.has(id));
      if (rows.ids.length) {
        const key = blockKeys.length ? Math.max(...blockKeys) + 1 : 0;
        writes.push(() => tx.objectStore('descriptorBlocks').put({ ...rows, key }), ...rows.ids.map((id) => () => tx.objectStore('packed').put({ id, block: key })));
      }
    }
    await commit(tx, writes);
    return outcomes;
  });
}

/**
 * The collection as one consistent snapshot (one readonly transaction): every photo in import order, the packed
 * rows and the unpacked feature records of `modelKey` (descriptors of D dimensions), and the queue. Another tab
 * writing meanwhile is seen entirely or not at all. Reads one record per block and per unpacked photo, plus keys.
 */
export async function snapshot(db: CollectionDatabase, modelKey: string, D: number, thumbs = true): Promise<CollectionSnapshot> {
  const tx = db.transaction(['images', 'thumbs', 'features', 'queue', 'descriptorBlocks', 'packed'], 'readonly');
  const packedIn = tx.objectStore('packed').index('block');
  const [images, thumbList, featureIds, queue, allBlocks] = await Promise.all([
    tx.objectStore('images').index('seq').getAll(),
    thumbs ? tx.objectStore('thumbs').getAll() : Promise.resolve([]),
    tx.objectStore('features').getAllKeys(),
    tx.objectStore('queue').index('seq').getAll(),
    tx.objectStore('descriptorBlocks').getAll(),
  ]);
  const stale: CollectionSnapshot['stale'] = { rewrite: [], drop: [] };
  const blocks: DescriptorBlockRecord[] = [];
  const inBlocks = new Set<string>();
  for (const b of allBlocks) {
    if (b.modelKey !== modelKey || !validBlock(b, D)) {
      stale.drop.push(b.key);
      continue;
    }
    const live = new Set(await packedIn.getAllKeys(b.key));
    const rows = filterRows(b, (id) => live.has(id) && !inBlocks.has(id));
    if (rows.ids.length < b.ids.length) (rows.ids.length ? stale.rewrite : stale.drop).push(b.key);
    if (!rows.ids.length) continue;
    rows.ids.forEach((id) => inBlocks.add(id));
    blocks.push(rows);
  }
  const unpacked = new Set(featureIds.filter((id) => !inBlocks.has(id)));
  const tailIds = images.filter((i) => unpacked.has(i.id)).map((i) => i.id);
  const tail = (await Promise.all(tailIds.map((id) => tx.objectStore('features').get(id)))).filter((f): f is FeatureRecord => f?.modelKey === modelKey);
  await tx.done;
  if (thumbs) {
    const byId = new Map(thumbList.map((t) => [t.id, t.thumb]));
    for (const i of images) i.thumb ??= byId.get(i.id);
  }
  return { images, blocks, stale, tail, queued: queue.map((q) => q.id) };
}

/**
 * Packs rows of indexed photos into a new block, in one transaction: rows whose photo has no features record of
 * the block's model any more (removed meanwhile) are left out. Returns the block's key (null: nothing to pack).
 */
export async function packBlock(db: CollectionDatabase, rows: BlockRows): Promise<number | null> {
  return writing(async () => {
    const tx = db.transaction(['features', 'descriptorBlocks', 'packed'], 'readwrite');
    const [present, keys] = await Promise.all([Promise.all(rows.ids.map((id) => tx.objectStore('features').get(id))), tx.objectStore('descriptorBlocks').getAllKeys()]);
    const live = filterRows(rows, (_, r) => present[r]?.modelKey === rows.modelKey);
    if (!live.ids.length) {
      await tx.done;
      return null;
    }
    const key = keys.length ? Math.max(...keys) + 1 : 0;
    await commit(tx, [() => tx.objectStore('descriptorBlocks').put({ ...live, key }), ...live.ids.map((id) => () => tx.objectStore('packed').put({ id, block: key }))]);
    return key;
  });
}

/** Rewrites blocks with only their live rows (retired rows dropped), and deletes blocks in `drop`; one transaction per block. */
export async function compactBlocks(db: CollectionDatabase, stale: CollectionSnapshot['stale']): Promise<void> {
  for (const key of stale.drop) {
    const tx = db.transaction('descriptorBlocks', 'readwrite');
    await commit(tx, [() => tx.store.delete(key)]);
  }
  for (const key of stale.rewrite) {
    await writing(async () => {
      const tx = db.transaction(['descriptorBlocks', 'packed'], 'readwrite');
      const [block, live] = await Promise.all([tx.objectStore('descriptorBlocks').get(key), tx.objectStore('packed').index('block').getAllKeys(key)]);
      if (!block) return void (await tx.done);
      const keep = new Set(live);
      const rows = filterRows(block, (id) => keep.has(id));
      await commit(tx, [rows.ids.length ? () => tx.objectStore('descriptorBlocks').put(rows) : () => tx.objectStore('descriptorBlocks').delete(key)]);
    });
  }
}

