/**
 * The IndexedDB schema of a photo collection, and its migrations.
 *
 * Stores (all keyed by the photo id = SHA-256 of the imported file's bytes, hex):
 *   images    metadata + thumbnail of every photo in the collection (indexed or not); index `seq` = import order
 *   blobs     the stored copy of the photo (the original file when its long side is <= MAX_STORED_SIDE, else a
 *             downscaled JPEG); the network reads this copy, for indexing and when the photo is the query
 *   queue     photos waiting for the network (resumed after a reload); index `seq`
 *   features  per indexed photo: grid, all class probabilities, the OfA descriptor, model key
 *   maps      per indexed photo: the encoded feature maps X (online aggregation, re-ranking, heatmaps)
 *   meta      settings (model, long side, NC, codec), the import counter and the custom models
 *   pending   (v2) files dropped but not read in yet, by tab session: an import interrupted by closing the tab is
 *             reported on the next visit (the browser cannot read those files again; the user drops them again)
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
export const SCHEMA_VERSION = 2;

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
  /** 'original': the file itself is stored; 'downscaled': a JPEG with long side MAX_STORED_SIDE. */
  stored: 'original' | 'downscaled';
  thumb: Blob;
  thumbWidth: number;
  thumbHeight: number;
}

export interface BlobRecord {
  id: string;
  blob: Blob;
}

export interface QueueRecord {
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

export type MetaRecord =
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
  images: { key: string; value: ImageRecord; indexes: { seq: number } };
  blobs: { key: string; value: BlobRecord };
  queue: { key: string; value: QueueRecord; indexes: { seq: number } };
  features: { key: string; value: FeatureRecord };
  maps: { key: string; value: MapsRecord };
  meta: { key: string; value: MetaRecord };
  pending: { key: string; value: PendingRecord; indexes: { session: string } };
}

/**
 * Every store that holds records keyed by a photo id: removing a photo (db.ts removeImages, trash.ts) removes its
 * records from each of these in one transaction. A new per-photo store must be added here.
 */
export const PHOTO_STORES = ['images', 'blobs', 'queue', 'features', 'maps'] as const;

export type CollectionDatabase = IDBPDatabase<CollectionSchema>;
export type UpgradeTransaction = IDBPTransaction<CollectionSchema, StoreNames<CollectionSchema>[], 'versionchange'>;

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
];
