/**
 * The engine's description for the page (EngineInfo): the backend and why, the model and its input size, the stored
 * descriptors' parameters, the storage mode and the search the app starts with.
 */
import { SCHEMA_VERSION } from '../../index/schema';
import { COPY_SIDE, DEFAULT_STORAGE, STORAGE_BUDGET_BYTES } from '../../index/settings';
import { APP_DEFAULT_CONTROLS } from '../../search/defaults';
import type { EngineInfo } from '../../worker-api/api';
import type { GpuRuntime } from './gpuRuntime';
import type { ModelRegistry } from './modelRegistry';
import type { Settings } from './session';

export function engineInfo({ settings, registry, runtime }: { settings: Settings; registry: ModelRegistry; runtime: GpuRuntime }): EngineInfo {
  const adapter = registry.adapter(settings.current.modelId);
  const { backend, requested, note, reason, timings, adapterText } = runtime;
  return {
    backend,
    requestedBackend: requested,
    backendNote: note,
    backendReason: reason,
    backendTimings: timings,
    adapter: adapterText,
    wasmThreads: runtime.wasmThreads(),
    model: { id: adapter.id, name: adapter.name, ...(registry.isCustom(adapter.id) ? { custom: true } : {}) },
    models: registry.choices(),
    longSide: settings.current.longSide,
    nc: settings.current.nc,
    codec: settings.current.codec,
    schemaVersion: SCHEMA_VERSION,
    defaultControls: { ...APP_DEFAULT_CONTROLS },
    storage: { mode: settings.current.storage ?? DEFAULT_STORAGE, copySide: COPY_SIDE, budgetPerPhoto: STORAGE_BUDGET_BYTES },
  };
}
