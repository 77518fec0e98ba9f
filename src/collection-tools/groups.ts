/**
 * Groups of photos of the same place or object across the collection (instance clusters, not duplicates): the
 * mutual k-nearest-neighbour graph of the OfA descriptors (a and b are linked when each is among the other's k
 * nearest and their similarity reaches `minSim`; mutual links do not chain through hub photos the way a plain
 * threshold does), optionally with each link confirmed by a region check, then its connected components. Pure.
 */
import Heap from 'mnemonist/heap';
import type { NeighbourLists } from './neighbours';

export interface GroupOptions {
  /** Neighbours per photo that count (<= the lists' k). */
  k: number;
  /** Least similarity of a link. */
  minSim: number;
  /** Photos a group needs (smaller components are left ungrouped). */
  minSize?: number;
  /** Keeps a link only when it passes (e.g. a CAM region score); every link passes when absent. */
  accept?: (a: string, b: string, sim: number) => boolean;
  /** Cuts a connected component of the links into groups; absent, each component is a group (the app's way). */
  split?: (component: LinkComponent) => string[][];
}

export type Link = { a: string; b: string; sim: number };
/** A connected component of the links. */
export type LinkComponent = { members: string[]; links: Link[] };

export interface PhotoGroup {
  /** Stable while the group keeps its representative: 'g:' + the representative's id. */
  id: string;
  /** The photo most linked within the group (ties: the highest sum of link similarities, then the first). */
  representative: string;
  /** Members, the representative first, then by links within the group (most first). */
  members: string[];
  /** Links within the group and the mean of their similarities. */
  links: number;
  meanSim: number;
}

/** The mutual links of the graph, each once (a < b), with their similarity. */
export function mutualLinks(lists: NeighbourLists, k: number, minSim: number): Link[] {
  // Each photo's first k neighbours above minSim, as a set (one lookup per link instead of a scan).
  const near = new Map<string, Set<string>>();
  for (const id of lists.ids) near.set(id, new Set(lists.neighbours(id).slice(0, k).filter((n) => n.sim >= minSim).map((n) => n.id)));
  const links: Link[] = [];
  for (const a of lists.ids) {
    for (const n of lists.neighbours(a).slice(0, k)) {
      if (n.sim >= minSim && a < n.id && near.get(n.id)?.has(a)) links.push({ a, b: n.id, sim: n.sim });
    }
  }
  return links;
}

