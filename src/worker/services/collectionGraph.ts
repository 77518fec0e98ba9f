/**
 * Collection graph: every indexed photo's nearest neighbours (src/collection-tools/neighbours.ts), from which near-duplicates
 * (with a layout check on the stored maps) and groups of the same place are read. Built in the background the first
 * time they are asked for, in batches under the tfjs lock (a search waits for one batch at most), with progress and
 * cancel; from then on kept up to date incrementally, one batch of newly indexed photos at a time (the Immich
 * pattern: each photo's neighbours searched when it has its descriptor), and after deletions (the lists that lost a
 * neighbour are refilled). In memory only: a new page builds it again when first asked.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeMaps } from '../../index/mapCodec';
import { DUPLICATE_DEFAULTS, GROUP_DEFAULTS, groupLinkage } from '../../collection-tools/collectionDefaults';
import { LAYOUT_CELLS, duplicateScore, groupCounts, duplicateGroups, layoutCellScores, layoutDescriptor, layoutScore, suggestKeep } from '../../collection-tools/duplicates';
import { LinkageCache, mutualKnnGroups, mutualLinks, type PhotoGroup } from '../../collection-tools/groups';
import { linkRegionScore } from '../../collection-tools/regionCheck';
import { NeighbourLists } from '../../collection-tools/neighbours';
import { similarityRows } from '../../collection-tools/similarity';
import type { DuplicatePair, DuplicatesReport, GroupingProgress, GroupsReport, PhotoFacts } from '../../worker-api/api';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Emit } from '../events';
import type { Settings } from './session';
import type { NetworkManager } from './networkManager';

/** Photos placed per product with the collection (B x D times D x N). */
const BATCH = 32;
/** Group links region-checked per turn of the tfjs lock (each ~0.1-0.3 s on wasm: BENCHMARKS.md). */
const LINKS_PER_TURN = 4;
/** Layout descriptors kept in memory (9 x K floats each: 74 KB for ResNet-50). */
const LAYOUT_CACHE = 256;

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export interface CollectionGraphDeps {
  state: CollectionState;
  settings: Settings;
  network: NetworkManager;
  lock: Lock;
  emit: Emit;
  facts: (ids: string[]) => Promise<(PhotoFacts | undefined)[]>;
}

export class CollectionGraph {
  private lists = new NeighbourLists(DUPLICATE_DEFAULTS.k, Math.min(DUPLICATE_DEFAULTS.floor, GROUP_DEFAULTS.floor));
  private enabled = false;
  private running: Promise<void> | null = null;
  private cancelled = false;
  private again = false;
  private progress: GroupingProgress = { state: 'idle', done: 0, total: 0 };
  private layouts = new Map<string, Float32Array>();
  private pairs = new Map<string, { layout: number; cells: number[] }>();
  /** Region scores of group links (src/collection-tools/regionCheck.ts), by pair. */
  private linkScores = new Map<string, number>();
  private lastGroups: PhotoGroup[] = [];
  /** The average-linkage cuts of the last read, by component (only components whose links changed are cut again). */
  private cuts = new LinkageCache();

  constructor(private readonly deps: CollectionGraphDeps) {}

  /**
   * The collection changed (any service, any tab): keep the graph up to date when it is in use. Photos indexed one
   * by one are placed a batch at a time (BATCH photos, or when the queue is empty): appending to the resident
   * descriptors rebuilds their last block, which is worth doing once per batch, not once per photo.
   */
  onCollectionChanged(reset: boolean, indexed = false): void {
    if (reset) this.forget();
    if (!this.enabled) return;
    const { state } = this.deps;
    const waiting = state.index.size - this.lists.size;
    // (The photo just indexed is still at the head of the queue when its event comes.)
    if (indexed && waiting < BATCH && state.queue.some((id) => !state.index.has(id))) return;
    void this.kick().catch((e: unknown) => console.warn('[groups] update failed:', e));
  }

  private forget(): void {
    this.lists.clear();
    this.layouts.clear();
    this.pairs.clear();
    this.linkScores.clear();
    this.cuts.clear();
    this.lastGroups = [];
  }

