/**
 * Delete and undo at the storage layer (src/index/trash.ts) on fake-indexeddb: a deletion takes every record of the
 * photos in ONE transaction and leaves the others alone; a restore puts them back exactly (same ids, import order,
 * features and maps) in one transaction, all or nothing; photos imported again meanwhile are left as they are, and
 * photos deleted before a model switch come back queued.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openCollection, type CollectionStore } from '../../src/index/db';
import { blockFromFeatures } from '../../src/index/blocks';
import { encodeMaps } from '../../src/index/mapCodec';
import { PHOTO_STORES, type ImageRecord } from '../../src/index/schema';
import { INDEX_NC, MAP_CODEC, modelKey, type IndexSettings } from '../../src/index/settings';
import { photoOrder, restorePhotos, takePhotos, takenBytes } from '../../src/index/trash';

const SETTINGS: IndexSettings = { modelId: 'resnet50', longSide: 512, nc: INDEX_NC, codec: MAP_CODEC, paused: false };
const KEY = modelKey(SETTINGS);

const image = (id: string): Omit<ImageRecord, 'seq'> => ({
  id,
  name: `${id}.jpg`,
  path: 'trip',
  addedAt: 100 + id.charCodeAt(0),
  width: 40,
  height: 30,
  originalBytes: 1234,
  originalType: 'image/jpeg',
  originalWidth: 40,
  originalHeight: 30,
  stored: 'original',
  thumb: new Blob([`thumb ${id}`], { type: 'image/jpeg' }),
  thumbWidth: 4,
  thumbHeight: 3,
});

async function addIndexed(store: CollectionStore, id: string, key = KEY) {
  await store.addImage(image(id), { blob: new Blob([`photo ${id}`], { type: 'image/jpeg' }) });
  const X = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => ((i + id.charCodeAt(0)) % 5) * 0.5);
  await store.putIndexed(
    {
      id,
      modelKey: key,
      grid: { H: 2, W: 3, cellWidth: 13.3, cellHeight: 15, imageWidth: 40, imageHeight: 30 },
      probabilities: Float32Array.from({ length: 10 }, (_, i) => (i + id.charCodeAt(0)) / 100),
      descriptor: Float32Array.from([0.6, 0.8, 0, id.charCodeAt(0) / 1000]),
      nc: INDEX_NC,
      backend: 'cpu',
      ms: 5,
      indexedAt: 2,
    },
    { id, modelKey: key, maps: encodeMaps(X, 2, 3, 4, 'uint8') },
  );
}

/** Every record of every per-photo store, by store (what "exactly as before" compares). */
async function dump(store: CollectionStore) {
  const out: Record<string, unknown[]> = {};
  for (const s of PHOTO_STORES) out[s] = await store.db.getAll(s);
  return out;
}

let store: CollectionStore;
beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  store = await openCollection();
  await store.saveSettings(SETTINGS);
  await addIndexed(store, 'a');
  await addIndexed(store, 'b');
  await store.addImage(image('q'), { blob: new Blob(['queued photo']) }); // still queued: no features
  await addIndexed(store, 'c');
});

describe('takePhotos', () => {
  it('removes every record of the photos in one transaction and returns them; the others stay', async () => {
    const spy = vi.spyOn(store.db, 'transaction');
    const taken = await takePhotos(store, ['b', 'q', 'b', 'nope']);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][0]).toEqual([...PHOTO_STORES]);
    expect(spy.mock.calls[0][1]).toBe('readwrite');
    spy.mockRestore();

    expect(taken.map((p) => p.id)).toEqual(['b', 'q']);
    expect(taken[0]).toMatchObject({ image: { id: 'b', seq: 1 }, features: { id: 'b', modelKey: KEY }, maps: { id: 'b' }, blobs: { id: 'b' } });
    expect(taken[0].queue).toBeUndefined();
    expect(taken[1]).toMatchObject({ queue: { id: 'q', seq: 2 } });
    expect(taken[1].features).toBeUndefined();
    expect(takenBytes(taken[0])).toBeGreaterThan(0);

    for (const s of PHOTO_STORES) {
      const keys = await store.db.getAllKeys(s);
      expect(keys, s).not.toContain('b');
      expect(keys, s).not.toContain('q');
    }
    expect(await photoOrder(store)).toEqual(['a', 'c']);
    expect((await store.integrity()).problems).toEqual([]);
  });
});

