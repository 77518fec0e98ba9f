/**
 * src/index on fake-indexeddb: the collection schema, its migrations, and that every multi-store write is one
 * transaction (a record is complete or absent).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import 'fake-indexeddb/auto'; // IDBRequest, IDBKeyRange... as globals (idb needs them)
import { IDBFactory } from 'fake-indexeddb';
import { openDB, unwrap } from 'idb';
import { openCollection, StorageFullError, type CollectionStore } from '../../src/index/db';
import { sha256Hex } from '../../src/index/hash';
import { decodeMaps, encodeMaps } from '../../src/index/mapCodec';
import { blockFromFeatures } from '../../src/index/blocks';
import type { SourceWrite } from '../../src/index/db';
import { DB_NAME, MIGRATIONS, SCHEMA_VERSION, type FeatureRecord, type ImageRecord, type MapsRecord, type Migration } from '../../src/index/schema';
import { INDEX_NC, MAP_CODEC, modelKey, type IndexSettings } from '../../src/index/settings';

const SETTINGS: IndexSettings = { modelId: 'resnet50', longSide: 512, nc: INDEX_NC, codec: MAP_CODEC, paused: false };
const KEY = modelKey(SETTINGS);

function image(id: string, name = `${id}.jpg`): Omit<ImageRecord, 'seq'> {
  return {
    id,
    name,
    path: '',
    addedAt: 1,
    width: 40,
    height: 30,
    originalBytes: 123,
    originalType: 'image/jpeg',
    originalWidth: 40,
    originalHeight: 30,
    stored: 'original',
    thumb: new Blob([`thumb ${id}`], { type: 'image/jpeg' }),
    thumbWidth: 4,
    thumbHeight: 3,
  };
}

function indexed(id: string, key = KEY): { features: FeatureRecord; maps: MapsRecord } {
  const X = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 5) * 0.5);
  return {
    features: {
      id,
      modelKey: key,
      grid: { H: 2, W: 3, cellWidth: 13.3, cellHeight: 15, imageWidth: 40, imageHeight: 30 },
      probabilities: Float32Array.from({ length: 10 }, (_, i) => i / 45),
      descriptor: Float32Array.from([0.6, 0.8, 0, 0]),
      nc: INDEX_NC,
      backend: 'cpu',
      ms: 5,
      indexedAt: 2,
    },
    maps: { id, modelKey: key, maps: encodeMaps(X, 2, 3, 4, 'uint8') },
  };
}

let store: CollectionStore;
/** A photo's stored copy. */
const blobOf = async (id: string) => {
  const s = await store.getSource(id);
  return s && 'blob' in s ? s.blob : undefined;
};
/** Ids of the indexed photos of a model, as start-up reads them (packed blocks, then records). */
const indexedIds = async (key = KEY) => {
  const snap = await store.snapshot(key, 4);
  return [...snap.blocks.flatMap((b) => b.ids), ...snap.tail.map((f) => f.id)];
};
beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory(); // a fresh, empty "browser" per test
  store = await openCollection();
});