  /** Starts (or continues) bringing the graph up to date; resolves when it is (or was cancelled). */
  private kick(): Promise<void> {
    this.enabled = true;
    this.cancelled = false;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.update();
          if (!this.cancelled) await this.verifyLinks(GROUP_DEFAULTS.k, GROUP_DEFAULTS.minSim);
        } while (this.again && !this.cancelled);
      } finally {
        this.running = null;
        if (this.progress.state === 'running') this.setProgress({ ...this.progress, state: 'idle' });
      }
    })();
    return this.running;
  }

  async rebuild(): Promise<GroupingProgress> {
    await this.cancel();
    await this.deps.lock.run(async () => this.forget());
    void this.kick().catch((e: unknown) => console.warn('[groups] build failed:', e));
    return this.progress;
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.running?.catch(() => undefined);
  }

  private setProgress(p: GroupingProgress): void {
    this.progress = p;
    this.deps.emit({ type: 'grouping', progress: { ...p } });
  }

  /** One pass: drops removed photos (refilling the lists that held them), then places the new ones, in batches. */
  private async update(): Promise<void> {
    const { state, settings, network, lock } = this.deps;
    const net = await network.get();
    const { removed, short } = await lock.run(async () => {
      const present = new Set(state.index.ids);
      const removed = this.lists.ids.filter((id) => !present.has(id));
      for (const id of removed) this.layouts.delete(id);
      if (removed.length) {
        for (const cache of [this.pairs, this.linkScores]) for (const k of [...cache.keys()]) if (removed.some((id) => k.includes(id))) cache.delete(k);
      }
      return { removed, short: this.lists.remove(removed) };
    });
    const todo = [...short.map((id) => ({ id, refill: true })), ...state.index.ids.filter((id) => !this.lists.has(id)).map((id) => ({ id, refill: false }))];
    if (!todo.length && !removed.length) return;
    const total = state.index.size;
    this.setProgress({ state: 'running', phase: 'neighbours', done: this.lists.size - short.length, total });
    for (let s = 0; s < todo.length; s += BATCH) {
      if (this.cancelled) {
        this.setProgress({ ...this.progress, state: 'cancelled' });
        return;
      }
      await lock.run(async () => {
        const index = state.index;
        // Photos removed meanwhile are left out (the next pass drops them).
        const batch = todo.slice(s, s + BATCH).filter((t) => index.has(t.id) && this.lists.has(t.id) === t.refill);
        if (!batch.length) return;
        const blocks = await index.offlineDescriptors(settings.current.nc, net.head.w);
        const ids = index.ids;
        const D = index.record(ids[0])!.descriptor.length;
        const rows = new Float32Array(batch.length * D);
        batch.forEach(({ id }, b) => rows.set(index.record(id)!.descriptor, b * D));
        const sims = await similarityRows(blocks, rows, batch.length);
        const N = ids.length;
        const inserts = batch.map((t, b) => ({ ...t, b })).filter((t) => !t.refill);
        batch.forEach((t, b) => {
          if (t.refill) this.lists.refill(t.id, sims.subarray(b * N, (b + 1) * N), ids);
        });
        if (inserts.length) {
          const part = new Float32Array(inserts.length * N);
          inserts.forEach((t, j) => part.set(sims.subarray(t.b * N, (t.b + 1) * N), j * N));
          this.lists.insertRows(inserts.map((t) => t.id), part, ids);
        }
      });
      this.setProgress({ state: 'running', phase: 'neighbours', done: Math.min(total, this.lists.size), total });
    }
    this.setProgress({ state: 'idle', phase: 'neighbours', done: this.lists.size, total: this.lists.size });
  }

  /** Links of groups (at these k and link threshold) whose region check has not run yet. */
  private uncheckedLinks(k: number, minSim: number) {
    return mutualLinks(this.lists, k, minSim).filter((l) => !this.linkScores.has(pairKey(l.a, l.b)));
  }

  /** Runs the region check of the group links not checked yet, a few links per turn of the tfjs lock. */
  private async verifyLinks(k: number, minSim: number): Promise<void> {
    const { state, network, lock } = this.deps;
    const links = this.uncheckedLinks(k, minSim);
    if (!links.length) return;
    const net = await network.get();
    for (let s = 0; s < links.length; s += LINKS_PER_TURN) {
      if (this.cancelled) {
        this.setProgress({ ...this.progress, state: 'cancelled' });
        return;
      }
      this.setProgress({ state: 'running', phase: 'region checks', done: s, total: links.length });
      await lock.run(async () => {
        const part = links.slice(s, s + LINKS_PER_TURN).filter((l) => state.index.has(l.a) && state.index.has(l.b));
        const ids = [...new Set(part.flatMap((l) => [l.a, l.b]))];
        const [encoded, probabilities] = await Promise.all([state.index.encodedMaps(ids), state.index.probabilities(ids)]);
        const P = new Map(ids.map((id, i) => [id, probabilities[i]!]));
        const X = new Map(ids.map((id, i) => [id, tf.tensor3d(decodeMaps(encoded[i]), [encoded[i].H, encoded[i].W, encoded[i].K])]));
        try {
          for (const l of part) {
            const p = (id: string) => P.get(id)!;
            this.linkScores.set(pairKey(l.a, l.b), await linkRegionScore(X.get(l.a)!, p(l.a), X.get(l.b)!, p(l.b), net.head.w));
          }
        } finally {
          tf.dispose([...X.values()]);
        }
      });
    }
    this.setProgress({ state: 'idle', phase: 'region checks', done: links.length, total: links.length });
  }

  private async ready(wait: boolean): Promise<boolean> {
    const done = this.kick();
    if (wait) await done;
    return !this.running && this.progress.state !== 'cancelled' && this.lists.size === this.deps.state.index.size;
  }

  async duplicates(options: { threshold?: number; wait?: boolean } = {}): Promise<DuplicatesReport> {
    const threshold = options.threshold ?? DUPLICATE_DEFAULTS.threshold;
    if (!(threshold >= DUPLICATE_DEFAULTS.candidateSim && threshold <= 1)) throw new Error(`the duplicate threshold must be between ${DUPLICATE_DEFAULTS.candidateSim} and 1, got ${threshold}`);
    const complete = await this.ready(options.wait ?? false);
    const candidates: { a: string; b: string; sim: number }[] = [];
    const seen = new Set<string>();
    for (const a of this.lists.ids) {
      for (const n of this.lists.neighbours(a)) {
        const key = pairKey(a, n.id);
        if (n.sim < DUPLICATE_DEFAULTS.candidateSim || seen.has(key)) continue;
        seen.add(key);
        candidates.push({ a: a < n.id ? a : n.id, b: a < n.id ? n.id : a, sim: n.sim });
      }
    }
    await this.checkLayouts(candidates);
    const pairs: DuplicatePair[] = candidates.flatMap(({ a, b, sim }) => {
      const r = this.pairs.get(pairKey(a, b));
      return r ? [{ a, b, similarity: sim, layout: r.layout, cells: r.cells, score: duplicateScore(sim, r.layout) }] : [];
    });
    const steps = Array.from({ length: Math.round((1 - DUPLICATE_DEFAULTS.candidateSim) * 100) + 1 }, (_, i) => Math.round((DUPLICATE_DEFAULTS.candidateSim + i / 100) * 100) / 100);
    const groups = await Promise.all(
      duplicateGroups(pairs, threshold).map(async (ids) => {
        const members = (await this.deps.facts(ids)).filter((f): f is PhotoFacts => !!f);
        const inGroup = new Set(ids);
        return {
          id: `d:${ids[0]}`,
          members,
          keep: suggestKeep(members.map((m) => ({ id: m.id, bytes: m.bytes, width: m.width, height: m.height, addedAt: m.addedAt }))),
          pairs: pairs.filter((p) => p.score >= threshold && inGroup.has(p.a) && inGroup.has(p.b)),
        };
      }),
    );
    return { threshold, pairs, candidateSim: DUPLICATE_DEFAULTS.candidateSim, counts: groupCounts(pairs, steps), groups, complete, progress: { ...this.progress } };
  }

  /** The layout check of candidate pairs not checked yet (their maps read in one transaction per batch). */
  private async checkLayouts(candidates: readonly { a: string; b: string }[]): Promise<void> {
    const { state, lock } = this.deps;
    const todo = candidates.filter((c) => !this.pairs.has(pairKey(c.a, c.b)));
    for (let s = 0; s < todo.length; s += BATCH) {
      const part = todo.slice(s, s + BATCH);
      const need = [...new Set(part.flatMap((c) => [c.a, c.b]))].filter((id) => !this.layouts.has(id) && state.index.has(id));
      const maps = await lock.run(() => state.index.encodedMaps(need));
      need.forEach((id, i) => {
        const e = maps[i];
        this.layouts.set(id, layoutDescriptor(decodeMaps(e), e.H, e.W, e.K));
      });
      for (const c of part) {
        const la = this.layouts.get(c.a), lb = this.layouts.get(c.b);
        if (!la || !lb) continue;
        const cells = layoutCellScores(la, lb, la.length / LAYOUT_CELLS ** 2);
        this.pairs.set(pairKey(c.a, c.b), { layout: layoutScore(cells), cells });
      }
      // Keep the most recent layout descriptors only.
      for (const id of this.layouts.keys()) {
        if (this.layouts.size <= LAYOUT_CACHE) break;
        this.layouts.delete(id);
      }
    }
  }

  async groups(options: { k?: number; minSim?: number; wait?: boolean } = {}): Promise<GroupsReport> {
    const k = options.k ?? GROUP_DEFAULTS.k;
    const minSim = options.minSim ?? GROUP_DEFAULTS.minSim;
    if (!Number.isInteger(k) || k < 1 || k > this.lists.k) throw new Error(`k must be an integer from 1 to ${this.lists.k}, got ${k}`);
    if (!(minSim >= this.lists.floor && minSim <= 1)) throw new Error(`the link threshold must be between ${this.lists.floor} and 1, got ${minSim}`);
    let complete = await this.ready(options.wait ?? false);
    if (options.wait && complete) await this.verifyLinks(k, minSim);
    const unchecked = this.uncheckedLinks(k, minSim).length;
    complete &&= unchecked === 0;
    // A link passes when its region check does, or while it waits for it (the report then says complete: false).
    const accept = (a: string, b: string) => (this.linkScores.get(pairKey(a, b)) ?? 1) >= GROUP_DEFAULTS.minRegion;
    // Average linkage along the checked links, on the stored OfA descriptors (a photo deleted while the lists catch up
    // counts as unlike every other, so it joins no group).
    const linkage = groupLinkage(this.deps.settings.current.modelId);
    const { index } = this.deps.state;
    const D = index.size ? index.record(index.ids[0])!.descriptor.length : 0;
    const descriptor = (id: string) => index.record(id)?.descriptor ?? new Float32Array(D);
    const groups = mutualKnnGroups(this.lists, { k, minSim, accept, split: (c) => this.cuts.cut(c, descriptor, linkage) });
    this.cuts.done();
    this.lastGroups = groups;
    const grouped = groups.reduce((s, g) => s + g.members.length, 0);
    return {
      groups: groups.map((g) => ({ id: g.id, representative: g.representative, count: g.members.length, members: g.members, meanSim: g.meanSim })),
      ungrouped: this.lists.size - grouped,
      photos: this.lists.size,
      params: { k, minSim, minRegion: GROUP_DEFAULTS.minRegion, ...linkage },
      uncheckedLinks: unchecked,
      complete,
      progress: { ...this.progress },
    };
  }

  /** Members of a group of the last groups() report (for SearchRequest.within); null when there is no such group. */
  groupMembers(id: string): string[] | null {
    return this.lastGroups.find((g) => g.id === id)?.members ?? null;
  }
}
