/**
 * Groups of photos of the same place or object across the collection (instance clusters, not duplicates): the
 * mutual k-nearest-neighbour graph of the OfA descriptors (a and b are linked when each is among the other's k
 * nearest and their similarity reaches `minSim`; mutual links do not chain through hub photos the way a plain
 * threshold does), optionally with each link confirmed by a region check, then its connected components. Pure.
 */
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

/**
 * Groups of the accepted mutual links, largest first (ties: by representative id): their connected components, or
 * what `split` cuts them into (scripts/collection/groupCuts.ts measures such cuts: none helped on both models).
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
