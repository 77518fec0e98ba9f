/**
 * Ways of cutting the connected components of the group links further (src/collection-tools/groups.ts `split`), measured by
 * eval-groups.ts against the app's plain components; none is in the app (README, "Groups of the same place"):
 *  - louvainCut: Louvain communities (graphology-communities-louvain) of each component;
 *  - bridgeCut, coreCut: the components less their weak bridges (withoutBridges).
 * Per component, not over the whole graph: a group then never changes with photos it has no link to (and for
 * modularity, the resolution limit does not grow with the collection).
 */
import Graph from 'graphology';
import louvain from 'graphology-communities-louvain';
import { components, type Link, type LinkComponent } from '../../src/collection-tools/groups';
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

