/**
 * Other ways of cutting the connected components of the group links (src/collection-tools/groups.ts `split`), measured by
 * eval-groups.ts against the app's average linkage (README, "Groups of the same place"); none is in the app:
 *  - louvainCut: Louvain communities (graphology-communities-louvain) of each component;
 *  - bridgeCut, coreCut: the components less their weak bridges (withoutBridges);
 *  - linkSupportCut: agglomeration on link counts, two clusters merging when the links between them reach a share of
 *    the smaller one's photos (a group's support, not one neighbour's);
 *  - onLinks(rankOrderDistance ...): links whose two photos agree on what precedes each other in their lists
 *    (approximate rank-order distance 0), then a cut.
 * Per component, not over the whole graph: a group then never changes with photos it has no link to (and for
 * modularity, the resolution limit does not grow with the collection).
 */
import Graph from 'graphology';
import louvain from 'graphology-communities-louvain';
import { components, type Link, type LinkComponent } from '../../src/collection-tools/groups';
import type { NeighbourLists } from '../../src/collection-tools/neighbours';
import { prng } from '../../src/util/prng';

/** Least photos on each side of a bridge that is cut: the smallest set of photos that can hold a cycle of links. */
const BRIDGE_SIDE = 3;

/**
 * One component without its weak bridges: links that no other path of links confirms (graph bridges, Tarjan's
 * low-link, iterative DFS) and that join
 *  - 'sides': two sets of at least BRIDGE_SIDE photos each, i.e. two would-be groups held together by one link
 *    (links to a photo or a pair hanging off a group are kept);
 *  - 'cores': two cores (sets joined by cycles of links) of at least BRIDGE_SIDE photos each, directly.
 */
export function withoutBridges(c: LinkComponent, rule: 'sides' | 'cores' = 'sides'): Link[] {
  const n = c.members.length;
  if (n < 2 * BRIDGE_SIDE) return c.links;
  const index = new Map(c.members.map((id, i) => [id, i]));
  const adjacent: { to: number; link: number }[][] = c.members.map(() => []);
  c.links.forEach((l, e) => {
    adjacent[index.get(l.a)!].push({ to: index.get(l.b)!, link: e });
    adjacent[index.get(l.b)!].push({ to: index.get(l.a)!, link: e });
  });
  const tin = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const size = new Int32Array(n).fill(1);
  const cut = new Set<number>();
  // Stack of [node, link it was reached by, next neighbour to visit].
  const stack: [number, number, number][] = [[0, -1, 0]];
  let time = 0;
  tin[0] = low[0] = time++;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [v, via, next] = top;
    if (next < adjacent[v].length) {
      top[2]++;
      const { to, link } = adjacent[v][next];
      if (link === via) continue;
      if (tin[to] >= 0) low[v] = Math.min(low[v], tin[to]);
      else {
        tin[to] = low[to] = time++;
        stack.push([to, link, 0]);
      }
      continue;
    }
    stack.pop();
    if (!stack.length) break;
    const parent = stack[stack.length - 1][0];
    low[parent] = Math.min(low[parent], low[v]);
    size[parent] += size[v];
    if (low[v] > tin[parent] && (rule === 'cores' || (size[v] >= BRIDGE_SIDE && n - size[v] >= BRIDGE_SIDE))) cut.add(via);
  }
  if (rule === 'cores') {
    // Keep the bridges unless both ends lie in a core (a set joined by cycles of links) of >= BRIDGE_SIDE photos.
    const core = components(c.links.filter((_, e) => !cut.has(e)));
    const coreSize = new Map(core.flatMap((d) => d.members.map((id) => [id, d.members.length] as const)));
    for (const e of [...cut]) {
      const { a, b } = c.links[e];
      if ((coreSize.get(a) ?? 1) < BRIDGE_SIDE || (coreSize.get(b) ?? 1) < BRIDGE_SIDE) cut.delete(e);
    }
  }
  return c.links.filter((_, e) => !cut.has(e));
}

