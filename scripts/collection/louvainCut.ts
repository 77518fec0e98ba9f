/**
 * Louvain communities (graphology-communities-louvain) as a way of cutting the groups of src/search/groups.ts, for
 * evalGroups.ts to measure against the app's cut. Not in the app: on the dev photos it splits every place into
 * several communities (README, "Groups of the same place").
 */
import Graph from 'graphology';
import louvain from 'graphology-communities-louvain';
import type { LinkComponent } from '../../src/search/groups';

/** A fixed pseudo-random sequence (mulberry32), so Louvain gives the same communities on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Louvain communities (modularity, resolution 1, weights = link similarities) of one component. Per component, not
 * over the whole graph: modularity's null model then depends on the component alone, so a group never changes with
 * photos it has no link to, and the resolution limit does not grow with the collection (over a 50k-photo graph it
 * would merge any two cliques of ~20 photos joined by one link).
 */
export function louvainCut(c: LinkComponent): string[][] {
  if (c.members.length < 4) return [c.members];
  const graph = new Graph({ type: 'undirected' });
  for (const id of c.members) graph.addNode(id);
  for (const { a, b, sim } of c.links) graph.addEdge(a, b, { weight: sim });
  const community = louvain(graph, { getEdgeWeight: 'weight', resolution: 1, rng: seeded(1) });
  const out = new Map<number, string[]>();
  for (const id of c.members) (out.get(community[id]) ?? out.set(community[id], []).get(community[id])!).push(id);
  return [...out.values()];
}