/** Connected components of the links (union-find), each with its members and its links. */
export function components(links: readonly Link[]): LinkComponent[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    while (x !== r) {
      const next = parent.get(x)!;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  for (const { a, b } of links) {
    for (const id of [a, b]) if (!parent.has(id)) parent.set(id, id);
    parent.set(find(a), find(b));
  }
  const out = new Map<string, LinkComponent>();
  for (const id of parent.keys()) {
    const r = find(id);
    (out.get(r) ?? out.set(r, { members: [], links: [] }).get(r)!).members.push(id);
  }
  for (const l of links) out.get(find(l.a))!.links.push(l);
  return [...out.values()];
}

export interface LinkageOptions {
  /** Least mean cosine of a merge that rests on one pair of photos (two photos alone). */
  minPairAverage: number;
  /**
   * What the least mean cosine approaches as a merge rests on more pairs: clusters of a and b photos need
   * minAverage + (minPairAverage - minAverage) / sqrt(a b). A mean over many pairs is firmer evidence than one pair.
   */
  minAverage: number;
  /**
   * Least closeness: the mean cosine between the two clusters over the mean cosine within them (weighted by size;
   * clusters of 2+ photos). Two tight groups of different objects stay apart even when they are alike on the whole.
   */
  minCloseness: number;
}

/**
 * Average linkage (UPGMA) along the links of one component: every photo starts alone, and the two linked clusters
 * whose photos are most alike on average (the mean cosine over ALL their cross pairs, linked or not) merge, while
 * that mean reaches the threshold for the number of pairs it rests on and is close to the clusters' own (relative
 * closeness, as in Chameleon: Karypis, Han & Kumar 1999). So a link joins two clusters only when the whole of each
 * supports it: a chain of weak links or a hub photo linked to two places does not merge them, a large group needs a
 * consistently high similarity, and two photos alone need a high one. With unit descriptors the mean cosine of
 * A x B is sum(A) . sum(B) / (|A| |B|): one product of D numbers per pair of clusters, whatever their sizes (the
 * mean within a merged cluster follows from its parts' and the merge's own).
 */
export function averageLinkage(component: LinkComponent, descriptor: (id: string) => ArrayLike<number>, options: LinkageOptions): string[][] {
  const { minPairAverage, minAverage, minCloseness } = options;
  const { members, links } = component;
  const index = new Map(members.map((id, i) => [id, i]));
  const D = members.length ? descriptor(members[0]).length : 0;
  /** Each cluster's descriptor sum: the photo's own descriptor until it first takes another in. */
  const sums: ArrayLike<number>[] = members.map((id) => descriptor(id));
  const sizes = members.map(() => 1);
  /** Mean cosine within each cluster (1 for one photo: unused, closeness only weighs clusters of 2+). */
  const within = members.map(() => 1);
  const parts = members.map((id) => [id]);
  /** Linked clusters of each cluster. */
  const next = members.map(() => new Set<number>());
  /** Bumped on each merge: a queued pair whose clusters changed since is stale. */
  const version = members.map(() => 0);
  const dot = (x: number, y: number) => {
    const a = sums[x], b = sums[y];
    let s = 0;
    for (let d = 0; d < D; d++) s += a[d] * b[d];
    return s;
  };
  type Pair = { x: number; y: number; score: number; vx: number; vy: number };
  const queue = new Heap<Pair>((p, q) => q.score - p.score || p.x - q.x || p.y - q.y);
  const offer = (x: number, y: number, sim?: number) => {
    const score = sim ?? dot(x, y) / (sizes[x] * sizes[y]);
    if (score < minAverage + (minPairAverage - minAverage) / Math.sqrt(sizes[x] * sizes[y])) return;
    const inside = [x, y].filter((z) => sizes[z] > 1);
    const own = inside.reduce((t, z) => t + sizes[z] * within[z], 0) / inside.reduce((t, z) => t + sizes[z], 0);
    if (!inside.length || score >= minCloseness * own) queue.push({ x: Math.min(x, y), y: Math.max(x, y), score, vx: version[Math.min(x, y)], vy: version[Math.max(x, y)] });
  };
  // Two photos alone: their mean is the link's cosine.
  for (const { a, b, sim } of links) {
    const [x, y] = [index.get(a)!, index.get(b)!];
    if (next[x].has(y)) continue;
    next[x].add(y);
    next[y].add(x);
    offer(x, y, sim);
  }
  for (let p = queue.pop(); p; p = queue.pop()) {
    if (p.vx !== version[p.x] || p.vy !== version[p.y] || !parts[p.x].length || !parts[p.y].length) continue;
    // The larger cluster takes the smaller one in (fewer numbers moved).
    const [keep, gone] = sizes[p.x] >= sizes[p.y] ? [p.x, p.y] : [p.y, p.x];
    const [a, b] = [sizes[keep], sizes[gone]];
    // Pairs within the merged cluster: those within each, and the a b across (their mean is the score).
    const pairsWithin = (n: number) => (n * (n - 1)) / 2;
    within[keep] = (pairsWithin(a) * (a > 1 ? within[keep] : 0) + pairsWithin(b) * (b > 1 ? within[gone] : 0) + a * b * p.score) / pairsWithin(a + b);
    const sum = a > 1 ? (sums[keep] as Float64Array) : Float64Array.from(sums[keep]);
    const other = sums[gone];
    for (let d = 0; d < D; d++) sum[d] += other[d];
    sums[keep] = sum;
    sums[gone] = sum.subarray(0, 0);
    sizes[keep] += b;
    for (const id of parts[gone]) parts[keep].push(id);
    parts[gone] = [];
    version[keep]++;
    for (const z of next[gone]) {
      next[z].delete(gone);
      if (z === keep) continue;
      next[z].add(keep);
      next[keep].add(z);
    }
    next[keep].delete(gone);
    next[gone].clear();
    for (const z of next[keep]) offer(keep, z);
  }
  return parts.filter((part) => part.length);
}

/**
 * Groups of the accepted mutual links, largest first (ties: by representative id): their connected components, or
 * what `split` cuts them into (the app: averageLinkage; scripts/collection/groupCuts.ts measures other cuts).
 */
export function mutualKnnGroups(lists: NeighbourLists, options: GroupOptions): PhotoGroup[] {
  const { k, minSim, minSize = 2, accept, split } = options;
  const links = mutualLinks(lists, k, minSim).filter((l) => !accept || accept(l.a, l.b, l.sim));
  const parts = components(links).flatMap((c) => (split ? split(c) : [c.members]));
  const groupOf = new Map<string, number>();
  parts.forEach((members, g) => members.forEach((id) => groupOf.set(id, g)));
  // Links within each group only: a group's representative is its most linked member within it.
  const inside = parts.map(() => [] as Link[]);
  for (const l of links) if (groupOf.get(l.a) === groupOf.get(l.b)) inside[groupOf.get(l.a)!].push(l);
  const groups: PhotoGroup[] = [];
  parts.forEach((members, g) => {
    if (members.length < minSize) return;
    const degree = new Map(members.map((id) => [id, 0]));
    const strength = new Map(members.map((id) => [id, 0]));
    for (const { a, b, sim } of inside[g]) {
      for (const id of [a, b]) {
        degree.set(id, degree.get(id)! + 1);
        strength.set(id, strength.get(id)! + sim);
      }
    }
    members.sort((x, y) => degree.get(y)! - degree.get(x)! || strength.get(y)! - strength.get(x)! || (x < y ? -1 : 1));
    const sum = inside[g].reduce((s, l) => s + l.sim, 0);
    groups.push({ id: `g:${members[0]}`, representative: members[0], members, links: inside[g].length, meanSim: inside[g].length ? sum / inside[g].length : 0 });
  });
  return groups.sort((x, y) => y.members.length - x.members.length || (x.representative < y.representative ? -1 : 1));
}

/** An order-free key of a component's links (a 32-bit FNV-1a hash of each "a|b" summed, with the counts). */
function linksKey(c: LinkComponent): string {
  const fnv = (h: number, text: string) => {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  };
  let sum = 0;
  for (const { a, b } of c.links) sum = (sum + (fnv(fnv(0x811c9dc5, a) ^ 0x7c, b) >>> 0)) % 2 ** 48;
  return `${c.members.length}:${c.links.length}:${sum}`;
}

/**
 * Average-linkage cuts kept from one groups read to the next, by their component's links: after a few photos came or
 * went, only the components whose links changed are cut again (the worker reads groups on every request). Photos'
 * descriptors never change under one id, and the options are part of the key.
 */
export class LinkageCache {
  private last = new Map<string, string[][]>();
  private now = new Map<string, string[][]>();

  cut(component: LinkComponent, descriptor: (id: string) => ArrayLike<number>, options: LinkageOptions): string[][] {
    const key = `${options.minPairAverage}:${options.minAverage}:${options.minCloseness}:${linksKey(component)}`;
    const parts = this.last.get(key) ?? averageLinkage(component, descriptor, options);
    this.now.set(key, parts);
    return parts;
  }

  /** Ends a read: the cuts of components it did not see are dropped. */
  done(): void {
    this.last = this.now;
    this.now = new Map();
  }

  clear(): void {
    this.last.clear();
    this.now.clear();
  }
}