export const bridgeCut = (c: LinkComponent) => components(withoutBridges(c, 'sides')).map((d) => d.members);
export const coreCut = (c: LinkComponent) => components(withoutBridges(c, 'cores')).map((d) => d.members);


/** Louvain communities (modularity, resolution 1, weights = link similarities) of one component. */
export function louvainCut(c: LinkComponent): string[][] {
  if (c.members.length < 4) return [c.members];
  const graph = new Graph({ type: 'undirected' });
  for (const id of c.members) graph.addNode(id);
  for (const { a, b, sim } of c.links) graph.addEdge(a, b, { weight: sim });
  const community = louvain(graph, { getEdgeWeight: 'weight', resolution: 1, rng: prng(1) });
  const out = new Map<number, string[]>();
  for (const id of c.members) (out.get(community[id]) ?? out.set(community[id], []).get(community[id])!).push(id);
  return [...out.values()];
}


/**
 * Agglomeration on link counts: the two clusters with the most links between them per photo of the smaller one merge
 * first (ties: the larger summed similarity), while that share reaches `share`. One link joins two photos, or a photo
 * to a pair; two groups of 10 need 10 * share links between them.
 */
export function linkSupportCut(share: number) {
  return (c: LinkComponent): string[][] => {
    const parts = new Map<string, string[]>(c.members.map((id) => [id, [id]]));
    const cross = new Map<string, Map<string, { n: number; sim: number }>>(c.members.map((id) => [id, new Map()]));
    const add = (x: string, y: string, n: number, sim: number) => {
      const e = cross.get(x)!.get(y) ?? { n: 0, sim: 0 };
      cross.get(x)!.set(y, { n: e.n + n, sim: e.sim + sim });
    };
    for (const { a, b, sim } of c.links) {
      add(a, b, 1, sim);
      add(b, a, 1, sim);
    }
    for (;;) {
      let best: { x: string; y: string; score: number; sim: number } | null = null;
      for (const [x, ys] of cross) {
        for (const [y, e] of ys) {
          if (x >= y) continue;
          const score = e.n / Math.min(parts.get(x)!.length, parts.get(y)!.length);
          if (score >= share && (!best || score > best.score || (score === best.score && e.sim > best.sim))) best = { x, y, score, sim: e.sim };
        }
      }
      if (!best) break;
      const { x, y } = best;
      parts.get(x)!.push(...parts.get(y)!);
      parts.delete(y);
      for (const [z, e] of cross.get(y)!) {
        cross.get(z)!.delete(y);
        if (z === x) continue;
        add(x, z, e.n, e.sim);
        add(z, x, e.n, e.sim);
      }
      cross.delete(y);
      cross.get(x)!.delete(y);
    }
    return [...parts.values()];
  };
}

/**
 * The approximate rank-order distance of a link (after Zhu et al. 2011, Otto et al. 2018, on the top-k lists): the
 * neighbours that a ranks before b and b's list lacks, plus the same from b's side, over the better of the two
 * ranks. 0: whatever either photo finds more alike than the other, the other finds too.
 */
export function rankOrderDistance(lists: NeighbourLists, a: string, b: string): number {
  const la = lists.neighbours(a), lb = lists.neighbours(b);
  const ra = la.findIndex((n) => n.id === b), rb = lb.findIndex((n) => n.id === a);
  if (ra < 0 || rb < 0) return Infinity;
  const ina = new Set(la.map((n) => n.id)), inb = new Set(lb.map((n) => n.id));
  const missing = la.slice(0, ra).filter((n) => !inb.has(n.id)).length + lb.slice(0, rb).filter((n) => !ina.has(n.id)).length;
  return missing / (Math.min(ra, rb) + 1);
}

/** A cut applied to the component's links that pass `keep` (each part of what is left, then the photos left alone). */
export function onLinks(keep: (l: Link) => boolean, cut: (c: LinkComponent) => string[][]) {
  return (c: LinkComponent): string[][] => {
    const parts = components(c.links.filter(keep)).flatMap(cut);
    const placed = new Set(parts.flat());
    return [...parts, ...c.members.filter((id) => !placed.has(id)).map((id) => [id])];
  };
}
