/**
 * What a collection was indexed with. Descriptors from two different networks (or input scales) are never
 * mixed: every feature record carries the `modelKey` it was computed with, and changing the model or the long
 * side re-indexes the collection.
 */
import type { MapCodec } from './mapCodec';

/**
 * How the feature maps X are stored (what online aggregation and re-ranking read). One constant so it can be
 * changed after measuring; records keep their own codec, so old records stay readable after a change.
 * 'uint8-sparse' decodes to exactly what 'uint8' does, in about a quarter of the bytes (src/index/mapCodec.ts).
 */
export const MAP_CODEC: MapCodec = 'uint8-sparse';

/** Classes aggregated into the stored offline (OfA) descriptor, NC (paper: 64). Other NCs are recomputed from maps. */
export const INDEX_NC = 64;

/** Network input long side in pixels (the paper uses 1024; 512 is 4x cheaper and measured close on paris6k-mini-dev). */
export const DEFAULT_LONG_SIDE = 512;

/**
 * Long side of the stored copy of a photo (originals up to this size and in JPEG/PNG/WebP are kept as they are,
 * others become a JPEG of this size), and of the pixel space a photo linked on disk is decoded to for the network.
 * Collections of schema v1/v2 hold copies up to 2048: they stay as they are.
 */
export const COPY_SIDE = 1024;

/**
 * What the app keeps of each photo itself (its thumbnail, features and maps are always kept):
 *  - 'link': where the browser gives file-system handles (a dropped folder, a folder picker), a link to the original
 *    on disk, read again when needed (permission is asked again on a later visit); elsewhere a copy (COPY_SIDE);
 *  - 'copy': always a copy (COPY_SIDE), so the collection does not depend on the files staying where they are;
 *  - 'none': a link where the browser gives one, else nothing: the viewer shows the thumbnail and a query of the
 *    photo uses its stored maps.
 * It applies to photos added from then on.
 */
export type StorageMode = 'link' | 'copy' | 'none';
export const STORAGE_MODES: readonly StorageMode[] = ['link', 'copy', 'none'];
export const DEFAULT_STORAGE: StorageMode = 'link';

/** What the default model at its default input size may store per photo, everything included. */
export const STORAGE_BUDGET_BYTES = 300_000;

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
  /** (v3) What is kept of each photo added from now on; absent in older settings: DEFAULT_STORAGE. */
  storage?: StorageMode;
}

/** Identifies the features a network produces: model and input scale. */
export const modelKey = (s: Pick<IndexSettings, 'modelId' | 'longSide'>): string => `${s.modelId}@${s.longSide}`;
