/**
 * Model registry: the models this collection can use — the shipped ones and those the user loaded (validated as
 * "GAP + one linear classifier" first, files kept in the Cache API, records in IndexedDB) — as one ModelAdapter each.
 */
import type { CollectionStore } from '../../index/db';
import type { CustomModelRecord } from '../../index/schema';
import { MODELS, type ModelAdapter } from '../../model/adapters';
import type { ReadModelFile } from '../../model/artifacts';
import { inspectCustomModel } from '../../model/customModel';
import { sha256Hex } from '../../index/hash';
import type { CustomModelOptions, CustomModelResult, CustomModelSource, ModelChoice } from '../../worker-api/api';
import type { Lock } from '../lock';
import { putCustomModelFiles } from '../modelCache';
import { modelJsonPaths, readCustomModelSource } from './customModelSource';

export class ModelRegistry {
  private custom = new Map<string, CustomModelRecord>();

  constructor(private readonly store: () => CollectionStore) {}

  /** Reads the user's models from the store (start-up, and when another tab added one). */
  async load(): Promise<void> {
    this.custom = new Map((await this.store().customModels()).map((m) => [m.id, m]));
  }

  /** The id when it names a shipped model or one the user loaded; else undefined. */
  valid(id: string | undefined | null): string | undefined {
    return id && (id in MODELS || this.custom.has(id)) ? id : undefined;
  }

  isCustom(id: string): boolean {
    return this.custom.has(id);
  }

  customRecord(id: string): CustomModelRecord | undefined {
    return this.custom.get(id);
  }

  /** Every model to choose from: shipped first, then the user's. */
  choices(): ModelChoice[] {
    return [...Object.values(MODELS).map((m) => ({ id: m.id, name: m.name })), ...[...this.custom.values()].map((m) => ({ id: m.id, name: m.name, custom: true }))];
  }

  /** Names of every model, for an error message. */
  ids(): string[] {
    return [...Object.keys(MODELS), ...this.custom.keys()];
  }

  adapter(id: string): ModelAdapter {
    const custom = this.custom.get(id);
    if (custom) {
      const { id: customId, name, preprocessing, featureLayer, classifierLayer, channels, classes, stride } = custom;
      return { id: customId, name, folder: `custom-models/${customId}`, preprocessing, featureLayer, classifierLayer, channels, classes, stride };
    }
    const adapter = (MODELS as Record<string, ModelAdapter | undefined>)[id];
    if (!adapter) throw new Error(`unknown model "${id}"`);
    return adapter;
  }

  /** Validates a model the user gives (under the tfjs lock: it runs the network once) and keeps it. */
  async add(source: CustomModelSource, options: CustomModelOptions, lock: Lock): Promise<CustomModelResult> {
    if (options.preprocessing !== 'inception' && options.preprocessing !== 'caffe') throw new Error(`unknown input scaling "${options.preprocessing}"`);
    const { files, defaultName } = await readCustomModelSource(source);
    const read: ReadModelFile = async (path) => {
      const f = files.get(path) ?? files.get(path.split('/').pop()!);
      if (!f) throw new Error(source.kind === 'files' ? `${path} is missing: choose it together with model.json` : `${path} could not be downloaded`);
      return f;
    };
    const spec = await lock.run(() => inspectCustomModel(read));
    // Only the files the model uses are kept, under their manifest paths.
    const kept = new Map<string, ArrayBuffer>([['model.json', files.get('model.json')!]]);
    for (const p of modelJsonPaths(files.get('model.json')!)) kept.set(p, await read(p));
    if (spec.labels) kept.set('labels.json', files.get('labels.json')!);
    const digests = await Promise.all([...kept.entries()].sort(([a], [b]) => a.localeCompare(b)).map(async ([p, b]) => `${p}:${await sha256Hex(b)}`));
    const id = `custom-${(await sha256Hex(new TextEncoder().encode(`${options.preprocessing}\n${digests.join('\n')}`).buffer as ArrayBuffer)).slice(0, 16)}`;
    await putCustomModelFiles(id, kept);
    const record: CustomModelRecord = {
      id,
      name: (options.name ?? '').trim().slice(0, 80) || defaultName,
      preprocessing: options.preprocessing,
      featureLayer: spec.featureLayer,
      classifierLayer: spec.classifierLayer,
      channels: spec.channels,
      classes: spec.classes,
      stride: spec.stride,
      labels: spec.labels ? 'file' : 'numbered',
      source: source.kind === 'url' ? source.url : 'files',
      addedAt: Date.now(),
    };
    this.custom.set(id, record);
    await this.store().saveCustomModels([...this.custom.values()]);
    const { featureLayer, classifierLayer, channels, classes, stride, labels } = record;
    return { model: { id, name: record.name, custom: true }, featureLayer, classifierLayer, channels, classes, stride, labels };
  }
}
