/**
 * The indexed photos' rows in memory, without an object per photo: id, OfA descriptor, grid, NC and maps size in
 * typed-array segments. A descriptor block read at start-up becomes one segment as it is (no copy); photos indexed
 * afterwards fill segments of BLOCK_ROWS. Positions are the collection's order (the search's image indices).
 */
import { BLOCK_ROWS, GRID_STRIDE, emptyRows, filterRows, readGrid, writeGrid, type BlockRows } from '../blocks';
import type { Grid } from '../../search/cwForWorker';

/** One photo's row, as the rest of the worker reads it (views into the segment: do not keep or change them). */
export interface IndexRow {
  id: string;
  descriptor: Float32Array;
  grid: Grid;
  nc: number;
  mapsBytes: number;
}

interface Segment {
  rows: BlockRows;
  /** Rows used (the last segment has room for more). */
  n: number;
}

export class IndexRows {
  private segments: Segment[] = [];
  /** Position of each segment's first row. */
  private starts: number[] = [];
  private ids: string[] = [];
  private position = new Map<string, number>();
  D = 0;

  get size(): number {
    return this.ids.length;
  }

  /** Ids in position order (the array itself: do not change it). */
  get idList(): readonly string[] {
    return this.ids;
  }

  has(id: string): boolean {
    return this.position.has(id);
  }

  indexOf(id: string): number {
    return this.position.get(id) ?? -1;
  }

  /** Appends a block's rows as one segment, kept as they are. Photos already held are left out. */
  appendBlock(block: BlockRows): void {
    if (!block.ids.length) return;
    this.checkD(block.D);
    const rows = filterRows(block, (id) => !this.position.has(id));
    this.segments.push({ rows, n: rows.ids.length });
    this.starts.push(this.ids.length);
    for (const id of rows.ids) {
      this.position.set(id, this.ids.length);
      this.ids.push(id);
    }
  }

  /** Appends one photo (it must not be held already). */
  push(id: string, descriptor: ArrayLike<number>, grid: Grid, nc: number, mapsBytes: number): void {
    this.checkD(descriptor.length);
    let last = this.segments.at(-1);
    if (!last || last.n === last.rows.ids.length) {
      last = { rows: emptyRows(BLOCK_ROWS, this.D, ''), n: 0 };
      this.segments.push(last);
      this.starts.push(this.ids.length);
    }
    const r = last.n++;
    last.rows.ids[r] = id;
    last.rows.descriptors.set(descriptor, r * this.D);
    writeGrid(last.rows.grids, r, grid);
    last.rows.nc[r] = nc;
    last.rows.mapsBytes[r] = mapsBytes;
    this.position.set(id, this.ids.length);
    this.ids.push(id);
  }

  /** Removes photos; returns the first position that changed (size when none did). Later rows move up. */
  remove(gone: ReadonlySet<string>): number {
    const first = this.ids.findIndex((id) => gone.has(id));
    if (first < 0) return this.size;
    const kept = this.segments.map((s) => {
      const rows = filterRows(s.n === s.rows.ids.length ? s.rows : sliceRows(s.rows, s.n), (id) => !gone.has(id));
      return { rows, n: rows.ids.length };
    });
    this.clear();
    for (const s of kept) if (s.n) this.appendBlock(s.rows);
    return first;
  }

  clear(): void {
    this.segments = [];
    this.starts = [];
    this.ids = [];
    this.position.clear();
    this.D = 0;
  }

  /** The row at a position. */
  at(i: number): IndexRow {
    const [s, r] = this.locate(i);
    const { rows } = this.segments[s];
    return { id: rows.ids[r], descriptor: this.descriptorAt(i), grid: readGrid(rows.grids, r), nc: rows.nc[r], mapsBytes: rows.mapsBytes[r] };
  }

  /** The OfA descriptor at a position (a view). */
  descriptorAt(i: number): Float32Array {
    const [s, r] = this.locate(i);
    return this.segments[s].rows.descriptors.subarray(r * this.D, (r + 1) * this.D);
  }

  gridAt(i: number): Grid {
    const [s, r] = this.locate(i);
    return readGrid(this.segments[s].rows.grids, r);
  }

  /** Positions of the photos whose stored descriptor was made with an NC other than `nc` (one pass, no lookups). */
  positionsWithout(nc: number): number[] {
    const out: number[] = [];
    this.segments.forEach((s, k) => {
      for (let r = 0; r < s.n; r++) if (s.rows.nc[r] !== nc) out.push(this.starts[k] + r);
    });
    return out;
  }

  /** Sum of every photo's maps size, bytes. */
  totalMapsBytes(): number {
    let sum = 0;
    for (const s of this.segments) for (let r = 0; r < s.n; r++) sum += s.rows.mapsBytes[r];
    return sum;
  }

  /** Rows at these positions as one block of `modelKey` (for packing), in the order given. */
  rowsAt(positions: readonly number[], modelKey: string): BlockRows {
    const out = emptyRows(positions.length, this.D, modelKey);
    positions.forEach((i, j) => {
      const row = this.at(i);
      out.ids[j] = row.id;
      out.descriptors.set(row.descriptor, j * this.D);
      writeGrid(out.grids, j, row.grid);
      out.nc[j] = row.nc;
      out.mapsBytes[j] = row.mapsBytes;
    });
    return out;
  }

  private checkD(D: number): void {
    if (this.size && D !== this.D) throw new Error(`a descriptor of ${D} dimensions in a collection of ${this.D}`);
    this.D = D;
  }

  /** Segment and row of a position (binary search over the segment starts). */
  private locate(i: number): [number, number] {
    if (!(i >= 0 && i < this.ids.length)) throw new Error(`no photo at position ${i} (${this.ids.length} indexed)`);
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - this.starts[lo]];
  }
}

/** The first n rows of a block. */
function sliceRows(b: BlockRows, n: number): BlockRows {
  return {
    ...b,
    ids: b.ids.slice(0, n),
    descriptors: b.descriptors.subarray(0, n * b.D),
    grids: b.grids.subarray(0, n * GRID_STRIDE),
    nc: b.nc.subarray(0, n),
    mapsBytes: b.mapsBytes.subarray(0, n),
  };
}