describe('openCollection', () => {
  it('creates every store at the current schema version, empty, with no settings', async () => {
    expect(store.db.version).toBe(SCHEMA_VERSION);
    expect([...store.db.objectStoreNames].sort()).toEqual(['blobs', 'descriptorBlocks', 'features', 'images', 'maps', 'meta', 'packed', 'pending', 'queue', 'roots', 'thumbs']);
    expect(await store.settings()).toBeUndefined();
    expect(await store.counts()).toEqual({ images: 0, queued: 0, indexed: 0 });
  });

  it('upgrades an older database step by step, keeping its data', async () => {
    store.close();
    globalThis.indexedDB = new IDBFactory();
    const v1 = await openCollection({ migrations: MIGRATIONS.slice(0, 1) });
    // Written as version 1 of the app wrote it (this version's addImage also touches the v2 'pending' store).
    await v1.db.put('images', { ...image('a'), seq: 0 });
    await v1.db.put('blobs', { id: 'a', blob: new Blob(['a']) });
    await v1.db.put('queue', { id: 'a', seq: 0 });
    await v1.saveSettings(SETTINGS);
    v1.close();

    const ran: number[] = [];
    const v2: Migration = (db, tx) => {
      ran.push(db.version);
      tx.objectStore('images').createIndex('name' as never, 'name');
    };
    const upgraded = await openCollection({ migrations: [...MIGRATIONS.slice(0, 1), v2] });
    expect(ran).toEqual([2]);
    expect(upgraded.db.version).toBe(2);
    expect((await upgraded.db.getAllFromIndex('images', 'seq')).map((i) => i.id)).toEqual(['a']);
    expect(await upgraded.settings()).toEqual(SETTINGS);
    expect(await upgraded.queued()).toEqual(['a']);
    upgraded.close();

    // This code (version 1) opening a database a newer app wrote: a clear message, not a crash.
    await expect(openCollection({ migrations: MIGRATIONS.slice(0, 1) })).rejects.toThrow(/newer version of the app/);
  });

  it('closes itself and says so when another tab upgrades the schema', async () => {
    const onVersionChange = vi.fn();
    store.close();
    const mine = await openCollection({ onVersionChange });
    const other = await openDB(DB_NAME, SCHEMA_VERSION + 1);
    expect(onVersionChange).toHaveBeenCalledOnce();
    other.close();
    mine.close();
  });
});

