/**
 * Descriptor blocks (schema v3): the OfA descriptors, grids, NCs and map sizes of up to BLOCK_ROWS photos in typed
 * arrays, so that opening a 50,000-photo collection reads ~50 block records instead of 50,000 feature records
 * (each with its 1000 class probabilities) and holds no object per photo.
 *
 * Blocks are derived from the per-photo `features` records, which stay complete: a row counts only while the
 * `packed` store maps its photo to that block. Deleting a photo's features deletes its `packed` entry in the same
 * transaction (db.ts), which retires the row; a photo indexed again lands in the tail (its features record) and
 * later in a new block. Rows retired this way are dropped when their block is rewritten (compaction).
 */
import type { Grid } from '../cw/boxes';
import { BLOCK_ROWS, type DescriptorBlockRecord, type FeatureRecord } from './schema';

export { BLOCK_ROWS };

/** Grid fields in the order a block keeps them. */
const GRID_FIELDS = ['H', 'W', 'cellWidth', 'cellHeight', 'imageWidth', 'imageHeight'] as const;
export const GRID_STRIDE = GRID_FIELDS.length;

export function writeGrid(out: Float64Array, at: number, g: Grid): void {
  GRID_FIELDS.forEach((f, i) => (out[at * GRID_STRIDE + i] = g[f]));
}

export function readGrid(grids: Float64Array, at: number): Grid {
  const o = at * GRID_STRIDE;
  return { H: grids[o], W: grids[o + 1], cellWidth: grids[o + 2], cellHeight: grids[o + 3], imageWidth: grids[o + 4], imageHeight: grids[o + 5] };
}

/** A block's rows without its key (what is written; db.ts gives it the next key). */
export type BlockRows = Omit<DescriptorBlockRecord, 'key'>;

/** Bytes of a feature record's maps: stored, else (older records) dense uint8 H * W * K. */
export const mapsBytesOf = (f: Pick<FeatureRecord, 'mapsBytes' | 'grid' | 'descriptor'>): number => f.mapsBytes ?? f.grid.H * f.grid.W * f.descriptor.length;

/** Packs feature records (at most BLOCK_ROWS, all of one model and dimension) into block rows. */
export function blockFromFeatures(records: readonly FeatureRecord[], modelKey: string): BlockRows {
  if (records.length > BLOCK_ROWS) throw new Error(`a block holds at most ${BLOCK_ROWS} photos, got ${records.length}`);
  const D = records[0]?.descriptor.length ?? 0;
  const rows = emptyRows(records.length, D, modelKey);
  records.forEach((f, r) => {
    if (f.descriptor.length !== D) throw new Error(`photo ${f.id.slice(0, 12)}: descriptor of ${f.descriptor.length} dimensions in a block of ${D}`);
    rows.ids[r] = f.id;
    rows.descriptors.set(f.descriptor, r * D);
    writeGrid(rows.grids, r, f.grid);
    rows.nc[r] = f.nc;
    rows.mapsBytes[r] = mapsBytesOf(f);
  });
  return rows;
}

export function emptyRows(n: number, D: number, modelKey: string): BlockRows {
  return {
    modelKey,
    D,
    ids: new Array<string>(n),
    descriptors: new Float32Array(n * D),
    grids: new Float64Array(n * GRID_STRIDE),
    nc: new Uint16Array(n),
    mapsBytes: new Uint32Array(n),
  };
}

/** The rows of a block that `keep` accepts, in order (a new block; the input is unchanged). */
export function filterRows<T extends BlockRows>(block: T, keep: (id: string, row: number) => boolean): T {
  const rows = block.ids.flatMap((id, r) => (keep(id, r) ? [r] : []));
  if (rows.length === block.ids.length) return block;
  const out = { ...block, ...emptyRows(rows.length, block.D, block.modelKey) };
  rows.forEach((r, i) => {
    out.ids[i] = block.ids[r];
    out.descriptors.set(block.descriptors.subarray(r * block.D, (r + 1) * block.D), i * block.D);
    out.grids.set(block.grids.subarray(r * GRID_STRIDE, (r + 1) * GRID_STRIDE), i * GRID_STRIDE);
    out.nc[i] = block.nc[r];
    out.mapsBytes[i] = block.mapsBytes[r];
  });
  return out;
}

/** A block record as this version can use it: typed arrays of consistent sizes (else it is ignored and rebuilt). */
export function validBlock(b: DescriptorBlockRecord, D: number): boolean {
  const n = Array.isArray(b.ids) ? b.ids.length : -1;
  return (
    n >= 0 &&
    b.D === D &&
    b.descriptors instanceof Float32Array &&
    b.descriptors.length === n * D &&
    b.grids instanceof Float64Array &&
    b.grids.length === n * GRID_STRIDE &&
    b.nc instanceof Uint16Array &&
    b.nc.length === n &&
    b.mapsBytes instanceof Uint32Array &&
    b.mapsBytes.length === n
  );
}
