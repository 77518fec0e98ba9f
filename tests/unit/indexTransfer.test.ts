/**
 * Import and export of the index through the worker's service (src/worker/services/indexTransfer.ts) on
 * fake-indexeddb: a synthetic collection (scripts/lib/syntheticIndex.ts) imported in batches, each one transaction with
 * its descriptor block (start-up then reads blocks only), exported again as a stream and read back equal, imported
 * again as duplicates; and a file of another model refused with a clear message, nothing written.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openCollection, type CollectionStore } from '../../src/index/db';
import { readIndex, writeIndex } from '../../src/index/exportFormat';
import { INDEX_NC, MAP_CODEC, type IndexSettings } from '../../src/index/settings';
import type { WorkerEvent } from '../../src/worker/events';
import { Lock } from '../../src/worker/lock';
import { CollectionState } from '../../src/worker/services/collectionState';
import { Session, Settings } from '../../src/worker/services/session';
import { IndexTransfer } from '../../src/worker/services/indexTransfer';
import { ModelRegistry } from '../../src/worker/services/modelRegistry';
import type { TabSync } from '../../src/worker/services/tabSync';
import { syntheticCollection } from '../../scripts/lib/syntheticIndex';

const SETTINGS: IndexSettings = { modelId: 'mobilenet_v1_0.75', longSide: 512, nc: INDEX_NC, codec: MAP_CODEC, paused: false, storage: 'link' };
const N = 1300;

let store: CollectionStore;
let state: CollectionState;
let transfer: IndexTransfer;
let events: WorkerEvent[];
let broadcasts: unknown[];

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  store = await openCollection();
  const settings = new Settings(() => store);
  settings.current = SETTINGS;
  await store.saveSettings(SETTINGS);
  const registry = new ModelRegistry(() => store);
  events = [];
  broadcasts = [];
  const emit = (e: WorkerEvent) => void events.push(e);
  state = new CollectionState(store, settings, registry, emit);
  // Other tabs are told through BroadcastChannel; here the messages are only collected.
  const tabs = { broadcast: (m: unknown) => broadcasts.push(m) } as unknown as TabSync;
  transfer = new IndexTransfer({ store, session: new Session(), settings, registry, state, tabs, lock: new Lock(), emit });
});

const synthetic = (seed = 5, model = 'mobilenet_v1_0.75') => new Response(writeIndex(syntheticCollection({ photos: N, model, longSide: 512, seed }))).blob();

describe('index transfer', () => {
  it('imports in batches with their blocks, exports the same back as a stream, and a second import only finds duplicates', async () => {
    const file = await synthetic();
    const report = await transfer.import(file);
    expect(report).toEqual({ added: N, indexed: 0, duplicates: 0, problems: [] });
    expect(state.index.size).toBe(N);
    expect(state.index.unpackedCount).toBe(0);
    const added = events.filter((e) => e.type === 'photos-added');
    expect(added.map((e) => (e.type === 'photos-added' ? e.photos.length : 0))).toEqual([1024, 276]);
    expect(broadcasts).toHaveLength(4);

    // Start-up reads three blocks and no per-photo record; the collection loads as it was.
    const snap = await store.snapshot('mobilenet_v1_0.75@512', 768);
    expect([snap.blocks.map((b) => b.ids.length), snap.tail.length]).toEqual([[1024, 276], 0]);
    const photos = await state.load();
    expect(photos).toHaveLength(N);
    expect(photos.every((p) => p.indexed && p.source === 'none')).toBe(true);
    expect((await store.integrity()).problems).toEqual([]);

    // Export: the same rows, maps and thumbnails as the file imported.
    const out = await transfer.export({ photos: true });
    expect(out.photos).toBe(N);
    const [a, b] = [await readIndex(file), await readIndex(out.file)];
    expect(b.photos.map((p) => [p.id, p.name, p.path])).toEqual(a.photos.map((p) => [p.id, p.name, p.path]));
    for (const start of [0, 1000, 1200]) {
      const [x, y] = [await a.batch(start, start + 100), await b.batch(start, start + 100)];
      y.forEach((p, i) => {
        expect(Array.from(p.descriptor)).toEqual(Array.from(x[i].descriptor));
        expect(Array.from(p.probabilities)).toEqual(Array.from(x[i].probabilities));
        expect(new Uint8Array(p.maps!.data)).toEqual(new Uint8Array(x[i].maps!.data));
        expect([p.maps!.scale, p.grid, p.photo]).toEqual([x[i].maps!.scale, x[i].grid, undefined]);
      });
      expect(await y[7].thumb!.arrayBuffer()).toEqual(await x[7].thumb!.arrayBuffer());
    }

    expect(await transfer.import(out.file)).toEqual({ added: 0, indexed: 0, duplicates: N, problems: [] });
    expect(state.index.size).toBe(N);
  }, 300_000);

  it('refuses an index of another model with a clear message, writing nothing', async () => {
    const file = await new Response(writeIndex(syntheticCollection({ photos: 10, model: 'resnet50', longSide: 512, seed: 1 }))).blob();
    await expect(transfer.import(file)).rejects.toThrow(/made with the model resnet50 at long side 512, but the collection uses mobilenet_v1_0.75 at 512/);
    expect(await store.counts()).toEqual({ images: 0, queued: 0, indexed: 0 });
  });
});
