/**
 * The defaults of the collection tools (near-duplicates, groups of the same place), chosen on the measurements in
 * README ("Collection tools"): scripts/collection/eval-collection.ts prints them.
 */

import type { LinkageOptions } from './groups';

export const DUPLICATE_DEFAULTS = {
  /** Neighbour lists: photos kept per photo, and the least OfA similarity kept. */
  k: 10,
  floor: 0.5,
  /** Pairs with an OfA similarity below this are never duplicate candidates (no layout check is run for them). */
  candidateSim: 0.8,
  /**
   * Default duplicate score threshold (the slider starts here): on the generated set, precision 0.99 for both models
   * and recall 0.99 (ResNet-50) and 0.92 (MobileNet); precision first, since the next step is deleting.
   */
  threshold: 0.85,
};

export const GROUP_DEFAULTS = {
  /** Neighbours per photo that count for a link, and the least similarity of a link. */
  k: 10,
  minSim: 0.7,
  /** Least region score (src/collection-tools/regionCheck.ts, both ways) of a link. */
  minRegion: 0.8,
  /**
   * The average linkage along the links (src/collection-tools/groups.ts), per model: OfA cosines of unrelated photos differ by
   * network (MobileNet's are higher). Chosen on ukbench-mini by scripts/collection/eval-groups.ts: minPairAverage is
   * the lowest plain stop threshold (0.01 steps) whose groups reach pair precision 0.95; minAverage, the 99th
   * percentile of the cosines of photos of different objects; minCloseness, then the lowest (0.01 steps) that reaches
   * pair precision 0.95 with no group holding two objects' worth of photos (2+ of each).
   */
  linkage: {
    resnet50: { minPairAverage: 0.88, minAverage: 0.66, minCloseness: 0.94 },
    'mobilenet_v1_0.75': { minPairAverage: 0.86, minAverage: 0.77, minCloseness: 0.94 },
    efficientnet_b0: { minPairAverage: 0.85, minAverage: 0.73, minCloseness: 0.93 },
  } as Readonly<Record<string, LinkageOptions>>,
  floor: 0.5,
};

/** The groups' average linkage for a model; a model not measured gets the strictest value of each. */
export function groupLinkage(modelId: string): LinkageOptions {
  const known = Object.values(GROUP_DEFAULTS.linkage);
  const strictest = (key: keyof LinkageOptions) => Math.max(...known.map((o) => o[key]));
  return GROUP_DEFAULTS.linkage[modelId] ?? { minPairAverage: strictest('minPairAverage'), minAverage: strictest('minAverage'), minCloseness: strictest('minCloseness') };
}
