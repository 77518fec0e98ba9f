import type * as tf from '@tensorflow/tfjs-core';
import type { Grid } from '../cw/boxes';
import type { CellBox } from '../cw/types';
import type { WhiteningOnDevice } from '../cw/whitening';
import type { NeighbourRule } from './expansionNeighbours';

/** What a search does; every knob of the paper, with its defaults in DEFAULT_SEARCH. */
export interface SearchParams {
  /** 'offline' (OfA): each image's own top-NC classes, stored descriptors. 'online' (OnA): the query's classes for every image. */
  aggregation: 'offline' | 'online';
  /** Classes aggregated per descriptor, NC (paper: 64). For OfA it must equal the NC the collection was indexed with. */
  nc: number;
  /** Query expansion: average the top-n descriptors and search again; 0 = off (paper: 10, or 5 after re-ranking). */
  qe: number;
  /** CAM re-ranking of the top R results; 0 = off (paper: 100 or 1000). */
  rerank: number;
  /** Query classes used for re-ranking regions, NC_re (paper: 6). */
  ncRerank: number;
  /**
   * Only the best `limit` results are wanted: the ranking returned is the first `limit` entries of the full one
   * (same order, same ties), and only those are ordered (R and QE still see what they need). Default: all N.
   */
  limit?: number;
  /**
   * The key re-ranked images are ordered by: 'max' (default) = their previous score raised by what the best region
   * gains over the photo's cosine, i.e. max(cosine, best region cosine) on a cosine ranking; monotone down the whole
   * list (src/search/ordering.ts). 'region' = the best region score alone, the paper's order, where the first result
   * after the top R can score higher than the R-th (kept to reproduce the paper).
   */
  rerankScore?: 'max' | 'region';
  /**
   * QE weights: 0 = the paper's QE (l2 of the sum of the top-n, the query left out); alpha > 0 = alpha-QE (Radenovic
   * et al. 2018): l2(q + sum_i max(0, s_i)^alpha d_i) over the top n, s_i their current scores. Default 0.
   */
  qeAlpha?: number;
  /**
   * What QE after re-ranking averages for the re-ranked images: 'global' their image descriptors, or 'region' the
   * best-region descriptors re-ranking found (the authors' code, which also scores those images by their best
   * region against the expanded query). Without re-ranking both are the same. Default 'global'.
   */
  qeSource?: 'global' | 'region';
  /**
   * Online aggregation over a shortlist: OnA descriptors only for the top M images of the OfA ranking (needs the
   * collection's stored OfA descriptors, at the NC it was indexed with whatever NC OnA uses: the app and the eval
   * pass those); the rest keep their OfA order after them. 0 = every image (exact OnA). Default 0.
   */
  onlineShortlist?: number;
  /** Diffusion (Iscen et al. 2017) over a kNN graph of the top M descriptors; 0 = off. Runs last. Default 0. */
  diffusion?: number;
  /** Neighbours per node of the diffusion graph, itself included (Iscen et al.: 50). */
  diffusionK?: number;
  /**
   * SuperGlobal re-ranking (Shao et al. 2023) of the top M: descriptors refined by their neighbours; 0 = off. Runs
   * before CAM re-ranking. Default 0.
   */
  superGlobal?: number;
  /** SuperGlobal's refined and max-pooled descriptors l2-normalised (not in the authors' code). Default false. */
  superGlobalNormalize?: boolean;
  /** SuperGlobal's neighbours: each of the top M is refined by its K nearest among them, the query side pools K + 1 (9). */
  superGlobalK?: number;
  /** SuperGlobal's weight of a refining neighbour per unit of similarity (0.15). */
  superGlobalBeta?: number;
  /** Which of the K + 1 best SuperGlobal's query side pools (src/search/expansionNeighbours.ts). Default 'top' (all). */
  superGlobalNeighbours?: NeighbourRule;
  /**
   * Which of the top n QE averages (src/search/expansionNeighbours.ts): 'top' all of them (the paper), 'reciprocal'
   * only those that have the query among their own `reciprocalK` nearest, 'gap' those before the largest score drop.
   * When none is kept the ranking is left as it is. Default 'top'.
   */
  qeNeighbours?: NeighbourRule;
  /** QE averages only neighbours scoring at least this (in the ranking QE starts from). Default: no threshold. */
  qeMinScore?: number;
  /** The k of 'reciprocal' neighbours (QE and SuperGlobal). Default 10; at most half the other photos in scope. */
  reciprocalK?: number;
  /**
   * Rank only these images (within[i] = 1: image i may be returned); the others are never results, and re-ranking
   * and query expansion see only these. Default: all.
   */
  within?: Uint8Array;
}

