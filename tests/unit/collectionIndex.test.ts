/**
 * The worker's in-memory collection (src/index/memory/collectionIndex.ts): the LRU maps cache and its byte budget,
 * positions after add/remove/reset, the resident OfA blocks brought up to date from the first changed position
 * only, OfA descriptors for another NC recomputed from the stored maps, and maps served from the cache or read
 * from the store (src/index on fake-indexeddb). cpu backend.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { cwDescriptor } from '../../src/cw/descriptor';
import { blockFromFeatures } from '../../src/index/blocks';
import { openCollection, type CollectionStore } from '../../src/index/db';
import { decodeMaps, encodeMaps, type EncodedMaps } from '../../src/index/mapCodec';
import type { FeatureRecord, ImageRecord } from '../../src/index/schema';
import { INDEX_NC, modelKey } from '../../src/index/settings';
import { BLOCK_COLUMNS } from '../../src/search/descriptorBlocks';
import type { DescriptorBlocks } from '../../src/search/types';
import { CollectionIndex, MapsCache } from '../../src/index/memory/collectionIndex';
import { seededValues } from '../../scripts/lib/random';

const K = 6;
const C = 80; // more classes than INDEX_NC, as with the ImageNet models
const KEY = modelKey({ modelId: 'resnet50', longSide: 512 });
let w: tf.Tensor2D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.tensor2d(seededValues(K * C, 3, 0).map((v) => v - 0.5), [K, C]);
});

/** Class probabilities whose two most probable classes are `top` (in that order). */
function probabilities(top: [number, number]): Float32Array {
  const p = Float32Array.from({ length: C }, (_, c) => 0.01 + c / 1000);
  p[top[0]] = 0.5;
  p[top[1]] = 0.3;
  return p;
}

function record(id: string, descriptor: ArrayLike<number>, opts: { nc?: number; top?: [number, number]; H?: number; W?: number } = {}): FeatureRecord {
  const { H = 3, W = 4 } = opts;
  return {
    id,
    modelKey: KEY,
    grid: { H, W, cellWidth: 32, cellHeight: 32, imageWidth: 32 * W, imageHeight: 32 * H },
    probabilities: probabilities(opts.top ?? [0, 1]),
    descriptor: Float32Array.from(descriptor),
    nc: opts.nc ?? INDEX_NC,
    backend: 'cpu',
    ms: 1,
    indexedAt: 1,
  };
}

const mapsOf = (H: number, W: number, seed: number): EncodedMaps => encodeMaps(seededValues(H * W * K, seed, 0.4), H, W, K, 'uint8');
const sized = (bytes: number): EncodedMaps => ({ codec: 'uint8', H: 1, W: 1, K: bytes, scale: 1, data: new ArrayBuffer(bytes) });

/** The descriptors the blocks hold, image by image (blocks are [D, n_b], images in order). */
function columns(d: DescriptorBlocks): number[][] {
  const out: number[][] = [];
  for (const b of d.blocks) {
    const [D, n] = b.shape;
    const v = b.dataSync();
    for (let j = 0; j < n; j++) out.push(Array.from({ length: D }, (_, k) => v[k * n + j]));
  }
  return out;
}

describe('MapsCache', () => {
  it('evicts the least recently used entries when over its byte budget; get() counts as a use', () => {
    const cache = new MapsCache(100);
    for (const id of ['a', 'b', 'c']) cache.set(id, sized(30));
    expect(cache.get('a')).toBeDefined(); // now b is the least recently used
    cache.set('d', sized(30)); // 120 bytes: b goes
    expect(cache.get('b')).toBeUndefined();
    // Uses now run c, a, d (oldest first); 50 more bytes must free 40: c and a go, in that order.
    for (const id of ['c', 'a', 'd']) expect(cache.get(id), id).toBeDefined();
    cache.set('e', sized(50));
    expect([cache.get('c'), cache.get('a')]).toEqual([undefined, undefined]);
    expect(cache.get('d')?.data.byteLength).toBe(30);
    expect(cache.get('e')?.data.byteLength).toBe(50);
  });

  it('never holds one entry larger than the budget, and does not evict others for it', () => {
    const cache = new MapsCache(100);
    cache.set('a', sized(60));
    cache.set('huge', sized(101));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    cache.set('exact', sized(100)); // fits alone
    expect([cache.get('a'), cache.get('exact')?.data.byteLength]).toEqual([undefined, 100]);
  });

  it('counts a replaced or deleted entry once: the budget is used exactly', () => {
    const cache = new MapsCache(100);
    cache.set('a', sized(40));
    cache.set('a', sized(10)); // replaces: 10 bytes held, not 50
    cache.set('b', sized(50));
    cache.set('c', sized(40)); // 100 in all: nothing evicted
    expect(['a', 'b', 'c'].map((id) => cache.get(id)?.data.byteLength)).toEqual([10, 50, 40]);
    cache.delete('b');
    cache.set('d', sized(50)); // 10 + 40 + 50
    expect(['a', 'c', 'd'].map((id) => cache.get(id)?.data.byteLength)).toEqual([10, 40, 50]);
    cache.clear();
    expect(['a', 'c', 'd'].map((id) => cache.get(id))).toEqual([undefined, undefined, undefined]);
    cache.set('e', sized(100));
    expect(cache.get('e')).toBeDefined();
  });
});