describe('restorePhotos', () => {
  it('puts the photos back exactly as they were, in one transaction', async () => {
    const before = await dump(store);
    const taken = await takePhotos(store, ['a', 'q']);
    const spy = vi.spyOn(store.db, 'transaction');
    const report = await restorePhotos(store, taken, KEY);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(report).toEqual({ restored: ['a', 'q'], requeued: [], present: [] });
    expect(await dump(store)).toEqual(before); // same ids, seq, features (typed arrays), maps, queue entry
    expect(await photoOrder(store)).toEqual(['a', 'b', 'q', 'c']);
    expect(await store.queued()).toEqual(['q']);
    expect((await store.integrity()).problems).toEqual([]);
  });

  it('writes nothing when any part of the restore fails', async () => {
    const taken = await takePhotos(store, ['a', 'c']);
    const broken = [taken[0], { ...taken[1], maps: { ...taken[1].maps!, id: undefined as unknown as string } }];
    await expect(restorePhotos(store, broken, KEY)).rejects.toThrow();
    for (const s of PHOTO_STORES) expect(await store.db.getAllKeys(s), s).not.toContain('a');
    expect(await photoOrder(store)).toEqual(['b', 'q']);
  });

  it('leaves a photo imported again meanwhile as it is, and queues photos of another model', async () => {
    const taken = await takePhotos(store, ['a', 'b']);
    await store.addImage(image('a'), { blob: new Blob(['a again']) }); // imported again: queued, new seq
    const otherModel = modelKey({ ...SETTINGS, modelId: 'mobilenet_v1_0.75' });
    const report = await restorePhotos(store, taken, otherModel);
    expect(report).toEqual({ restored: [], requeued: ['b'], present: ['a'] });
    expect((await store.getImage('a'))!.seq).toBe(4);
    expect((await store.getImage('b'))!.seq).toBe(1);
    expect(await store.getFeatures(['b'])).toEqual([undefined]);
    expect(await store.queued()).toEqual(['b', 'q', 'a']);
    expect((await store.integrity()).problems).toEqual([]);
  });
});

describe('photos in a descriptor block (schema v3)', () => {
  /** Packs a, b, c into one block, as the worker does once a block's worth is indexed. */
  async function packAll() {
    const features = (await store.getFeatures(['a', 'b', 'c'])).map((f) => f!);
    expect(await store.packBlock(blockFromFeatures(features, KEY))).toBe(0);
  }
  const liveRows = async () => (await store.snapshot(KEY, 4, false)).blocks.flatMap((b) => b.ids);
  const tailIds = async () => (await store.snapshot(KEY, 4, false)).tail.map((f) => f.id);

  it('a deleted photo leaves its block: the row is retired, the other rows stay; its thumbnail goes too', async () => {
    await packAll();
    const taken = await takePhotos(store, ['b']);
    expect(taken[0].packed).toEqual({ id: 'b', block: 0 });
    expect(taken[0].thumbs?.id).toBe('b');
    expect(await liveRows()).toEqual(['a', 'c']);
    expect(await tailIds()).toEqual([]);
    const snap = await store.snapshot(KEY, 4, false);
    expect(snap.stale.rewrite).toEqual([0]); // worth rewriting without the retired row
    expect(await store.db.getAllKeys('thumbs')).not.toContain('b');
  });

  it('undo puts the photo back unpacked (read from its features record), whether or not the block was rewritten meanwhile', async () => {
    await packAll();
    const before = await store.getFeatures(['b']);
    const taken = await takePhotos(store, ['b']);
    await store.compactBlocks((await store.snapshot(KEY, 4, false)).stale);
    expect((await store.db.get('descriptorBlocks', 0))!.ids).toEqual(['a', 'c']);
    expect((await restorePhotos(store, taken, KEY)).restored).toEqual(['b']);
    expect(await store.db.get('packed', 'b')).toBeUndefined();
    expect(await liveRows()).toEqual(['a', 'c']);
    expect(await tailIds()).toEqual(['b']);
    expect(await store.getFeatures(['b'])).toEqual(before);
    expect(await photoOrder(store)).toEqual(['a', 'b', 'q', 'c']);

    // Without the rewrite: the old row of b is not counted twice.
    const again = await takePhotos(store, ['a']);
    await restorePhotos(store, again, KEY);
    expect(await liveRows()).toEqual(['c']);
    expect((await tailIds()).sort()).toEqual(['a', 'b']);
    expect((await store.integrity()).problems).toEqual([]);
  });
});
