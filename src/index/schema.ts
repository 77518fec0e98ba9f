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
 *   meta      settings (model, long side, NC, codec) and the import counter
 * A photo is "indexed" when it has a features AND a maps record with the current model key: both are written in
 * one transaction (together with leaving the queue), so a record is complete or absent.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Grid } from '../cw/boxes';
import type { EncodedMaps } from './mapCodec';
import type { IndexSettings } from './settings';

export const DB_NAME = 'cw-instance-search';

/** Bump with a new entry in MIGRATIONS whenever the layout changes. */
export const SCHEMA_VERSION = 1;

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

export type MetaRecord = { key: 'settings'; value: IndexSettings } | { key: 'seq'; value: number };

export interface CollectionSchema extends DBSchema {
  images: { key: string; value: ImageRecord; indexes: { seq: number } };
  blobs: { key: string; value: BlobRecord };
  queue: { key: string; value: QueueRecord; indexes: { seq: number } };
  features: { key: string; value: FeatureRecord };
  maps: { key: string; value: MapsRecord };
  meta: { key: string; value: MetaRecord };
}

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
];