describe('CollectionIndex', () => {
  let store: CollectionStore;
  let index: CollectionIndex;

  beforeEach(async () => {
    globalThis.indexedDB = new IDBFactory();
    store = await openCollection();
    index = new CollectionIndex(store);
  });
  afterEach(() => {
    index.dispose();
    store.close();
    vi.restoreAllMocks();
  });

  /** Puts photos with these records and maps in the store, as the indexer does. */
  async function stored(records: FeatureRecord[], maps: EncodedMaps[]): Promise<void> {
    for (const [i, r] of records.entries()) {
      const image: Omit<ImageRecord, 'seq'> = {
        id: r.id, name: `${r.id}.jpg`, path: '', addedAt: 1, width: r.grid.imageWidth, height: r.grid.imageHeight, originalBytes: 1,
        originalType: 'image/jpeg', originalWidth: r.grid.imageWidth, originalHeight: r.grid.imageHeight, stored: 'original',
        thumb: new Blob(['t']), thumbWidth: 1, thumbHeight: 1,
      };
      await store.addImage(image, { blob: new Blob([r.id]) });
      expect(await store.putIndexed(r, { id: r.id, modelKey: KEY, maps: maps[i] })).toBe(true);
    }
  }

  it('restore puts removed records back in their place and rebuilds the resident blocks from there (undo of a delete)', async () => {
    const w = tf.tensor2d(seededValues(K * C, 5, 0), [K, C]);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const recs = ids.map((id, i) => record(id, Array.from({ length: K }, (_, k) => (k === i % K ? 1 : 0))));
    index.reset(recs);
    const full = columns(await index.offlineDescriptors(INDEX_NC, w));
    index.remove(['b', 'd']);
    expect(index.ids).toEqual(['a', 'c', 'e']);
    expect(columns(await index.offlineDescriptors(INDEX_NC, w))).toEqual([full[0], full[2], full[4]]);
    index.restore([recs[3], recs[1]], ['x', 'a', 'b', 'c', 'd', 'e']); // 'x': a photo not indexed, ignored
    expect(index.ids).toEqual(ids);
    const d = index.record('d')!;
    expect([d.id, [...d.descriptor], d.grid, d.nc]).toEqual(['d', [...recs[3].descriptor], recs[3].grid, recs[3].nc]);
    expect(index.unpackedCount).toBe(5); // restored rows are packed again like newly indexed ones
    expect(columns(await index.offlineDescriptors(INDEX_NC, w))).toEqual(full);
    w.dispose();
  });

  it('keeps records in order: add appends, re-adding moves to the end, remove closes the gap, reset replaces', () => {
    const d = [1, 0, 0, 0, 0, 0];
    for (const id of ['a', 'b', 'c', 'd']) index.add(record(id, d));
    expect(index.ids).toEqual(['a', 'b', 'c', 'd']);
    index.remove(['b', 'zz']);
    expect(index.ids).toEqual(['a', 'c', 'd']);
    expect([index.size, index.has('b'), index.record('b'), index.record('d')?.id]).toEqual([3, false, undefined, 'd']);
    index.add(record('a', [0, 1, 0, 0, 0, 0]));
    expect(index.ids).toEqual(['c', 'd', 'a']);
    expect(Array.from(index.record('a')!.descriptor)).toEqual([0, 1, 0, 0, 0, 0]);
    expect(index.collection(null).grids).toHaveLength(3);
    index.reset([record('x', d), record('y', d)]);
    expect(index.ids).toEqual(['x', 'y']);
    expect(['a', 'c', 'd'].some((id) => index.has(id))).toBe(false);
  });

  it('holds photos from stored blocks and from records without an object per photo; packs the unpacked ones into blocks read back at the next start', async () => {
    const records = Array.from({ length: 5 }, (_, i) => record(`p${i}`, [i, 1, 0, 0, 0, 0], { H: 2 + (i % 2), W: 3 }));
    await stored(records, records.map((r) => mapsOf(r.grid.H, r.grid.W, 60)));
    const block = blockFromFeatures(records.slice(0, 3), KEY);
    index.reset([records[3], records[4], records[1]], [block]); // p1 is in the block already: held once
    expect(index.ids).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(index.unpackedCount).toBe(2);
    const row = index.record('p3')!;
    expect([row.id, Array.from(row.descriptor), row.grid, row.nc]).toEqual(['p3', [3, 1, 0, 0, 0, 0], records[3].grid, INDEX_NC]);
    // The block's typed arrays are held as they are (no copy per photo).
    expect(index.record('p1')!.descriptor.buffer).toBe(block.descriptors.buffer);
    expect(index.collection(null).grids.map((g) => g.H)).toEqual([2, 3, 2, 3, 2]);
    expect(index.mapsBytes).toBe(records.reduce((s, r) => s + r.grid.H * r.grid.W * K, 0));

    // pack(all) writes p3, p4 as one block; the next start-up reads two blocks and no record.
    await store.packBlock(block);
    expect(await index.pack(KEY)).toBe(0); // fewer than a block's worth: left as records
    expect(await index.pack(KEY, true)).toBe(2);
    expect(index.unpackedCount).toBe(0);
    const snap = await store.snapshot(KEY, K);
    expect([snap.blocks.map((b) => b.ids), snap.tail]).toEqual([[['p0', 'p1', 'p2'], ['p3', 'p4']], []]);
    const again = new CollectionIndex(store);
    again.reset(snap.tail, snap.blocks);
    expect(again.ids).toEqual(index.ids);
    expect(again.ids.map((id) => Array.from(again.record(id)!.descriptor))).toEqual(index.ids.map((id) => Array.from(index.record(id)!.descriptor)));
    again.dispose();

    // Removing from a block and appending after it keep positions consistent.
    index.remove(['p1']);
    index.add(record('p5', [5, 1, 0, 0, 0, 0]));
    expect(index.ids).toEqual(['p0', 'p2', 'p3', 'p4', 'p5']);
    expect(index.ids.map((id) => index.record(id)!.descriptor[0])).toEqual([0, 2, 3, 4, 5]);
  });

  it('resident OfA blocks hold the descriptors in order and are rebuilt only from the first changed position', async () => {
    const B = BLOCK_COLUMNS;
    const desc = (i: number) => [i, -i, i % 7, 1, 0, 0.5];
    const records = Array.from({ length: B + 2 }, (_, i) => record(`p${i}`, desc(i)));
    index.reset(records);
    const first = await index.offlineDescriptors(INDEX_NC, w);
    expect(first.blocks.map((b) => b.shape)).toEqual([[K, B], [K, 2]]);
    expect(columns(first)).toEqual(records.map((_, i) => desc(i)));
    const block0 = first.blocks[0];

    const moved = (ids: readonly string[]) => ids.map((id) => Array.from(index.record(id)!.descriptor));

    // An append: the full first block is kept, the second rebuilt.
    index.add(record('new', [9, 9, 9, 9, 9, 9]));
    let now = await index.offlineDescriptors(INDEX_NC, w);
    expect(now.blocks[0]).toBe(block0);
    expect(columns(now)[0]).toEqual(desc(0));
    expect(columns(now).slice(B)).toEqual(moved(index.ids.slice(B)));

    // A removal in the second block: the first still kept.
    index.remove([`p${B}`]);
    now = await index.offlineDescriptors(INDEX_NC, w);
    expect(now.blocks[0]).toBe(block0);
    expect(now.blocks.map((b) => b.shape[1])).toEqual([B, 2]);
    expect(columns(now).slice(B)).toEqual(moved([`p${B + 1}`, 'new']));

    // A removal in the first block: everything after it moves up, both blocks rebuilt from the records.
    index.remove(['p5']);
    now = await index.offlineDescriptors(INDEX_NC, w);
    expect(now.blocks[0]).not.toBe(block0);
    expect(columns(now)).toEqual(moved(index.ids));
    expect(columns(now)[0]).toEqual(desc(0));
    expect(columns(now)[5]).toEqual(desc(6));
    expect(index.size).toBe(B + 1);

    // reset: built again from scratch.
    index.reset(records.slice(0, 3));
    expect(columns(await index.offlineDescriptors(INDEX_NC, w))).toEqual(moved(['p0', 'p1', 'p2']));
  });

  it('OfA descriptors for another NC are recomputed from the stored maps and probabilities; an equal NC uses the stored ones', async () => {
    const shapes: [number, number][] = [[3, 4], [2, 5], [4, 4], [1, 3]];
    const tops: [number, number][] = [[2, 7], [9, 0], [4, 5], [1, 3]];
    const records = shapes.map(([H, W], i) => record(`r${i}`, new Float32Array(K).fill(0.1 * i), { H, W, top: tops[i] }));
    const maps = shapes.map(([H, W], i) => mapsOf(H, W, 40 + i));
    // A photo indexed with NC = 2 already: its stored descriptor is used as it is, its maps are never read.
    const ownNc = record('own', [0, 0, 1, 0, 0, 0], { nc: 2 });
    await stored([...records, ownNc], [...maps, mapsOf(3, 4, 99)]);
    index.reset([...records, ownNc]);
    const getMaps = vi.spyOn(store, 'getMaps');

    const got = columns(await index.offlineDescriptors(2, w));
    // Expected: the CW descriptor of each photo's decoded maps with its own two most probable classes.
    const expected = records.map((_, i) => {
      const X = tf.tensor3d(decodeMaps(maps[i]), [shapes[i][0], shapes[i][1], K]);
      const d = cwDescriptor(X, w, tf.tensor1d(tops[i], 'int32'));
      const v = Array.from(d.dataSync());
      tf.dispose([X, d]);
      return v;
    });
    expect(got).toHaveLength(5);
    expected.forEach((e, i) => e.forEach((v, k) => expect(got[i][k], `photo ${i}, value ${k}`).toBeCloseTo(v, 5)));
    expect(got[4]).toEqual([0, 0, 1, 0, 0, 0]);
    expect(getMaps.mock.calls.flatMap(([ids]) => ids)).not.toContain('own');

    // NC = 64 again: the stored descriptors, not the recomputed ones.
    expect(columns(await index.offlineDescriptors(INDEX_NC, w)).slice(0, 4)).toEqual(records.map((r) => Array.from(r.descriptor)));
  });

  it('an NC above the number of classes (a user model with few classes) uses every class instead of failing', async () => {
    const records = [record('a', new Float32Array(K), { top: [3, 1] }), record('b', new Float32Array(K), { top: [0, 2], H: 2, W: 3 })];
    const maps = [mapsOf(3, 4, 7), mapsOf(2, 3, 8)];
    await stored(records, maps);
    index.reset(records);
    const got = columns(await index.offlineDescriptors(C + 20, w));
    const all = tf.tensor1d(Array.from({ length: C }, (_, c) => c), 'int32');
    records.forEach((r, i) => {
      const X = tf.tensor3d(decodeMaps(maps[i]), [r.grid.H, r.grid.W, K]);
      const d = cwDescriptor(X, w, all);
      Array.from(d.dataSync()).forEach((v, k) => expect(got[i][k], `photo ${i}, value ${k}`).toBeCloseTo(v, 5));
      tf.dispose([X, d]);
    });
    all.dispose();
  });

  it('serves maps from its cache, reads only the missing ones from the store (one call), in the order asked', async () => {
    const records = ['a', 'b', 'c'].map((id) => record(id, new Float32Array(K)));
    const maps = [mapsOf(3, 4, 1), mapsOf(3, 4, 2), mapsOf(3, 4, 3)];
    await stored(records, maps);
    index.reset(records);
    const getMaps = vi.spyOn(store, 'getMaps');
    const decoded = (m: EncodedMaps[]) => m.map((e) => Array.from(decodeMaps(e)));

    expect(decoded(await index.encodedMaps(['a', 'b']))).toEqual(decoded(maps.slice(0, 2)));
    expect(getMaps.mock.calls).toEqual([[['a', 'b']]]);
    expect(decoded(await index.encodedMaps(['b', 'c', 'a']))).toEqual(decoded([maps[1], maps[2], maps[0]]));
    expect(getMaps.mock.calls).toEqual([[['a', 'b']], [['c']]]);
    await index.encodedMaps(['c', 'a', 'b']);
    expect(getMaps).toHaveBeenCalledTimes(2);

    // A photo added with its maps (just indexed) is served from memory; it is not in the store at all.
    const fresh = mapsOf(2, 2, 7);
    index.add(record('d', new Float32Array(K), { H: 2, W: 2 }), fresh);
    expect((await index.encodedMaps(['d']))[0]).toBe(fresh);
    expect(getMaps).toHaveBeenCalledTimes(2);
    const [X] = await index.maps([index.ids.indexOf('d')]);
    expect(X.shape).toEqual([2, 2, K]);
    expect(Array.from(X.dataSync())).toEqual(Array.from(decodeMaps(fresh)));
    X.dispose();

    // remove and reset drop cached maps: the next read goes to the store.
    index.remove(['a']);
    await index.encodedMaps(['a']);
    expect(getMaps.mock.calls.at(-1)).toEqual([['a']]);
    index.reset(records);
    await index.encodedMaps(['b']);
    expect(getMaps.mock.calls.at(-1)).toEqual([['b']]);

    await expect(index.encodedMaps(['b', 'f'.repeat(64)])).rejects.toThrow('the feature maps of photo ffffffffffff are missing from storage');
  });
});
