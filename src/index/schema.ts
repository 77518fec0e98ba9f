/**
 * The IndexedDB schema of a photo collection, and its migrations.
 *
 * Stores (keyed by the photo id = SHA-256 of the imported file's bytes, hex, unless said otherwise):
 *   images    metadata of every photo in the collection (indexed or not); index `seq` = import order; records of
 *             v1/v2 hold the thumbnail too
 *   thumbs    (v3) the thumbnail of every photo added since, apart, so that listing 50,000 photos reads no Blob
 *   blobs     where the photo itself is (PhotoSourceRecord): a stored copy (v1, v2: the original file when its long
 *             side was <= 2048, else a downscaled JPEG; v3: the same bounded by COPY_SIDE), or (v3) a link to the
 *             original on disk (a file-system handle, read when needed), or nothing (the thumbnail stands in)
 *   queue     photos waiting for the network (resumed after a reload); index `seq`
 *   features  per indexed photo: grid, all class probabilities, the OfA descriptor, model key
 *   maps      per indexed photo: the encoded feature maps X (online aggregation, re-ranking, heatmaps)
 *   meta      settings (model, long side, NC, codec, storage), the import counter and the custom models
 *   pending   (v2) files dropped but not read in yet, by tab session: an import interrupted by closing the tab is
 *             reported on the next visit (the browser cannot read those files again; the user drops them again)
 *   descriptorBlocks (v3, keyed by a block number) the OfA descriptors, grids, NCs and map sizes of up to
 *             BLOCK_ROWS indexed photos packed in typed arrays, so start-up reads a handful of records instead of one
 *             per photo. Derived from `features` (which stays complete): a block row counts only while `packed`
 *             says the photo is in that block.
 *   packed    (v3) photo id -> the block holding its row; index `block`. Written with the block; deleted with the
 *             photo's features (removal, re-indexing), in the same transaction, which retires the row.
 *   roots     (v3, keyed by a random key) folders and files the user gave the app access to (file-system handles):
 *             photos linked on disk name their root and their path under it.
 * A photo is "indexed" when it has a features AND a maps record with the current model key: both are written in
 * one transaction (together with leaving the queue), so a record is complete or absent.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Grid } from '../cw/boxes';
import type { ModelSpec } from '../model/spec';
import type { EncodedMaps } from './mapCodec';
import type { IndexSettings } from './settings';

export const DB_NAME = 'cw-instance-search';

/** Bump with a new entry in MIGRATIONS whenever the layout changes. */
export const SCHEMA_VERSION = 3;

/** Photos per descriptor block. */
export const BLOCK_ROWS = 1024;

/**
 * Where a photo itself is kept: 'copy' (a bounded copy in `blobs`), 'disk' (the original on disk, through a
 * file-system handle), 'none' (only the thumbnail; a query of it uses its stored maps).
 */
type PhotoSource = 'copy' | 'disk' | 'none';

export interface ImageRecord {
  id: string;
  /** File name as dropped (rendered as text only). */
  name: string;
  /** Path inside a dropped folder ('' for single files). */
  path: string;
  /** Import order. */
  seq: number;
  addedAt: number;
  /** Size of the stored copy, upright (EXIF orientation applied): the pixel space of query boxes. */
  width: number;
  height: number;
  /** The original file: size in bytes, MIME type, pixel size (upright). */
  originalBytes: number;
  originalType: string;
  originalWidth: number;
  originalHeight: number;
  /** 'original': the file itself is stored (or linked); 'downscaled': a JPEG copy bounded by COPY_SIDE. */
  stored: 'original' | 'downscaled';
  /** (v3) Where the photo is kept; absent in older records, which all hold a copy. */
  source?: PhotoSource;
  /** JPEG, long side THUMB_SIDE. Written to the `thumbs` store since v3 and joined back by the reads that need it. */
  thumb: Blob;
  thumbWidth: number;
  thumbHeight: number;
}

/** (v3) A photo's original on disk: the root the user gave access to, and the path under it (folders, then the file name). */
export interface DiskLink {
  root: string;
  path: string[];
}

/**
 * Where a photo is (store `blobs`): a stored copy (every v1/v2 record), a link to the original on disk, or nothing.
 * A `temporary` copy is kept only until the photo is indexed (storage 'none'): the same transaction that records
 * its features replaces it with `none`.
 */
export type PhotoSourceRecord = { id: string; blob: Blob; temporary?: true } | { id: string; disk: DiskLink } | { id: string; none: true };

/** (v3) A folder or file the user gave the app access to. Handles are structured-cloneable, so IndexedDB keeps them. */
export interface RootRecord {
  key: string;
  name: string;
  handle: FileSystemDirectoryHandle | FileSystemFileHandle;
  addedAt: number;
}

/**
 * (v3) Rows of up to BLOCK_ROWS indexed photos: row r is photo ids[r], its OfA descriptor descriptors[r*D .. r*D+D),
 * its grid grids[r*6 .. r*6+6) as H, W, cellWidth, cellHeight, imageWidth, imageHeight, its NC and its maps' size.
 */
export interface DescriptorBlockRecord {
  key: number;
  modelKey: string;
  D: number;
  ids: string[];
  descriptors: Float32Array;
  grids: Float64Array;
  nc: Uint16Array;
  mapsBytes: Uint32Array;
}

