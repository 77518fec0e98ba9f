/**
 * Storage report: what the collection takes in the browser, measured on it — bytes per indexed photo by part
 * (thumbnail, the photo's copy where one is kept, feature maps, OfA descriptor, class probabilities) and the site's
 * usage and quota, for the storage options in the header and README's table.
 */
import type { CollectionStore } from '../../index/db';
import { STORAGE_BUDGET_BYTES } from '../../index/settings';
import type { StorageReport } from '../../worker-api/api';
import type { CollectionState } from './collectionState';
import type { ModelRegistry } from './modelRegistry';
import type { Settings } from './session';

export async function storageReport(deps: { store: CollectionStore; registry: ModelRegistry; settings: Settings; state: CollectionState }): Promise<StorageReport> {
  const { store, state: { index } } = deps;
  const adapter = deps.registry.adapter(deps.settings.current.modelId);
  const [images, sources] = await Promise.all([store.listImages(), store.listSources()]);
  const n = Math.max(1, images.length);
  const bySource: StorageReport['bySource'] = { copy: 0, disk: 0, none: 0 };
  for (const i of images) bySource[i.source ?? 'copy']++;
  const thumbnail = images.reduce((s, i) => s + i.thumb.size, 0) / n;
  const photo = sources.reduce((s, r) => s + ('blob' in r ? r.blob.size : 0), 0) / n;
  const maps = index.size ? index.mapsBytes / index.size : 0;
  // The descriptor is kept twice (its feature record, and its block row with the grid, NC and maps size).
  const descriptor = index.size ? 2 * 4 * adapter.channels + 8 * 6 + 2 + 4 : 0;
  const probabilities = index.size ? 4 * adapter.classes : 0;
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  return {
    photos: images.length,
    indexed: index.size,
    bySource,
    perPhoto: { thumbnail, photo, maps, descriptor, probabilities, total: thumbnail + photo + maps + descriptor + probabilities },
    usage: estimate?.usage ?? null,
    quota: estimate?.quota ?? null,
    indexedDb: (estimate as { usageDetails?: { indexedDB?: number } } | null)?.usageDetails?.indexedDB ?? null,
    budgetPerPhoto: STORAGE_BUDGET_BYTES,
  };
}
