/**
 * The defaults of the collection tools (near-duplicates, groups of the same place), chosen on the measurements in
 * README ("Collection tools"): scripts/collection/eval-collection.ts prints them.
 */

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
  floor: 0.5,
};