/** (v3) A photo's thumbnail. */
interface ThumbRecord {
  id: string;
  thumb: Blob;
}

/** (v3) Which block holds a photo's row. */
interface PackedRecord {
  id: string;
  block: number;
}

interface QueueRecord {
  id: string;
  seq: number;
}

export interface FeatureRecord {
  id: string;
  /** modelKey() of the settings it was computed with. */
  modelKey: string;
  grid: Grid;
  /** All C class probabilities of the whole photo (NC can change without the network). */
  probabilities: Float32Array;
  /** OfA descriptor with the photo's own top-`nc` classes (no whitening). */
  descriptor: Float32Array;
  nc: number;
  /** Backend that computed it (informational). */
  backend: string;
  /** Milliseconds of the forward pass + read-back. */
  ms: number;
  indexedAt: number;
  /** (v3) Bytes of its encoded maps (absent in older records, whose maps are dense uint8: H * W * K). */
  mapsBytes?: number;
}

export interface MapsRecord {
  id: string;
  modelKey: string;
  maps: EncodedMaps;
}

/**
 * A model loaded by the user (files dropped or a same-origin URL), validated as "GAP + one linear classifier" before
 * it was kept. Its files are in the Cache API (cache `cw-custom-models-v1`, under custom-models/<id>/).
 */
export interface CustomModelRecord extends ModelSpec {
  /** Class names from labels.json, or numbered ("class 0", ...) when none was given. */
  labels: 'file' | 'numbered';
  /** Where it came from: 'files' or the URL of its model.json. */
  source: string;
  addedAt: number;
}

type MetaRecord =
  | { key: 'settings'; value: IndexSettings }
  | { key: 'seq'; value: number }
  | { key: 'customModels'; value: CustomModelRecord[] };

/** A dropped file not read in yet (v2). `session` identifies the tab; a live tab holds a Web Lock with its name. */
export interface PendingRecord {
  key: string;
  session: string;
  name: string;
  path: string;
  size: number;
  addedAt: number;
}

export interface CollectionSchema extends DBSchema {
  /** Records without their thumbnail since v3 (it is in `thumbs`); v1/v2 records keep theirs. */
  images: { key: string; value: Omit<ImageRecord, 'thumb'> & { thumb?: Blob }; indexes: { seq: number } };
  blobs: { key: string; value: PhotoSourceRecord };
  queue: { key: string; value: QueueRecord; indexes: { seq: number } };
  features: { key: string; value: FeatureRecord };
  maps: { key: string; value: MapsRecord };
  meta: { key: string; value: MetaRecord };
  pending: { key: string; value: PendingRecord; indexes: { session: string } };
  descriptorBlocks: { key: number; value: DescriptorBlockRecord };
  packed: { key: string; value: PackedRecord; indexes: { block: number } };
  roots: { key: string; value: RootRecord };
  thumbs: { key: string; value: ThumbRecord };
}

/**
 * Every store that holds records keyed by a photo id: removing a photo (db.ts removeImages, trash.ts) removes its
 * records from each of these in one transaction. A new per-photo store must be added here. Removing the `packed`
 * record retires the photo's row in its descriptor block (the block itself is rewritten on a later start-up).
 */
export const PHOTO_STORES = ['images', 'thumbs', 'blobs', 'queue', 'features', 'maps', 'packed'] as const;

export type CollectionDatabase = IDBPDatabase<CollectionSchema>;
type UpgradeTransaction = IDBPTransaction<CollectionSchema, StoreNames<CollectionSchema>[], 'versionchange'>;

/**
 * MIGRATIONS[v - 1] upgrades a database at version v - 1 to version v (v = 1 creates it). They run in order
 * inside the one versionchange transaction, so an upgrade is all-or-nothing.
 */
export type Migration = (db: CollectionDatabase, tx: UpgradeTransaction) => void;

export const MIGRATIONS: readonly Migration[] = [
  // 1: the initial layout.
  (db) => {
    db.createObjectStore('images', { keyPath: 'id' }).createIndex('seq', 'seq');
    db.createObjectStore('blobs', { keyPath: 'id' });
    db.createObjectStore('queue', { keyPath: 'id' }).createIndex('seq', 'seq');
    db.createObjectStore('features', { keyPath: 'id' });
    db.createObjectStore('maps', { keyPath: 'id' });
    db.createObjectStore('meta', { keyPath: 'key' });
  },
  // 2: files dropped but not read in yet (interrupted imports are reported on the next visit). Nothing else
  // changes: every v1 record is kept as it is.
  (db) => {
    db.createObjectStore('pending', { keyPath: 'key' }).createIndex('session', 'session');
  },
  // 3: descriptors packed in blocks (filled from `features` on the next start), photos linked on disk or kept as
  // thumbnails only, thumbnails apart. Every v2 record is kept and read as it is: a `blobs` record is a copy, a
  // `features` record without mapsBytes has dense uint8 maps, an `images` record keeps its thumbnail.
  (db) => {
    db.createObjectStore('descriptorBlocks', { keyPath: 'key' });
    db.createObjectStore('packed', { keyPath: 'id' }).createIndex('block', 'block');
    db.createObjectStore('roots', { keyPath: 'key' });
    db.createObjectStore('thumbs', { keyPath: 'id' });
  },
];
