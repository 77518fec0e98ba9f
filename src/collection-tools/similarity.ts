/**
 * Similarities of a few photos to the whole collection in one product: rows [B, D] x the resident OfA descriptors
 * (kept transposed in column blocks, src/search/descriptorBlocks.ts) = [B, N], read back once. The neighbour graph of the
 * collection tools (./neighbours.ts) is built from these rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DescriptorBlocks } from '../search/types';

/** Cosine similarities [B * N] (row b = rows[b] against every photo, in block order) of B l2-normalised rows. */
export async function similarityRows(db: DescriptorBlocks, rows: Float32Array, B: number): Promise<Float32Array> {
  if (!db.blocks.length || B === 0) return new Float32Array(0);
  const D = db.blocks[0].shape[0];
  if (rows.length !== B * D) throw new Error(`similarity rows hold ${rows.length} values, expected ${B} x ${D}`);
  const t = tf.tidy(() => {
    const q = tf.tensor2d(rows, [B, D]);
    const parts = db.blocks.map((b) => tf.matMul(q, b));
    return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
  });
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
