/**
 * The descriptors a search scores against, in any of the layouts the steps produce: [N, D] rows, the app's resident
 * transposed column blocks, or either with some images' descriptors replaced (an Overlay: the OnA descriptors of an
 * OfA shortlist, or the best-region descriptors that CAM re-ranking found).
 */
import * as tf from '@tensorflow/tfjs-core';
import { cosineScores, cosineScoresTransposed } from '../cw/ranking';
import type { DescriptorBlocks } from './types';

export type Descriptors = tf.Tensor2D | DescriptorBlocks;

/** `base` with image images[i] described by rows[i] instead. */
export interface Overlay {
  base: Database;
  images: readonly number[];
  rows: tf.Tensor2D;
}

export type Database = Descriptors | Overlay;

const isBlocks = (db: Database): db is DescriptorBlocks => 'blocks' in db;
const isOverlay = (db: Database): db is Overlay => 'base' in db;

/** Images in the database. */
export function databaseSize(db: Database): number {
  if (isOverlay(db)) return databaseSize(db.base);
  return isBlocks(db) ? db.blocks.reduce((n, b) => n + b.shape[1], 0) : db.shape[0];
}

/** Cosine scores of every image with q [D] (l2-normalised descriptors), read back once: [N]. */
export async function allScores(db: Database, q: tf.Tensor1D): Promise<Float32Array<ArrayBuffer>> {
  if (isOverlay(db)) {
    const scores = await allScores(db.base, q);
    const over = await readAndDispose(cosineScores(db.rows, q));
    db.images.forEach((image, i) => (scores[image] = over[i]));
    return scores;
  }
  return readAndDispose(isBlocks(db) ? cosineScoresTransposed(db.blocks, q) : cosineScores(db, q));
}

/**
 * The search scope (within[i] = 1: image i may be returned): scores of images outside it become -Infinity, so they
 * rank after every image in it and a ranking cut at the scope's size never reaches them. Returns `scores`.
 */
export function outOfScope<T extends Float32Array>(scores: T, within?: Uint8Array): T {
  if (within) for (let i = 0; i < scores.length; i++) if (!within[i]) scores[i] = -Infinity;
  return scores;
}

/** The descriptors of the given images, as rows in that order: [n, D]. */
export function gatherRows(db: Database, images: readonly number[]): tf.Tensor2D {
  if (images.length === 0) throw new Error('gatherRows: no images');
  return tf.tidy(() => {
    if (isOverlay(db)) {
      const at = new Map(db.images.map((image, i) => [image, i]));
      const fromBase = images.filter((i) => !at.has(i));
      const base = fromBase.length ? gatherRows(db.base, fromBase) : null;
      // Row r of [overlay rows; base rows] for each requested image.
      const all = base ? tf.concat([db.rows, base], 0) : db.rows;
      const baseAt = new Map(fromBase.map((image, i) => [image, db.images.length + i]));
      return tf.gather(all, images.map((i) => at.get(i) ?? baseAt.get(i)!)) as tf.Tensor2D;
    }
    if (!isBlocks(db)) return tf.gather(db, Array.from(images)) as tf.Tensor2D;
    // Image i is column i - start of the block that starts at or before it: one gather per block touched.
    const starts: number[] = [];
    db.blocks.reduce((start, b) => (starts.push(start), start + b.shape[1]), 0);
    const blockOf = images.map((i) => {
      let b = starts.length - 1;
      while (starts[b] > i) b--;
      return b;
    });
    const used = [...new Set(blockOf)];
    // Row of each requested image in the concatenation of the per-block gathers.
    const order = new Array<number>(images.length);
    let next = 0;
    const parts = used.map((b) => {
      const columns: number[] = [];
      images.forEach((i, t) => {
        if (blockOf[t] !== b) return;
        order[t] = next++;
        columns.push(i - starts[b]);
      });
      return tf.transpose(tf.gather(db.blocks[b], columns, 1)) as tf.Tensor2D;
    });
    const rows = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    return tf.gather(rows, order) as tf.Tensor2D;
  });
}

export async function readAndDispose(t: tf.Tensor): Promise<Float32Array<ArrayBuffer>> {
  try {
    return (await t.data()) as Float32Array<ArrayBuffer>;
  } finally {
    t.dispose();
  }
}
