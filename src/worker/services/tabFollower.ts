/**
 * Tab follower: applies what another tab of this app did to the collection (photos added, indexed or removed; a
 * model switch, a pause or a clear) to this tab's state and tells the page, and takes over indexing when the tab
 * that was indexing closes.
 */
import type { CollectionStore } from '../../index/db';
import type { FeatureRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import type { EngineInfo } from '../../worker-api/api';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Emit, Settings } from './context';
import type { Indexer } from './indexer';
import type { ModelRegistry } from './modelRegistry';
import type { NetworkManager } from './networkManager';
import type { QuerySession } from './querySession';
import type { IncomingChanges } from './tabSync';

export interface TabFollowerDeps {
  store: CollectionStore;
  settings: Settings;
  registry: ModelRegistry;
  state: CollectionState;
  network: NetworkManager;
  indexer: Indexer;
  query: QuerySession;
  lock: Lock;
  emit: Emit;
  info: () => EngineInfo;
}

export class TabFollower {
  constructor(private readonly deps: TabFollowerDeps) {}

  async apply(changes: IncomingChanges): Promise<void> {
    if (changes.full) {
      await this.applySettingsFromStore();
      return;
    }
    const { store, state, indexer, lock, emit } = this.deps;
    const removed = [...changes.removed].filter((id) => state.names.has(id));
    if (removed.length) {
      await lock.run(async () => state.forget(removed));
      emit({ type: 'photos-removed', ids: removed });
    }
    const added = [...changes.added].filter((id) => !state.names.has(id));
    if (added.length) {
      const records = (await store.getImages(added)).filter((r) => r !== undefined);
      for (const r of records) {
        state.names.set(r.id, r.name);
        if (!state.index.has(r.id) && !changes.indexed.has(r.id)) state.queue.push(r.id);
      }
      if (records.length) emit({ type: 'photos-added', photos: records.map((r) => state.photoItem(r)) });
    }
    const indexed = [...changes.indexed].filter((id) => state.names.has(id) && !state.index.has(id));
    if (indexed.length) {
      const records = (await store.getFeatures(indexed)).filter((f): f is FeatureRecord => !!f && state.usable(f));
      await lock.run(async () => records.forEach((f) => state.index.add(f)));
      const done = records.map((f) => f.id);
      state.dequeue(done);
      if (done.length) emit({ type: 'photos-indexed', ids: done });
    }
    // This tab takes over if the indexing tab closes (it waits for the lock meanwhile).
    indexer.kickIfQueued();
    indexer.emitProgress();
  }

  /** Settings changed in another tab (model switch, pause, clear, custom models): follow them. */
  private async applySettingsFromStore(): Promise<void> {
    const { store, settings, registry, state, network, indexer, query, lock, emit, info } = this.deps;
    const stored = await store.settings();
    await registry.load();
    if (stored && registry.valid(stored.modelId) && modelKey(stored) !== modelKey(settings.current)) {
      await indexer.stop();
      await lock.run(async () => {
        network.dispose();
        query.dispose();
      });
      settings.current = stored;
      const photos = await lock.run(() => state.load());
      emit({ type: 'photos-reset', photos });
      emit({ type: 'info', info: info() });
      network.loadInBackground();
      indexer.kickIfQueued();
      indexer.emitProgress();
      return;
    }
    emit({ type: 'info', info: info() });
    if (stored) {
      const pausedNow = stored.paused && !settings.current.paused;
      settings.current = { ...settings.current, paused: stored.paused };
      if (pausedNow && indexer.running) await indexer.pause();
    }
    await this.syncFromStore();
    indexer.kickIfQueued();
    indexer.emitProgress();
  }

  /** Reloads the collection from IndexedDB and tells the page what changed (photos added, removed, indexed). */
  async syncFromStore(): Promise<void> {
    const { state, lock, emit } = this.deps;
    const before = new Set(state.names.keys());
    const indexedBefore = new Set(state.index.ids);
    const photos = await lock.run(() => state.load());
    const now = new Set(photos.map((p) => p.id));
    if (photos.some((p) => indexedBefore.has(p.id) && !p.indexed)) {
      emit({ type: 'photos-reset', photos });
      return;
    }
    const removed = [...before].filter((id) => !now.has(id));
    const added = photos.filter((p) => !before.has(p.id));
    const indexed = photos.filter((p) => before.has(p.id) && p.indexed && !indexedBefore.has(p.id)).map((p) => p.id);
    if (removed.length) emit({ type: 'photos-removed', ids: removed });
    if (added.length) emit({ type: 'photos-added', photos: added });
    if (indexed.length) emit({ type: 'photos-indexed', ids: indexed });
  }
}
