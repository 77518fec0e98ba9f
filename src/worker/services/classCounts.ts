/**
 * Class counts: the collection's most frequent ImageNet classes (each photo's top classes by its stored
 * probabilities) as counts, and the photos with a class, for chips and filters. Each photo's top classes are worked
 * out once and kept (5 small numbers per photo); the probabilities are read from IndexedDB a batch at a time (the
 * worker does not hold them: 4 KB per photo).
 */
import { countClasses, topClassIndices } from '../../collection-tools/classStats';
import type { ClassCount } from '../../worker-api/api';
import type { CollectionState } from './collectionState';
import type { NetworkManager } from './networkManager';

/** Classes kept per photo: topK can be 1 to this. */
const MAX_TOP_K = 5;
/** Feature records read per IndexedDB transaction while working out top classes. */
const READ_BATCH = 512;

const checkTopK = (topK: number) => {
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) throw new Error(`topK must be an integer from 1 to ${MAX_TOP_K}, got ${topK}`);
};

export class ClassCounts {
  private tops = new Map<string, number[]>();

  constructor(
    private readonly state: CollectionState,
    private readonly network: NetworkManager,
  ) {}

  onCollectionChanged(reset: boolean): void {
    if (reset) this.tops.clear();
  }

  /** The top classes of these photos, working out the missing ones from their stored probabilities. */
  private async topsOf(ids: readonly string[]): Promise<number[][]> {
    const missing = ids.filter((id) => !this.tops.has(id));
    for (let s = 0; s < missing.length; s += READ_BATCH) {
      const part = missing.slice(s, s + READ_BATCH);
      const probabilities = await this.state.index.probabilities(part);
      part.forEach((id, i) => {
        const p = probabilities[i];
        if (p) this.tops.set(id, topClassIndices(p, MAX_TOP_K));
      });
    }
    // A photo removed meanwhile has no record: it counts for no class.
    return ids.map((id) => this.tops.get(id) ?? []);
  }

  async counts(options: { topK?: number; limit?: number } = {}): Promise<ClassCount[]> {
    const { topK = 1, limit = 50 } = options;
    checkTopK(topK);
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
    const ids = this.state.index.ids;
    // Photos that left the collection are forgotten here too.
    if (this.tops.size > ids.length) {
      const present = new Set(ids);
      for (const id of this.tops.keys()) if (!present.has(id)) this.tops.delete(id);
    }
    const net = await this.network.get();
    const tops = await this.topsOf(ids);
    return countClasses(tops, topK)
      .slice(0, limit)
      .map(([index, count]) => ({ index, name: (net.labels[index] ?? `class ${index}`).split(',')[0].trim(), count }));
  }

  /** Indexed photos with the class among their top `topK`, in collection order. */
  async photosWithClass(classIndex: number, options: { topK?: number } = {}): Promise<string[]> {
    const { topK = 1 } = options;
    checkTopK(topK);
    if (!Number.isInteger(classIndex) || classIndex < 0) throw new Error(`class index must be a non-negative integer, got ${classIndex}`);
    const ids = [...this.state.index.ids];
    const tops = await this.topsOf(ids);
    return ids.filter((_, i) => tops[i].slice(0, topK).includes(classIndex));
  }
}
