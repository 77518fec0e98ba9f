/**
 * The collection tools' part of the worker API (docs/COLLECTION-TOOLS.md): delete and undo,
 * near-duplicates, groups of the same place, classes. EngineApi (./api.ts) extends CollectionToolsApi.
 */


export interface DeleteResult {
  deleted: number;
  ids: string[];
  /** Pass to undoDelete until the page is left (the last 20 deletions, up to 512 MB of photos, are kept). */
  undoToken: string;
  /** The query photo was deleted (its image stays open for the current query; it can no longer be opened again). */
  queryRemoved: boolean;
}

export interface UndoResult {
  /** Photos back in the collection, with their ids, import order, features and maps as before. */
  restored: number;
  ids: string[];
  /** Restored but queued for indexing: the model was switched since they were deleted. */
  requeued: string[];
  /** Not restored: the same photo was imported again meanwhile. */
  alreadyPresent: string[];
}

export interface GroupingProgress {
  /** running: photos are being placed in the neighbour graph; cancelled: a full rebuild was cancelled (partial). */
  state: 'idle' | 'running' | 'cancelled';
  /** neighbours: photos placed in the graph (done of total indexed photos); region checks: group links checked. */
  phase?: 'neighbours' | 'region checks';
  done: number;
  total: number;
}

/** A photo as the duplicate review shows it. */
export interface PhotoFacts {
  id: string;
  name: string;
  path: string;
  /** The original file: bytes, MIME type, pixel size (upright). */
  bytes: number;
  type: string;
  width: number;
  height: number;
  /** When it entered the collection (ms since 1970; the app does not read EXIF dates). */
  addedAt: number;
}

export interface DuplicatePair {
  a: string;
  b: string;
  /** Cosine of the two OfA descriptors. */
  similarity: number;
  /** Region check: the mean of `cells`. */
  layout: number;
  /** Cosine of the two photos' features in each cell of a 4 x 4 grid over the photo (row-major): where they match. */
  cells: number[];
  /** The duplicate score the threshold applies to: (similarity + layout) / 2. */
  score: number;
}

export interface DuplicateGroup {
  /** 'd:' + the smallest member id. */
  id: string;
  members: PhotoFacts[];
  /** The suggested photo to keep: the largest file, then the highest resolution, then the oldest in the collection. */
  keep: string;
  /** The pairs that link the group at the threshold, with their region scores. */
  pairs: DuplicatePair[];
}

export interface DuplicatesReport {
  threshold: number;
  /** Every candidate pair (OfA similarity >= candidateSim), so that a slider can regroup at any threshold >= it. */
  pairs: DuplicatePair[];
  candidateSim: number;
  /** Groups and grouped photos at thresholds from candidateSim to 1 (step 0.01): live counts for a slider. */
  counts: { threshold: number; groups: number; photos: number }[];
  /** Groups at `threshold`, largest first. */
  groups: DuplicateGroup[];
  /** False while the neighbour graph is still being built (the report covers the photos placed so far). */
  complete: boolean;
  progress: GroupingProgress;
}

export interface PlaceGroup {
  /** 'g:' + the representative's id; pass as SearchRequest.within = { group: id }. */
  id: string;
  /** The photo most linked within the group. */
  representative: string;
  count: number;
  /** The representative first, then by links within the group. */
  members: string[];
  /** Mean OfA similarity of the links within the group. */
  meanSim: number;
}

export interface GroupsReport {
  groups: PlaceGroup[];
  /** Indexed photos in no group. */
  ungrouped: number;
  photos: number;
  /** The links (mutual k-nearest, OfA >= minSim, region check >= minRegion) and the average linkage's thresholds. */
  params: { k: number; minSim: number; minRegion: number; minPairAverage: number; minAverage: number; minCloseness: number };
  /** Links whose region check has not run yet (they count as passing meanwhile; complete is then false). */
  uncheckedLinks: number;
  complete: boolean;
  progress: GroupingProgress;
}

export interface ClassCount {
  index: number;
  name: string;
  /** Photos with this class among their top `topK` (classCounts' option). */
  count: number;
}

/** What the collection tools add to EngineApi (see docs/APP.md, "Collection tools"). */
export interface CollectionToolsApi {
  /** Deletes photos (every record of them, one transaction), updates the index and open query at once; undoable. */
  deletePhotos(ids: string[]): Promise<DeleteResult>;
  undoDelete(undoToken: string): Promise<UndoResult>;
  /**
   * Near-duplicate groups at `threshold` (default 0.85), with every candidate pair and live counts for a slider. The
   * first call starts building the neighbour graph ('grouping' events); it answers at once with what is placed so
   * far (complete: false), or after the graph is complete with `wait: true`. Then kept up to date as photos come.
   */
  duplicates(options?: { threshold?: number; wait?: boolean }): Promise<DuplicatesReport>;
  /**
   * Groups of the same place or object: links between mutual k-nearest neighbours (default k 10, OfA >= 0.7) that
   * pass the CAM region check both ways (>= 0.8), then connected components; `wait` as above (with the checks).
   */
  groups(options?: { k?: number; minSim?: number; wait?: boolean }): Promise<GroupsReport>;
  /** Builds the neighbour graph again from scratch (progress through 'grouping' events); cancelGrouping stops it. */
  rebuildGroups(): Promise<GroupingProgress>;
  cancelGrouping(): Promise<void>;
  /** The collection's most frequent classes (top-1 of each photo by default), most frequent first. */
  classCounts(options?: { topK?: number; limit?: number }): Promise<ClassCount[]>;
  /** The indexed photos with this class among their top `topK` (default 1), in collection order. */
  photosWithClass(classIndex: number, options?: { topK?: number }): Promise<string[]>;
  /** Size, resolution and date of photos (undefined where not in the collection). */
  photoFacts(ids: string[]): Promise<(PhotoFacts | undefined)[]>;
}
