/**
 * What a collection was indexed with. Descriptors from two different networks (or input scales) are never
 * mixed: every feature record carries the `modelKey` it was computed with, and changing the model or the long
 * side re-indexes the collection.
 */
import type { MapCodec } from './mapCodec';

/**
 * How the feature maps X are stored (what online aggregation and re-ranking read). One constant so it can be
 * changed after measuring; records keep their own codec, so old records stay readable after a change.
 */
export const MAP_CODEC: MapCodec = 'uint8';

/** Classes aggregated into the stored offline (OfA) descriptor, NC (paper: 64). Other NCs are recomputed from maps. */
export const INDEX_NC = 64;

/** Network input long side in pixels (the paper uses 1024; 512 is 4x cheaper and measured close on paris6k-mini-dev). */
export const DEFAULT_LONG_SIDE = 512;

/** Long side of the stored copy of each photo: originals up to this size are kept as they are. */
export const MAX_STORED_SIDE = 2048;

/** Long side of thumbnails (JPEG), enough for 2x screens at the grid's size. */
export const THUMB_SIDE = 320;

export interface IndexSettings {
  /** Model id (src/model/adapters.ts). */
  modelId: string;
  /** Network input long side. */
  longSide: number;
  /** NC of the stored OfA descriptors. */
  nc: number;
  /** Codec for newly stored maps. */
  codec: MapCodec;
  /** Indexing was cancelled by the user: queued photos wait for "Resume" instead of starting on load. */
  paused: boolean;
}

/** Identifies the features a network produces: model and input scale. */
export const modelKey = (s: Pick<IndexSettings, 'modelId' | 'longSide'>): string => `${s.modelId}@${s.longSide}`;
