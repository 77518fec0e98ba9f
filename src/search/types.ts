import type * as tf from '@tensorflow/tfjs-core';
import type { Grid } from '../cw/boxes';
import type { CellBox } from '../cw/types';
import type { WhiteningOnDevice } from '../cw/whitening';

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
}

export interface RerankInfo {
  /** The 5 candidate boxes (one per threshold), in cells of that image. */
  boxes: CellBox[];
  /** Index into boxes of the best-scoring region. */
  best: number;
  /** Score of each region against the NC_re query descriptor. */
  regionScores: number[];
}

export interface SearchResult {
  /** Image indices, best first. */
  ranking: Int32Array;
  /** Final score of ranking[i]: cosine similarity (a region score for re-ranked images unless QE ran after). */
  scores: Float32Array;
  /** Classes of the query (from its cropped region), most probable first. */
  queryClasses: number[];
  /** Per re-ranked image index. */
  rerank: Map<number, RerankInfo>;
}
