/**
 * The defaults of the collection tools (near-duplicates, groups of the same place), chosen on the measurements in
 * README ("Collection tools"): scripts/collection/evalCollection.ts prints them.
 */

export const DUPLICATE_DEFAULTS = {
  /** Neighbour lists: photos kept per photo, and the least OfA similarity kept. */
  k: 10,
  floor: 0.5,
  /** Pairs with an OfA similarity below this are never duplicate candidates (no layout check is run for them). */
  candidateSim: 0.8,
  /** Default duplicate score threshold (the slider starts here). */
  threshold: 0.9,
};

export const GROUP_DEFAULTS = {
  /** Neighbours per photo that count for a link, and the least similarity of a link. */
  k: 10,
  minSim: 0.7,
  /** Least region score (src/search/regionCheck.ts, both ways) of a link. */
  minRegion: 0.8,
  floor: 0.5,
};
