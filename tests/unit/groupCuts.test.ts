/**
 * Further cuts of the group components (scripts/collection/groupCuts.ts, measured by eval-groups.ts; not in the
 * app): on constructed graphs, two dense cliques joined by one bridging link come out as
 * two groups, where the app's connected components merge them; bridges to a photo or a pair hanging off a group,
 * and links another path confirms, are kept.
 */
import { describe, expect, it } from 'vitest';
import { bridgeCut, coreCut, linkSupportCut, louvainCut, rankOrderDistance, withoutBridges } from '../../scripts/collection/groupCuts';
import { components, mutualKnnGroups, mutualLinks } from '../../src/collection-tools/groups';
import { NeighbourLists } from '../../src/collection-tools/neighbours';

/** Lists from a similarity table (symmetric), inserted in the order given. */
function listsOf(ids: string[], sim: (a: string, b: string) => number, k: number) {
  const lists = new NeighbourLists(k, 0);
  const seen: string[] = [];
  for (const id of ids) {
    seen.push(id);
    lists.insert(id, seen.map((o) => (o === id ? 1 : sim(id, o))), seen);
  }
  return lists;
}

describe('group cuts', () => {
  // Two places of 5 photos each (0.9 alike within, 0.3 across) and one wrong link a1~b1 at 0.95, the strongest of all.
  const five = ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5'];
  const sim = (x: string, y: string) => ((x === 'a1' && y === 'b1') || (x === 'b1' && y === 'a1') ? 0.95 : x[0] === y[0] ? 0.9 : 0.3);
  const sorted = (groups: { members: string[] }[]) => groups.map((g) => g.members.slice().sort());

  it('cuts two dense cliques joined by one bridging link into two groups; components merge them', () => {
    const lists = listsOf(five, sim, 5);
    expect(mutualLinks(lists, 5, 0.5)).toHaveLength(2 * 10 + 1);
    expect(sorted(mutualKnnGroups(lists, { k: 5, minSim: 0.5 }))).toEqual([five]);
    for (const split of [bridgeCut, coreCut, louvainCut]) {
      const groups = mutualKnnGroups(lists, { k: 5, minSim: 0.5, split });
      expect(sorted(groups)).toEqual([five.slice(0, 5), five.slice(5)]);
      // Within its group each bridge end has 4 links like the others: the bridge's 0.95 no longer counts for the
      // representative, so every member ties and the first id wins; links are counted within the group.
      expect(groups.map((g) => [g.representative, g.links])).toEqual([
        ['a1', 10],
        ['b1', 10],
      ]);
      expect(groups[0].meanSim).toBeCloseTo(0.9, 6);
    }
  });

  it('keeps a bridge to a photo or a pair hanging off a group, and a link that another path confirms', () => {
    const clique = five.slice(0, 5);
    const link = (a: string, b: string) => ({ a, b, sim: 0.9 });
    const inner = clique.flatMap((x, i) => clique.slice(i + 1).map((y) => link(x, y)));
    const names = (links: { a: string; b: string }[]) => links.map((l) => `${l.a}~${l.b}`).sort();
    // A pair b1-b2 hanging off a1: both links are bridges, but cutting either leaves fewer than 3 photos on a side.
    const pendant = [...inner, link('a1', 'b1'), link('b1', 'b2')];
    expect(names(withoutBridges({ members: [...clique, 'b1', 'b2'], links: pendant }))).toEqual(names(pendant));
    // Three photos b1-b2-b3 on a1 by one link: cut ('sides'), kept ('cores': b1 is on no cycle).
    const chain = [...inner, link('a1', 'b1'), link('b1', 'b2'), link('b2', 'b3')];
    const members = [...clique, 'b1', 'b2', 'b3'];
    expect(names(withoutBridges({ members, links: chain }))).toEqual(names(chain.filter((l) => l.b !== 'b1')));
    expect(names(withoutBridges({ members, links: chain }, 'cores'))).toEqual(names(chain));
    // Two links a1-b1 and a2-b1 confirm each other: kept.
    const twice = [...chain, link('a2', 'b1')];
    expect(names(withoutBridges({ members, links: twice }))).toEqual(names(twice));
  });

  it('gives the same groups on every run (Louvain with a fixed seed)', () => {
    const lists = listsOf(five, sim, 5);
    expect(mutualKnnGroups(lists, { k: 5, minSim: 0.5, split: louvainCut })).toEqual(mutualKnnGroups(lists, { k: 5, minSim: 0.5, split: louvainCut }));
  });

  it('link support: one link does not join two places of 5; a photo linked to a pair joins it', () => {
    // The wrong link a1~b1 weaker than the places' own links (when it is the strongest, a1 and b1 pair up first).
    const lists = listsOf(five, (x, y) => (sim(x, y) === 0.95 ? 0.85 : sim(x, y)), 5);
    const [component] = components(mutualLinks(lists, 5, 0.5));
    expect(sorted(linkSupportCut(1)(component).map((members) => ({ members })))).toEqual([five.slice(0, 5), five.slice(5)]);
    const link = (a: string, b: string) => ({ a, b, sim: 0.9 });
    expect(linkSupportCut(1)({ members: ['x', 'y', 'z'], links: [link('x', 'y'), link('y', 'z')] })).toEqual([['x', 'y', 'z']]);
  });

  it("rank-order distance: 0 when what each photo ranks before the other is in the other's list too", () => {
    const lists = listsOf(five, sim, 5);
    expect(rankOrderDistance(lists, 'a2', 'a3')).toBe(0);
    // x ranks p before y, y ranks q before x, and neither list holds the other's: (1 + 1) / (1 + 1).
    const pairs: Record<string, number> = { 'p|x': 0.9, 'q|y': 0.9, 'x|y': 0.8 };
    const four = listsOf(['x', 'y', 'p', 'q'], (a, b) => pairs[a < b ? `${a}|${b}` : `${b}|${a}`] ?? 0.1, 2);
    expect(rankOrderDistance(four, 'x', 'y')).toBe(1);
    expect(rankOrderDistance(four, 'p', 'q')).toBe(Infinity);
  });
});
