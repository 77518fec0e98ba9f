/**
 * Tab follower: applies what another tab of this app did to the collection (photos added, indexed or removed; a
 * model switch, a pause or a clear) to this tab's state and tells the page, one batch at a time ('tabs-changed'
 * events from ./tabSync.ts), and takes over indexing when the tab that was indexing closes.
 */
import type { CollectionStore } from '../../index/db';
import type { FeatureRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import type { EngineInfo } from '../../worker-api/api';
import type { Emit } from '../events';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Indexer } from './indexer';
import type { CollectionLifecycle } from './lifecycle';
import type { ModelRegistry } from './modelRegistry';
import type { Settings } from './session';
import type { IncomingChanges } from './tabSync';

export interface TabFollowerDeps {
  store: CollectionStore;
  settings: Settings;
  registry: ModelRegistry;
  state: CollectionState;
  indexer: Indexer;
  lifecycle: Pick<CollectionLifecycle, 'followModel'>;
  lock: Lock;
  emit: Emit;
  info: () => EngineInfo;
}

export class TabFollower {
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TabFollowerDeps) {}

  /** Another batch of changes: applied after the ones before it. */
  follow(changes: IncomingChanges): void {
    this.applying = this.applying.then(() => this.apply(changes)).catch((e: unknown) => console.warn('[tabs] sync failed:', e));
  }

  private async apply(changes: IncomingChanges): Promise<void> {
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
    const { store, settings, registry, state, indexer, lifecycle, lock, emit, info } = this.deps;
    const stored = await store.settings();
    await registry.load();
    if (stored && registry.valid(stored.modelId) && modelKey(stored) !== modelKey(settings.current)) {
      await lifecycle.followModel(stored);
      return;
    }
    emit({ type: 'info', info: info() });
    if (stored) {
      const pausedNow = stored.paused && !settings.current.paused;
      settings.current = { ...settings.current, paused: stored.paused };
      if (pausedNow && indexer.running) await indexer.pause();
    }
    await state.syncFromStore(lock);
    indexer.kickIfQueued();
    indexer.emitProgress();
  }
}
