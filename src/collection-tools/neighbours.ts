/**
 * Each photo's k nearest neighbours in the collection (cosine of the OfA descriptors), kept up to date one photo at
 * a time (the Immich pattern: a photo's neighbours are searched when it has its descriptor): inserting a photo takes
 * one row of similarities to the collection (one query against the resident descriptors) and updates its own list
 * and the lists it enters; removing photos shortens the lists that held them, and those photos are refilled from a
 * fresh row. The lists are then exactly the top k (similarity >= floor) among the photos present. Near-duplicates
 * (./duplicates.ts) and groups of the same place (./groups.ts) are read off these lists. Pure: no tfjs, no I/O.
 */

export interface Neighbour {
  id: string;
  /** Cosine similarity of the two OfA descriptors. */
  sim: number;
}

/** Best first; equal similarities: the photo inserted first ranks first (a stable, deterministic order). */
const better = (a: Neighbour, b: Neighbour, order: Map<string, number>) => a.sim > b.sim || (a.sim === b.sim && order.get(a.id)! < order.get(b.id)!);

export class NeighbourLists {
  private lists = new Map<string, Neighbour[]>();
  /** Insertion number of each photo (tie order). */
  private order = new Map<string, number>();
  private next = 0;

  /**
   * @param k neighbours kept per photo
   * @param floor similarities below it are never kept (they are neither duplicates nor the same place)
   */
  constructor(
    readonly k: number,
    readonly floor: number,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    if (!(floor >= -1 && floor <= 1)) throw new Error(`the similarity floor must be in [-1, 1], got ${floor}`);
  }

  get size(): number {
    return this.lists.size;
  }

  has(id: string): boolean {
    return this.lists.has(id);
  }

  get ids(): string[] {
    return [...this.lists.keys()];
  }

  /** The photo's neighbours, best first (empty for a photo not held). */
  neighbours(id: string): readonly Neighbour[] {
    return this.lists.get(id) ?? [];
  }

  /**
   * Adds a photo: `row[i]` is its similarity to the photo `ids[i]`. Entries for itself and for photos not held yet
   * are skipped (a batch is inserted one photo at a time; each later one sees the earlier ones).
   */
  insert(id: string, row: ArrayLike<number>, ids: readonly string[]): void {
    this.insertRows([id], row, ids);
  }

  /**
   * Adds B photos at once: rows [B * ids.length], row b holding newIds[b]'s similarities to `ids`. The same as B
   * inserts in order, but the lists' entry thresholds are looked up once per batch, so the scan of each row is a
   * loop over numbers (a full build at 50,000 photos makes 2.5e9 comparisons).
   */
  insertRows(newIds: readonly string[], rows: ArrayLike<number>, ids: readonly string[]): void {
    const N = ids.length;
    if (rows.length !== newIds.length * N) throw new Error(`similarity rows hold ${rows.length} values for ${newIds.length} x ${N} photos`);
    const held = newIds.find((id) => this.lists.has(id));
    if (held !== undefined) throw new Error(`photo ${held.slice(0, 12)} is in the neighbour lists already: remove it first`);
    // Entry threshold of each photo's list (NaN: not held): a full list takes only a better similarity.
    const thr = new Float64Array(N);
    const full = new Uint8Array(N);
    const position = new Map<string, number>();
    const setThreshold = (i: number) => {
      const list = this.lists.get(ids[i]);
      full[i] = list && list.length === this.k ? 1 : 0;
      thr[i] = !list ? NaN : full[i] ? list[this.k - 1].sim : this.floor;
    };
    for (let i = 0; i < N; i++) {
      position.set(ids[i], i);
      setThreshold(i);
    }
    newIds.forEach((id, b) => {
      this.order.set(id, this.next++);
      const row = b * N;
      const mine: Neighbour[] = [];
      for (let i = 0; i < N; i++) {
        const sim = rows[row + i];
        if (!(sim >= this.floor) || Number.isNaN(thr[i]) || ids[i] === id) continue;
        if (mine.length < this.k || sim >= mine[this.k - 1].sim) this.offer(mine, { id: ids[i], sim });
        if (full[i] ? sim > thr[i] : sim >= thr[i]) {
          this.offer(this.lists.get(ids[i])!, { id, sim });
          setThreshold(i);
        }
      }
      this.lists.set(id, mine);
      const at = position.get(id);
      if (at !== undefined) setThreshold(at);
    });
  }

  /** Recomputes one photo's own list from a fresh row (after a removal shortened it); other lists are untouched. */
  refill(id: string, row: ArrayLike<number>, ids: readonly string[]): void {
    if (!this.lists.has(id)) return;
    if (row.length !== ids.length) throw new Error(`similarity row has ${row.length} values for ${ids.length} photos`);
    const mine: Neighbour[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== id && row[i] >= this.floor && this.lists.has(ids[i])) this.offer(mine, { id: ids[i], sim: row[i] });
    }
    this.lists.set(id, mine);
  }

  /**
   * Removes photos; returns the photos whose list lost a neighbour and may now miss one (refill them). A list that
   * held fewer than k already held every photo above the floor, so it is complete without a refill.
   */
  remove(ids: Iterable<string>): string[] {
    const gone = new Set(ids);
    for (const id of gone) {
      this.lists.delete(id);
      this.order.delete(id);
    }
    const short: string[] = [];
    for (const [id, list] of this.lists) {
      const kept = list.filter((n) => !gone.has(n.id));
      if (kept.length === list.length) continue;
      const wasFull = list.length === this.k;
      this.lists.set(id, kept);
      if (wasFull) short.push(id);
    }
    return short;
  }

  clear(): void {
    this.lists.clear();
    this.order.clear();
  }

  /** Puts n into the sorted list when it belongs to the top k. */
  private offer(list: Neighbour[], n: Neighbour): void {
    if (list.length === this.k && !better(n, list[this.k - 1], this.order)) return;
    let at = list.length;
    while (at > 0 && better(n, list[at - 1], this.order)) at--;
    list.splice(at, 0, n);
    if (list.length > this.k) list.pop();
  }
}
