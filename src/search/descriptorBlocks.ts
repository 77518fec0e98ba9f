/**
 * The OfA descriptors of a collection resident on the backend, transposed [D, N] and cut into column blocks
 * (BENCHMARKS.md, recommendation 1). q [1, D] x block makes each block the operand that tfjs-backend-wasm hands
 * to XNNPACK's fully-connected operator, which packs it once, on its first use, and keeps it with the tensor:
 * later queries skip the packing (100k x 512 on Chromium wasm: 162 ms per query row-major and sorted, ~22 ms
 * here). Blocks keep that cost local: appending photos rebuilds, and XNNPACK repacks, only the last block.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cosineScoresTransposed } from '../cw/ranking';
import type { DescriptorBlocks } from './types';

/** Columns (images) per block. */
export const BLOCK_COLUMNS = 16384;

export class BlockedDescriptors implements DescriptorBlocks {
  private parts: tf.Tensor2D[] = [];
  /** Blocks built since the last warmUp (not yet packed on wasm). */
  private cold = new Set<tf.Tensor2D>();

  constructor(readonly blockColumns = BLOCK_COLUMNS) {
    if (!Number.isInteger(blockColumns) || blockColumns < 1) throw new Error(`block size must be a positive integer, got ${blockColumns}`);
  }

  get blocks(): readonly tf.Tensor2D[] {
    return this.parts;
  }

  /** Images held. */
  get size(): number {
    return this.parts.reduce((n, b) => n + b.shape[1], 0);
  }

  /**
   * Makes the blocks hold descriptors 0..n-1 (rowAt(i): image i's descriptor, length D), given that those from
   * position `from` on changed since the last call (appended, or moved up by a removal): the blocks before the
   * one holding `from` are kept as they are (and stay packed), the rest are rebuilt.
   */
  sync(n: number, D: number, rowAt: (i: number) => ArrayLike<number>, from = 0): void {
    // Nothing changed: keep every block, the last partial one too (rebuilding it would also undo XNNPACK's packing,
    // which at N below one block is the whole collection, on every search).
    if (from >= n && this.size === n && (!this.parts.length || this.parts[0].shape[0] === D)) return;
    const B = this.blockColumns;
    let keep = Math.min(Math.floor(Math.max(0, Math.min(from, n)) / B), this.parts.length);
    if (this.parts.length && this.parts[0].shape[0] !== D) keep = 0;
    for (const b of this.parts.splice(keep)) {
      this.cold.delete(b);
      b.dispose();
    }
    for (let start = keep * B; start < n; start += B) {
      const m = Math.min(B, n - start);
      const rows = new Float32Array(m * D);
      for (let j = 0; j < m; j++) {
        const row = rowAt(start + j);
        if (row.length !== D) throw new Error(`descriptor ${start + j} has ${row.length} dimensions, expected ${D}`);
        rows.set(row, j * D);
      }
      // Uploaded as rows and transposed on the backend: cheaper than a strided copy in JavaScript.
      const block = tf.tidy(() => tf.transpose(tf.tensor2d(rows, [m, D])) as tf.Tensor2D);
      this.parts.push(block);
      this.cold.add(block);
    }
  }

  /**
   * One throw-away query against the blocks built since the last call, so that XNNPACK packs them now (idle
   * time) rather than during the next search (0.8 s at 100k x 512, 3.3 s at 100k x 2048 on wasm).
   */
  async warmUp(): Promise<void> {
    const cold = this.parts.filter((b) => this.cold.has(b));
    if (!cold.length) return;
    const q = tf.zeros([cold[0].shape[0]]) as tf.Tensor1D;
    const s = cosineScoresTransposed(cold, q);
    try {
      await s.data();
    } finally {
      tf.dispose([q, s]);
    }
    for (const b of cold) this.cold.delete(b);
  }

  dispose(): void {
    tf.dispose(this.parts);
    this.parts = [];
    this.cold.clear();
  }
}
