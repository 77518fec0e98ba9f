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
}

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
export function mutualLinks(lists: NeighbourLists, k: number, minSim: number): { a: string; b: string; sim: number }[] {
  // Each photo's first k neighbours above minSim, as a set (one lookup per link instead of a scan).
  const near = new Map<string, Set<string>>();
  for (const id of lists.ids) near.set(id, new Set(lists.neighbours(id).slice(0, k).filter((n) => n.sim >= minSim).map((n) => n.id)));
  const links: { a: string; b: string; sim: number }[] = [];
  for (const a of lists.ids) {
    for (const n of lists.neighbours(a).slice(0, k)) {
      if (n.sim >= minSim && a < n.id && near.get(n.id)?.has(a)) links.push({ a, b: n.id, sim: n.sim });
    }
  }
  return links;
}

/** Connected components of the accepted mutual links, largest first (ties: by representative id). */
export function mutualKnnGroups(lists: NeighbourLists, options: GroupOptions): PhotoGroup[] {
  const { k, minSim, minSize = 2, accept } = options;
  const links = mutualLinks(lists, k, minSim).filter((l) => !accept || accept(l.a, l.b, l.sim));
  const adjacent = new Map<string, { id: string; sim: number }[]>();
  for (const { a, b, sim } of links) {
    (adjacent.get(a) ?? adjacent.set(a, []).get(a)!).push({ id: b, sim });
    (adjacent.get(b) ?? adjacent.set(b, []).get(b)!).push({ id: a, sim });
  }
  const seen = new Set<string>();
  const groups: PhotoGroup[] = [];
  for (const start of adjacent.keys()) {
    if (seen.has(start)) continue;
    const members: string[] = [start];
    seen.add(start);
    for (let i = 0; i < members.length; i++) {
      for (const n of adjacent.get(members[i])!) {
        if (!seen.has(n.id)) {
          seen.add(n.id);
          members.push(n.id);
        }
      }
    }
    if (members.length < minSize) continue;
    const degree = new Map(members.map((id) => [id, adjacent.get(id)!.length]));
    const strength = new Map(members.map((id) => [id, adjacent.get(id)!.reduce((s, n) => s + n.sim, 0)]));
    members.sort((x, y) => degree.get(y)! - degree.get(x)! || strength.get(y)! - strength.get(x)! || (x < y ? -1 : 1));
    const sims = members.flatMap((m) => adjacent.get(m)!.map((n) => n.sim));
    groups.push({ id: `g:${members[0]}`, representative: members[0], members, links: sims.length / 2, meanSim: sims.reduce((s, v) => s + v, 0) / sims.length });
  }
  return groups.sort((x, y) => y.members.length - x.members.length || (x.representative < y.representative ? -1 : 1));
}
