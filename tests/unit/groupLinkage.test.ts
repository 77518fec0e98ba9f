/**
 * The app's group cut (src/collection-tools/groups.ts averageLinkage: average linkage along the verified links, stopped at a
 * mean cosine) on hand-made photos whose descriptors give exact cosines: a chain of weak links does not merge two
 * places, a hub photo linked to two places does not glue them, a true clique forms, two linked places merge only
 * when their cross pairs reach the threshold on average, two tight groups less alike across than within stay apart
 * (closeness), and a merge resting on few pairs needs a higher mean. Connected components (the app before) merge all
 * of these.
 */
import { describe, expect, it } from 'vitest';
import { LinkageCache, averageLinkage, components, mutualKnnGroups, type Link } from '../../src/collection-tools/groups';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { GROUP_DEFAULTS, groupLinkage } from '../../src/collection-tools/collectionDefaults';
import { MODELS } from '../../src/model/adapters';

const D = 64;
/** Unit vector: weights on named axes (axes 0-3 are places, 4.. are each photo's own direction). */
function vector(weights: [number, number][]): Float32Array {
  const v = new Float32Array(D);
  for (const [axis, w] of weights) v[axis] = w;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);

/** A place of n photos around axis `place`, each 0.81 alike with the others (0.9 on the place, 0.436 its own). */
function place(prefix: string, axis: number, n: number, own: () => number): [string, Float32Array][] {
  return Array.from({ length: n }, (_, i) => [`${prefix}${i + 1}`, vector([[axis, 0.9], [own(), Math.sqrt(1 - 0.81)]])]);
}

function setup(extra: [string, [number, number][]][]) {
  let next = 4;
  const own = () => next++;
  const photos = new Map<string, Float32Array>([...place('a', 0, 5, own), ...place('b', 1, 5, own), ...extra.map(([id, w]) => [id, vector([...w, [own(), Math.sqrt(Math.max(0, 1 - w.reduce((s, [, x]) => s + x * x, 0)))]])] as [string, Float32Array])]);
  const link = (x: string, y: string): Link => ({ a: x < y ? x : y, b: x < y ? y : x, sim: cos(photos.get(x)!, photos.get(y)!) });
  const clique = (p: string) => [...photos.keys()].filter((id) => id.startsWith(p) && id.length === 2);
  const inside = (p: string) => clique(p).flatMap((x, i) => clique(p).slice(i + 1).map((y) => link(x, y)));
  return { photos, link, inside, descriptor: (id: string) => photos.get(id)! };
}
/** One stop threshold whatever the pairs, no closeness. */
const plain = (t: number) => ({ minPairAverage: t, minAverage: t, minCloseness: 0 });
const sorted = (parts: string[][]) => parts.map((p) => p.slice().sort()).sort((x, y) => y.length - x.length || (x[0] < y[0] ? -1 : 1));

