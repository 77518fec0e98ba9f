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
beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory(); // a fresh, empty "browser" per test
  store = await openCollection();
});

describe('openCollection', () => {
  it('creates every store at the current schema version, empty, with no settings', async () => {
    expect(store.db.version).toBe(SCHEMA_VERSION);
    expect([...store.db.objectStoreNames].sort()).toEqual(['blobs', 'features', 'images', 'maps', 'meta', 'pending', 'queue']);
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
    expect((await upgraded.listImages()).map((i) => i.id)).toEqual(['a']);
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
    const a = await store.addImage(image('a'), new Blob(['bytes a'], { type: 'image/jpeg' }));
    const b = await store.addImage(image('b'), new Blob(['bytes b'], { type: 'image/jpeg' }));
    expect(a?.seq).toBe(0);
    expect(b?.seq).toBe(1);
    expect(await store.addImage(image('a', 'renamed.jpg'), new Blob(['other']))).toBeNull();

    expect((await store.listImages()).map((i) => [i.id, i.name])).toEqual([
      ['a', 'a.jpg'],
      ['b', 'b.jpg'],
    ]);
    expect(await store.queued()).toEqual(['a', 'b']);
    expect(await store.hasImage('a')).toBe(true);
    expect(await store.hasImage('zz')).toBe(false);
    expect(await (await store.getBlob('a'))!.text()).toBe('bytes a');
    const thumb = (await store.getImage('b'))!.thumb;
    expect(thumb).toBeInstanceOf(Blob);
    expect(await thumb.text()).toBe('thumb b');
    expect(await store.counts()).toEqual({ images: 2, queued: 2, indexed: 0 });
  });

  it('records features and maps and leaves the queue in one step; typed arrays and maps round-trip', async () => {
    await store.addImage(image('a'), new Blob(['a']));
    await store.addImage(image('b'), new Blob(['b']));
    const { features, maps } = indexed('b');
    expect(await store.putIndexed(features, maps)).toBe(true);

    expect(await store.queued()).toEqual(['a']);
    const [f] = await store.listFeatures(KEY);
    expect(f.id).toBe('b');
    expect(f.probabilities).toBeInstanceOf(Float32Array);
    expect(Array.from(f.descriptor)).toEqual(Array.from(features.descriptor));
    expect(f.grid).toEqual(features.grid);
    const [m, missing] = await store.getMaps(['b', 'a']);
    expect(missing).toBeUndefined();
    expect(Array.from(decodeMaps(m!.maps))).toEqual(Array.from(decodeMaps(maps.maps)));
    expect(await store.listFeatures('mobilenet_v1_0.75@512')).toEqual([]);
    expect(await store.counts()).toEqual({ images: 2, queued: 1, indexed: 1 });
  });

  it('adds already indexed photos (an imported index) without queueing them; duplicates once; no photo copy is refused', async () => {
    await store.addImage(image('a'), new Blob(['a'])); // in the collection, queued, not indexed yet
    const a = indexed('a');
    const b = indexed('b');
    expect(await store.addIndexedImage(image('b'), new Blob(['b']), b.features, b.maps)).toBe('added');
    expect(await store.addIndexedImage(image('b'), new Blob(['b']), b.features, b.maps)).toBe('duplicate');
    expect(await store.addIndexedImage(image('a'), null, a.features, a.maps)).toBe('indexed');
    expect(await store.queued()).toEqual([]);
    expect((await store.listImages()).map((i) => [i.id, i.seq])).toEqual([['a', 0], ['b', 1]]);
    expect((await store.listFeatures(KEY)).map((f) => f.id)).toEqual(['a', 'b']);
    expect(await (await store.getBlob('b'))!.text()).toBe('b');
    const c = indexed('c');
    await expect(store.addIndexedImage(image('c'), null, c.features, c.maps)).rejects.toThrow(/exported without photos/);
    expect(await store.counts()).toEqual({ images: 2, queued: 0, indexed: 2 });
  });

  it('writes nothing for a photo removed while the network ran', async () => {
    await store.addImage(image('a'), new Blob(['a']));
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
    for (const id of ['c', 'a', 'b']) await store.addImage(image(id), new Blob([id]));
    for (const id of ['c', 'a', 'b']) await store.putIndexed(indexed(id).features, indexed(id).maps);
    expect(await store.queued()).toEqual([]);

    const mobilenet = { ...SETTINGS, modelId: 'mobilenet_v1_0.75' };
    expect(await store.reindexAll(mobilenet)).toBe(3);
    expect(await store.queued()).toEqual(['c', 'a', 'b']);
    expect(await store.listFeatures(KEY)).toEqual([]);
    expect(await store.getMaps(['a'])).toEqual([undefined]);
    expect(await store.settings()).toEqual(mobilenet);
    expect(await store.counts()).toEqual({ images: 3, queued: 3, indexed: 0 });
  });

  it('removes photos from every store, and clear empties the collection but keeps the settings', async () => {
    await store.saveSettings(SETTINGS);
    for (const id of ['a', 'b', 'c']) await store.addImage(image(id), new Blob([id]));
    await store.putIndexed(indexed('a').features, indexed('a').maps);
    await store.removeImages(['a', 'b']);
    expect((await store.listImages()).map((i) => i.id)).toEqual(['c']);
    expect(await store.getBlob('a')).toBeUndefined();
    expect(await store.counts()).toEqual({ images: 1, queued: 1, indexed: 0 });

    await store.clear();
    expect(await store.counts()).toEqual({ images: 0, queued: 0, indexed: 0 });
    expect(await store.settings()).toEqual(SETTINGS);
    expect((await store.addImage(image('d'), new Blob(['d'])))?.seq).toBe(0);
  });

  it('a full disk surfaces as StorageFullError with a message for the user, and nothing is half-written', async () => {
    await store.addImage(image('a'), new Blob(['a']));
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
    const error = await store.addImage(image('b'), new Blob(['b'])).catch((e: unknown) => e);
    spy.mockRestore();
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toMatch(/storage for this site is full/);
    expect((await store.listImages()).map((i) => i.id)).toEqual(['a']);
    expect(await store.queued()).toEqual(['a']);
    expect((await store.addImage(image('c'), new Blob(['c'])))?.seq).toBe(1); // the import counter was not advanced
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
    expect(MAP_CODEC).toBe('uint8');
  });
});