describe('CollectionStore', () => {
  it('adds photos in import order, each queued for indexing, and refuses a second copy of the same id', async () => {
    const a = await store.addImage(image('a'), { blob: new Blob(['bytes a'], { type: 'image/jpeg' }) });
    const b = await store.addImage(image('b'), { blob: new Blob(['bytes b'], { type: 'image/jpeg' }) });
    expect(a?.seq).toBe(0);
    expect(b?.seq).toBe(1);
    expect(await store.addImage(image('a', 'renamed.jpg'), { blob: new Blob(['other']) })).toBeNull();

    expect((await store.listImages()).map((i) => [i.id, i.name])).toEqual([
      ['a', 'a.jpg'],
      ['b', 'b.jpg'],
    ]);
    expect(await store.queued()).toEqual(['a', 'b']);
    expect(await store.hasImage('a')).toBe(true);
    expect(await store.hasImage('zz')).toBe(false);
    expect(await (await blobOf('a'))!.text()).toBe('bytes a');
    const thumb = (await store.getImage('b'))!.thumb;
    expect(thumb).toBeInstanceOf(Blob);
    expect(await thumb.text()).toBe('thumb b');
    expect(await store.counts()).toEqual({ images: 2, queued: 2, indexed: 0 });
  });

  it('records features and maps and leaves the queue in one step; typed arrays and maps round-trip', async () => {
    await store.addImage(image('a'), { blob: new Blob(['a']) });
    await store.addImage(image('b'), { blob: new Blob(['b']) });
    const { features, maps } = indexed('b');
    expect(await store.putIndexed(features, maps)).toBe(true);

    expect(await store.queued()).toEqual(['a']);
    const [f] = (await store.snapshot(KEY, 4)).tail;
    expect(f.id).toBe('b');
    expect(f.mapsBytes).toBe(maps.maps.data.byteLength);
    expect(f.probabilities).toBeInstanceOf(Float32Array);
    expect(Array.from(f.descriptor)).toEqual(Array.from(features.descriptor));
    expect(f.grid).toEqual(features.grid);
    const [m, missing] = await store.getMaps(['b', 'a']);
    expect(missing).toBeUndefined();
    expect(Array.from(decodeMaps(m!.maps))).toEqual(Array.from(decodeMaps(maps.maps)));
    expect(await indexedIds('mobilenet_v1_0.75@512')).toEqual([]);
    expect(await store.counts()).toEqual({ images: 2, queued: 1, indexed: 1 });
  });

  it('adds already indexed photos (an imported index) in one transaction with their block; duplicates once; no photo only for photos already here', async () => {
    await store.addImage(image('a'), { blob: new Blob(['a']) }); // in the collection, queued, not indexed yet
    const entry = (id: string, source: SourceWrite | null) => ({ image: image(id), source, ...indexed(id) });
    const batch = [entry('b', { blob: new Blob(['b']) }), entry('a', null), entry('c', null), entry('d', { none: true })];
    const block = blockFromFeatures(batch.map((e) => e.features), KEY);
    expect(await store.addIndexedImages(batch, block)).toEqual(['added', 'indexed', 'no-photo', 'added']);
    expect(await store.addIndexedImages([entry('b', { blob: new Blob(['b']) })], null)).toEqual(['duplicate']);
    expect(await store.queued()).toEqual([]);
    expect((await store.listImages()).map((i) => [i.id, i.seq])).toEqual([['a', 0], ['b', 1], ['d', 2]]);
    // The rows written went into one block, read back at start-up without a feature record read.
    const snap = await store.snapshot(KEY, 4);
    expect(snap.blocks.map((b) => b.ids)).toEqual([['b', 'a', 'd']]);
    expect(snap.tail).toEqual([]);
    expect(Array.from(snap.blocks[0].descriptors.subarray(0, 4))).toEqual(Array.from(indexed('b').features.descriptor));
    expect(await (await blobOf('b'))!.text()).toBe('b');
    expect(await store.getSource('d')).toEqual({ id: 'd', none: true });
    expect(await store.counts()).toEqual({ images: 3, queued: 0, indexed: 3 });
  });

  it('writes nothing for a photo removed while the network ran', async () => {
    await store.addImage(image('a'), { blob: new Blob(['a']) });
    await store.removeImages(['a']);
    const { features, maps } = indexed('a');
    expect(await store.putIndexed(features, maps)).toBe(false);
    expect(await store.counts()).toEqual({ images: 0, queued: 0, indexed: 0 });
    expect(await store.getMaps(['a'])).toEqual([undefined]);
  });

  it('refuses features and maps of different photos or models', async () => {
    await expect(store.putIndexed(indexed('a').features, indexed('b').maps)).rejects.toThrow(/different photos or models/);
    await expect(store.putIndexed(indexed('a').features, indexed('a', 'other@512').maps)).rejects.toThrow(/different photos or models/);
  });

  it('a model change drops every feature, queues every photo again in import order, and saves the settings', async () => {
    for (const id of ['c', 'a', 'b']) await store.addImage(image(id), { blob: new Blob([id]) });
    for (const id of ['c', 'a', 'b']) await store.putIndexed(indexed(id).features, indexed(id).maps);
    expect(await store.queued()).toEqual([]);

    const mobilenet = { ...SETTINGS, modelId: 'mobilenet_v1_0.75' };
    expect(await store.reindexAll(mobilenet)).toBe(3);
    expect(await store.queued()).toEqual(['c', 'a', 'b']);
    expect(await indexedIds()).toEqual([]);
    expect(await store.getMaps(['a'])).toEqual([undefined]);
    expect(await store.settings()).toEqual(mobilenet);
    expect(await store.counts()).toEqual({ images: 3, queued: 3, indexed: 0 });
  });

  it('removes photos from every store, and clear empties the collection but keeps the settings', async () => {
    await store.saveSettings(SETTINGS);
    for (const id of ['a', 'b', 'c']) await store.addImage(image(id), { blob: new Blob([id]) });
    await store.putIndexed(indexed('a').features, indexed('a').maps);
    await store.removeImages(['a', 'b']);
    expect((await store.listImages()).map((i) => i.id)).toEqual(['c']);
    expect(await store.getSource('a')).toBeUndefined();
    expect(await store.counts()).toEqual({ images: 1, queued: 1, indexed: 0 });

    await store.clear();
    expect(await store.counts()).toEqual({ images: 0, queued: 0, indexed: 0 });
    expect(await store.settings()).toEqual(SETTINGS);
    expect((await store.addImage(image('d'), { blob: new Blob(['d']) }))?.seq).toBe(0);
  });

  it('a full disk surfaces as StorageFullError with a message for the user, and nothing is half-written', async () => {
    await store.addImage(image('a'), { blob: new Blob(['a']) });
    const real = store.db.transaction.bind(store.db);
    // The stored copy of the next photo does not fit: its put fails after the metadata puts were issued.
    // (idb wraps what the spy returns, so it returns the raw IDBTransaction.)
    const spy = vi.spyOn(store.db, 'transaction').mockImplementation(((...args: Parameters<typeof real>) => {
      const tx = unwrap(real(...args));
      if (tx.objectStoreNames.contains('blobs')) {
        tx.objectStore('blobs').put = () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
      }
      return tx;
    }) as unknown as typeof real);
    const error = await store.addImage(image('b'), { blob: new Blob(['b']) }).catch((e: unknown) => e);
    spy.mockRestore();
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toMatch(/storage for this site is full/);
    expect((await store.listImages()).map((i) => i.id)).toEqual(['a']);
    expect(await store.queued()).toEqual(['a']);
    expect((await store.addImage(image('c'), { blob: new Blob(['c']) }))?.seq).toBe(1); // the import counter was not advanced
  });
});