describe('average linkage along the group links', () => {
  it('does not let a chain of weak links merge two places; components do', () => {
    // a1 - c1 - c2 - c3 - b1: each chain photo close to its neighbours in the chain (0.72-0.81), c2 between the places.
    const { link, inside, descriptor } = setup([
      ['c1', [[0, 0.9], [1, 0.3]]],
      ['c2', [[0, 0.6], [1, 0.6]]],
      ['c3', [[0, 0.3], [1, 0.9]]],
    ]);
    const links = [...inside('a'), ...inside('b'), link('a1', 'c1'), link('c1', 'c2'), link('c2', 'c3'), link('c3', 'b1')];
    expect(links.every((l) => l.sim >= 0.7)).toBe(true);
    const [component] = components(links);
    expect(component.members).toHaveLength(13);
    const groups = sorted(averageLinkage(component, descriptor, plain(0.6)));
    // c1 is a photo of place a (0.81 with each of its photos), c3 of b; c2 is 0.54 from every photo of either.
    expect(groups).toEqual([
      ['a1', 'a2', 'a3', 'a4', 'a5', 'c1'],
      ['b1', 'b2', 'b3', 'b4', 'b5', 'c3'],
      ['c2'],
    ]);
  });

  it('does not let a hub photo linked to two places glue them', () => {
    // h is 0.64 alike with every photo of a and of b, and linked to all ten.
    const { link, inside, descriptor } = setup([['h', [[0, Math.SQRT1_2], [1, Math.SQRT1_2]]]]);
    const hubLinks = ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5'].map((x) => link(x, 'h'));
    const [component] = components([...inside('a'), ...inside('b'), ...hubLinks]);
    expect(component.members).toHaveLength(11);
    const groups = sorted(averageLinkage(component, descriptor, plain(0.6)));
    expect(groups).toHaveLength(2);
    // The hub joins one place (0.64 on average), never both: the other place is 0.11 from that group on average.
    expect(groups.map((g) => g.filter((id) => id !== 'h'))).toEqual([
      ['a1', 'a2', 'a3', 'a4', 'a5'],
      ['b1', 'b2', 'b3', 'b4', 'b5'],
    ]);
  });

  it('forms a true clique, and through the neighbour lists as the app reads them', () => {
    const { photos, inside, descriptor } = setup([]);
    const [component] = components(inside('a'));
    expect(averageLinkage(component, descriptor, plain(0.6)).map((g) => g.slice().sort())).toEqual([['a1', 'a2', 'a3', 'a4', 'a5']]);
    // Above the clique's 0.81 nothing merges.
    expect(averageLinkage(component, descriptor, plain(0.82))).toHaveLength(5);

    const lists = new NeighbourLists(5, 0);
    const ids = [...photos.keys()];
    for (const [i, id] of ids.entries()) lists.insert(id, ids.slice(0, i + 1).map((o) => cos(photos.get(id)!, photos.get(o)!)), ids.slice(0, i + 1));
    const groups = mutualKnnGroups(lists, { k: 5, minSim: 0.5, split: (c) => averageLinkage(c, descriptor, plain(0.6)) });
    expect(groups.map((g) => g.members.slice().sort())).toEqual([
      ['a1', 'a2', 'a3', 'a4', 'a5'],
      ['b1', 'b2', 'b3', 'b4', 'b5'],
    ]);
  });

  it('merges two linked places only when the mean of all their cross pairs reaches the threshold', () => {
    // Two places whose photos are 0.55 alike across (0.81 within), every cross pair linked too.
    const photos = new Map<string, Float32Array>();
    for (let i = 0; i < 4; i++) {
      photos.set(`a${i}`, vector([[0, 0.9], [4 + i, Math.sqrt(0.19)]]));
      photos.set(`b${i}`, vector([[0, 0.9 * 0.679], [1, 0.9 * Math.sqrt(1 - 0.679 ** 2)], [8 + i, Math.sqrt(0.19)]]));
    }
    const ids = [...photos.keys()];
    const links = ids.flatMap((x, i) => ids.slice(i + 1).map((y) => ({ a: x, b: y, sim: cos(photos.get(x)!, photos.get(y)!) })));
    expect(cos(photos.get('a0')!, photos.get('b1')!)).toBeCloseTo(0.55, 2);
    const [component] = components(links);
    expect(sorted(averageLinkage(component, (id) => photos.get(id)!, plain(0.6)))).toEqual([
      ['a0', 'a1', 'a2', 'a3'],
      ['b0', 'b1', 'b2', 'b3'],
    ]);
    expect(averageLinkage(component, (id) => photos.get(id)!, plain(0.5))).toHaveLength(1);
  });

  /** Two places of n photos, `inside` alike within each, `across` alike between them, every pair linked. */
  function twoPlaces(n: number, inside: number, across: number) {
    const c = across / inside;
    const photos = new Map<string, Float32Array>();
    for (let i = 0; i < n; i++) {
      photos.set(`a${i}`, vector([[0, Math.sqrt(inside)], [4 + i, Math.sqrt(1 - inside)]]));
      photos.set(`b${i}`, vector([[0, Math.sqrt(inside) * c], [1, Math.sqrt(inside) * Math.sqrt(1 - c * c)], [4 + n + i, Math.sqrt(1 - inside)]]));
    }
    const ids = [...photos.keys()];
    const [component] = components(ids.flatMap((x, i) => ids.slice(i + 1).map((y) => ({ a: x, b: y, sim: cos(photos.get(x)!, photos.get(y)!) }))));
    return { component, descriptor: (id: string) => photos.get(id)! };
  }

  it('keeps two tight groups apart when they are less alike across than within (closeness), and joins two loose ones', () => {
    // Two objects photographed 4 times each: 0.95 alike within, 0.88 across (0.93 of their own).
    const tight = twoPlaces(4, 0.95, 0.88);
    expect(averageLinkage(tight.component, tight.descriptor, plain(0.85))).toHaveLength(1);
    expect(sorted(averageLinkage(tight.component, tight.descriptor, { ...plain(0.85), minCloseness: 0.95 }))).toEqual([
      ['a0', 'a1', 'a2', 'a3'],
      ['b0', 'b1', 'b2', 'b3'],
    ]);
    // Two views of one place: 0.8 alike within, 0.78 across (0.975 of their own): one group.
    const loose = twoPlaces(4, 0.8, 0.78);
    expect(averageLinkage(loose.component, loose.descriptor, { minPairAverage: 0.75, minAverage: 0.75, minCloseness: 0.95 })).toHaveLength(1);
  });

  it('needs a higher mean for a merge that rests on few pairs', () => {
    // Two photos 0.8 alike stay apart under a pair threshold of 0.85; in groups of 4 (16 pairs) the threshold is
    // 0.75 + 0.1 / 4 = 0.775, so two groups 0.8 alike within and 0.79 across become one.
    const pair = twoPlaces(1, 1, 0.8);
    const options = { minPairAverage: 0.85, minAverage: 0.75, minCloseness: 0 };
    expect(averageLinkage(pair.component, pair.descriptor, options)).toHaveLength(2);
    expect(averageLinkage(pair.component, pair.descriptor, plain(0.8))).toHaveLength(1);
    const groups = twoPlaces(4, 0.9, 0.79);
    // Within each group, pairs of 0.9 merge at once; across, 0.79 >= 0.775.
    expect(averageLinkage(groups.component, groups.descriptor, options)).toHaveLength(1);
    expect(averageLinkage(groups.component, groups.descriptor, { ...options, minAverage: 0.78 })).toHaveLength(2);
  });

  it('cuts a component again only when its links changed (the worker reads groups on every request)', () => {
    const { inside, descriptor } = setup([]);
    let reads = 0;
    const counted = (id: string) => (reads++, descriptor(id));
    const cache = new LinkageCache();
    const options = plain(0.6);
    const read = (links: Link[]) => {
      const parts = components(links).flatMap((c) => cache.cut(c, counted, options));
      cache.done();
      return sorted(parts);
    };
    const a = inside('a');
    expect(read([...inside('b'), ...a])).toEqual(sorted([['a1', 'a2', 'a3', 'a4', 'a5'], ['b1', 'b2', 'b3', 'b4', 'b5']]));
    const first = reads;
    // The same links, in another order: nothing is cut again.
    expect(read([...a.slice().reverse(), ...inside('b')])).toHaveLength(2);
    expect(reads).toBe(first);
    // One link fewer in place a: only a is cut again (half the descriptors read at first).
    reads = 0;
    expect(read([...a.slice(1), ...inside('b')])).toHaveLength(2);
    expect(reads).toBe(first / 2);
    // Other options: cut again.
    reads = 0;
    components(inside('b')).forEach((c) => cache.cut(c, counted, plain(0.7)));
    expect(reads).toBe(first / 2);
  });

  it("has thresholds measured for every model the app offers, and the strictest of each for a model it does not know", () => {
    for (const id of Object.keys(MODELS)) expect(groupLinkage(id)).toBe(GROUP_DEFAULTS.linkage[id]);
    const known = Object.values(GROUP_DEFAULTS.linkage);
    expect(groupLinkage('some_new_net')).toEqual({
      minPairAverage: Math.max(...known.map((o) => o.minPairAverage)),
      minAverage: Math.max(...known.map((o) => o.minAverage)),
      minCloseness: Math.max(...known.map((o) => o.minCloseness)),
    });
  });
});