export const DEFAULT_SEARCH: SearchParams = { aggregation: 'offline', nc: 64, qe: 0, rerank: 0, ncRerank: 6 };

/** The query: its whole-image maps, its box, and the class probabilities predicted on the CROPPED region. */
export interface Query {
  X: tf.Tensor3D;
  grid: Grid;
  box: CellBox;
  /** [C] probabilities of the network on the query region. */
  cropProbabilities: ArrayLike<number>;
  /**
   * The same query photo at other network input sizes, for multi-scale descriptors: the query descriptor is then
   * l2(sum of its CW descriptors at every size), to search descriptors built the same way. Re-ranking and online
   * aggregation use X alone.
   */
  otherScales?: { X: tf.Tensor3D; box: CellBox }[];
}

/** The searched collection as the search sees it: descriptors in memory, maps fetched on demand. */
export interface Collection {
  size: number;
  /** Grid of every image (for boxes). */
  grids: readonly Grid[];
  /**
   * OfA descriptors (whitened with the same whitening as the search uses): [N, D] rows, or the same kept
   * transposed in column blocks (the app's resident layout, fast on wasm); null to compute them from the maps.
   */
  offlineDescriptors: tf.Tensor2D | DescriptorBlocks | null;
  /** Feature maps X [H, W, K] of the given images; the search disposes them. */
  maps(indices: readonly number[]): Promise<tf.Tensor3D[]>;
}

/**
 * Descriptors [N, D] kept transposed, as column blocks [D, n_b] holding images in order (sum of n_b = N). Blocks
 * let a collection grow by rebuilding only its last block (src/search/descriptorBlocks.ts).
 */
export interface DescriptorBlocks {
  readonly blocks: readonly tf.Tensor2D[];
}

export interface SearchContext {
  /** Classifier weights [K, C]. */
  w: tf.Tensor2D;
  whitening: WhiteningOnDevice | null;
  /** How many images' maps go through the device at once (online aggregation, re-ranking). */
  chunkSize?: number;
  /**
   * Re-ranking results kept across searches, per image: valid for ONE query (same maps, box and classes), NC_re and
   * whitening only. Lets the steps after re-ranking be varied without recomputing the regions (the evaluation).
   */
  rerankMemo?: Map<number, RerankedImage>;
  /**
   * Online (OnA) descriptor rows kept across searches, per image: valid for ONE query's classes (the same NC) and
   * whitening only. Lets the steps after online aggregation be varied without recomputing it (the evaluation).
   */
  onlineMemo?: Map<number, Float32Array>;
  /**
   * Query descriptors kept across searches, by NC (and NC_re): valid for ONE query (same maps, box and classes) and
   * whitening only. The caller disposes them.
   */
  queryMemo?: Map<string, tf.Tensor1D>;
}

/** One image's re-ranking: its regions and the descriptor of the best one. */
export interface RerankedImage {
  info: RerankInfo;
  row: Float32Array;
}

export interface RerankInfo {
  /** The 5 candidate boxes (one per threshold), in cells of that image. */
  boxes: CellBox[];
  /** Index into boxes of the best-scoring region. */
  best: number;
  /** Score of each region against the NC_re query descriptor. */
  regionScores: number[];
}

/**
 * What a result's score is:
 *  - 'cosine': the query descriptor . the image descriptor (OfA, or OnA with the query's classes);
 *  - 'region': the best CAM-region cosine of CAM re-ranking (NC_re classes), when it beat the image's cosine;
 *  - 'expanded': the expanded query (QE) . the image descriptor (or its best region, qeSource 'region');
 *  - 'refined': SuperGlobal's score (mean of q . refined d and max-pooled neighbours . refined d);
 *  - 'diffusion': the diffusion score (not a cosine: the solution of (I - alpha S) f = y, scaled to [0, 1]).
 */
export type ScoreKind = 'cosine' | 'region' | 'expanded' | 'refined' | 'diffusion';

export interface SearchResult {
  /** Image indices, best first. */
  ranking: Int32Array;
  /**
   * Score of ranking[i], the key the ranking is sorted by: never increases down the list (src/search/ordering.ts).
   * scoreKinds[i] says what it is.
   */
  scores: Float32Array;
  scoreKinds: ScoreKind[];
  /** Classes of the query (from its cropped region), most probable first. */
  queryClasses: number[];
  /** Per re-ranked image index. */
  rerank: Map<number, RerankInfo>;
}