describe('schema v3: descriptor blocks, photos linked or kept as thumbnails', () => {
  async function indexedPhotos(ids: string[]): Promise<void> {
    for (const id of ids) await store.addImage(image(id), { blob: new Blob([id]) });
    for (const id of ids) expect(await store.putIndexed(indexed(id).features, indexed(id).maps)).toBe(true);
  }

  it('a v2 collection opens as v3 with every record readable: copies stay copies, features without maps sizes are sized from their grid', async () => {
    store.close();
    globalThis.indexedDB = new IDBFactory();
    const v2 = await openCollection({ migrations: MIGRATIONS.slice(0, 2) });
    const { features, maps } = indexed('a');
    const { mapsBytes: _, ...v2Features } = features;
    await v2.db.put('images', { ...image('a'), seq: 0 });
    await v2.db.put('blobs', { id: 'a', blob: new Blob(['bytes a']) });
    await v2.db.put('features', v2Features);
    await v2.db.put('maps', maps);
    v2.close();

    store = await openCollection();
    expect(store.db.version).toBe(3);
    expect(await (await blobOf('a'))!.text()).toBe('bytes a');
    const snap = await store.snapshot(KEY, 4);
    expect(snap.blocks).toEqual([]);
    expect(snap.tail.map((f) => [f.id, f.mapsBytes])).toEqual([['a', undefined]]);
    // Packed on the next start: its maps size comes from the grid (dense uint8 maps: H * W * K).
    const rows = blockFromFeatures(snap.tail, KEY);
    expect(Array.from(rows.mapsBytes)).toEqual([2 * 3 * 4]);
    expect(await store.packBlock(rows)).toBe(0);
    const again = await store.snapshot(KEY, 4);
    expect([again.blocks.map((b) => b.ids), again.tail]).toEqual([[['a']], []]);
    expect((await store.integrity()).problems).toEqual([]);
  });

  it('start-up reads packed photos from their block and the rest from their records, in order; removal and re-indexing retire block rows', async () => {
    await indexedPhotos(['a', 'b', 'c', 'd']);
    const first = await store.snapshot(KEY, 4);
    expect(await store.packBlock(blockFromFeatures(first.tail.slice(0, 3), KEY))).toBe(0);
    let snap = await store.snapshot(KEY, 4);
    expect(snap.blocks.map((b) => b.ids)).toEqual([['a', 'b', 'c']]);
    expect(snap.tail.map((f) => f.id)).toEqual(['d']);
    expect(snap.stale).toEqual({ rewrite: [], drop: [] });

    // b removed, c queued again (its features were unusable) and indexed again with a new descriptor: neither
    // comes back from the old block; c is read from its new record.
    await store.removeImages(['b']);
    expect(await store.requeue(['c'])).toBe(1);
    const c2 = indexed('c');
    c2.features.descriptor = Float32Array.from([0, 0, 1, 0]);
    await store.putIndexed(c2.features, c2.maps);
    snap = await store.snapshot(KEY, 4);
    expect(snap.blocks.map((b) => b.ids)).toEqual([['a']]);
    expect(snap.tail.map((f) => [f.id, Array.from(f.descriptor)])).toEqual([['c', [0, 0, 1, 0]], ['d', Array.from(indexed('d').features.descriptor)]]);
    expect(snap.stale).toEqual({ rewrite: [0], drop: [] });

    // Compaction rewrites the block with its live rows only; the snapshot is the same after it.
    await store.compactBlocks(snap.stale);
    const block = await store.db.get('descriptorBlocks', 0);
    expect(block!.ids).toEqual(['a']);
    expect(block!.descriptors).toHaveLength(4);
    expect((await store.snapshot(KEY, 4)).stale).toEqual({ rewrite: [], drop: [] });

    // Packing a photo removed meanwhile leaves it out; a block of another model or dimension is dropped.
    const rows = blockFromFeatures([indexed('c').features, indexed('zz').features], KEY);
    expect(await store.packBlock(rows)).toBe(1);
    expect((await store.db.get('descriptorBlocks', 1))!.ids).toEqual(['c']);
    expect((await store.snapshot(KEY, 8)).stale.drop).toEqual([0, 1]);
    expect((await store.integrity()).problems).toEqual([]);

    // A model change and a clear empty the blocks.
    await store.reindexAll({ ...SETTINGS, longSide: 256 });
    expect(await store.db.count('descriptorBlocks')).toBe(0);
    expect(await store.db.count('packed')).toBe(0);
  });

  it('thumbnails are kept apart: start-up can list 50,000 photos without reading one; v2 records keep theirs inside', async () => {
    await store.addImage(image('a'), { blob: new Blob(['a']) });
    await store.db.put('images', { ...image('old'), seq: 5 }); // a v2 record, thumbnail inside
    expect((await store.db.get('images', 'a'))!.thumb).toBeUndefined();
    const bare = await store.snapshot(KEY, 4, false);
    expect(bare.images.map((i) => [i.id, i.thumb === undefined])).toEqual([['a', true], ['old', false]]);
    const full = await store.snapshot(KEY, 4);
    expect(await Promise.all(full.images.map((i) => i.thumb!.text()))).toEqual(['thumb a', 'thumb old']);
    expect(await Promise.all((await store.getThumbs(['old', 'a', 'zz'])).map((t) => t?.text() ?? null))).toEqual(['thumb old', 'thumb a', null]);
    expect(await (await store.getImage('a'))!.thumb.text()).toBe('thumb a');
    await store.removeImages(['a']);
    expect(await store.db.count('thumbs')).toBe(0);
  });

  it('a copy kept only for the network (storage "none") goes in the transaction that records the features; links are kept as they are', async () => {
    await store.addImage({ ...image('a'), source: 'none' }, { blob: new Blob(['a']), temporary: true });
    await store.addImage({ ...image('b'), source: 'disk' }, { disk: { root: 'r1', path: ['holiday', 'b.jpg'] } });
    expect(await (await blobOf('a'))!.text()).toBe('a');
    await store.putIndexed(indexed('a').features, indexed('a').maps);
    await store.putIndexed(indexed('b').features, indexed('b').maps);
    expect(await store.getSource('a')).toEqual({ id: 'a', none: true });
    expect(await store.getSource('b')).toEqual({ id: 'b', disk: { root: 'r1', path: ['holiday', 'b.jpg'] } });
    expect((await store.repair()).removed).toEqual([]);
    expect(await store.counts()).toEqual({ images: 2, queued: 0, indexed: 2 });
  });
});

describe('content ids and settings', () => {
  it('sha256Hex gives the standard digest for blobs and buffers', async () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(await sha256Hex(new Blob(['abc']))).toBe(abc);
    expect(await sha256Hex(new TextEncoder().encode('abc').buffer as ArrayBuffer)).toBe(abc);
  });

  it('the model key separates models and input scales', () => {
    expect(modelKey({ modelId: 'resnet50', longSide: 512 })).not.toBe(modelKey({ modelId: 'resnet50', longSide: 1024 }));
    expect(modelKey({ modelId: 'resnet50', longSide: 512 })).not.toBe(modelKey({ modelId: 'mobilenet_v1_0.75', longSide: 512 }));
    expect(MAP_CODEC).toBe('uint8-sparse');
  });
});
