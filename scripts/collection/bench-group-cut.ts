/**
 * npx tsx scripts/collection/bench-group-cut.ts [--sizes 10000,50000] [--dims 256] [--others 20] [--repeats 5]
 *
 * The cost of reading groups off the neighbour lists (src/collection-tools/groups.ts: mutual links, then the cut) at 10k and
 * 50k photos, as the worker pays it on every groups() call: average linkage along the links (the app's, with
 * ResNet-50's thresholds), connected components (the app before), and two cuts measured by eval-groups.ts
 * (groupCuts.ts: weak bridges, Louvain). A full build of the lists at 50k takes about an hour (bench-groups.ts), so here each
 * synthetic photo (syntheticDescriptors.ts: places of ~10 photos) is placed among its own place and --others random photos
 * only: the lists then hold what a full build would give within places plus chance links across them, and the cut
 * works on a graph of the real size. Times are medians of --repeats runs in one process.
 */
import { parseArgs } from 'node:util';
import { LinkageCache, averageLinkage, mutualKnnGroups, mutualLinks, type LinkComponent } from '../../src/collection-tools/groups';
import { NeighbourLists } from '../../src/collection-tools/neighbours';
import { DUPLICATE_DEFAULTS, GROUP_DEFAULTS, groupLinkage } from '../../src/collection-tools/collectionDefaults';
import { median } from '../../src/util/median';
import { bridgeCut, louvainCut } from './groupCuts';
import { synthetic } from './syntheticDescriptors';

const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,50000' },
    dims: { type: 'string', default: '256' },
    others: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '5' },
  },
});

function main() {
  const D = Number(a.dims);
  const others = Number(a.others);
  const repeats = Number(a.repeats);
  console.log(`groups read off the lists, synthetic places, D = ${D}, each photo placed among its place and ${others} random photos; Node ${process.version}`);
  console.log('N | mutual links | mutual links alone: median ms | average linkage (the app): median ms (groups, links cut) | again, cuts kept from the last read: median ms | components: median ms (groups) | weak bridges cut: median ms (groups, links cut) | Louvain: median ms (groups, links cut)');
  for (const N of a.sizes!.split(',').map(Number)) {
    const data = synthetic(N, D);
    const ids = Array.from({ length: N }, (_, i) => `p${i}`);
    const places = Math.max(1, Math.floor(N / 10));
    const members = new Map<number, number[]>();
    for (let i = 0; i < N; i++) (members.get((i * 7919) % places) ?? members.set((i * 7919) % places, []).get((i * 7919) % places)!).push(i);
    const lists = new NeighbourLists(DUPLICATE_DEFAULTS.k, GROUP_DEFAULTS.floor);
    let s = 12345;
    const random = () => (s = (s * 1664525 + 1013904223) >>> 0) % N;
    for (let i = 0; i < N; i++) {
      const near = [...new Set([...members.get((i * 7919) % places)!, ...Array.from({ length: others }, random)])];
      const row = Float32Array.from(near, (j) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += data[i * D + d] * data[j * D + d];
        return dot;
      });
      lists.insert(ids[i], row, near.map((j) => ids[j]));
    }
    const opts = { k: GROUP_DEFAULTS.k, minSim: GROUP_DEFAULTS.minSim };
    const time = <T,>(f: () => T): [number, T] => {
      const ms: number[] = [];
      let out!: T;
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        out = f();
        ms.push(performance.now() - t);
      }
      return [median(ms), out];
    };
    const [linkMs, links] = time(() => mutualLinks(lists, opts.k, opts.minSim));
    const cut = (split?: (c: LinkComponent) => string[][]) => time(() => mutualKnnGroups(lists, { ...opts, split }));
    const [compMs, comp] = cut();
    const descriptor = (id: string) => data.subarray(Number(id.slice(1)) * D, (Number(id.slice(1)) + 1) * D);
    const [averageMs, averaged] = cut((c) => averageLinkage(c, descriptor, groupLinkage('resnet50')));
    // As the worker reads them: the cuts kept from the last read (nothing changed in between).
    const cache = new LinkageCache();
    cut((c) => cache.cut(c, descriptor, groupLinkage('resnet50')));
    cache.done();
    const [cachedMs] = cut((c) => cache.cut(c, descriptor, groupLinkage('resnet50')));
    const [bridgeMs, bridged] = cut(bridgeCut);
    const [louvainMs, communities] = cut(louvainCut);
    const inside = (groups: { links: number }[]) => groups.reduce((t, g) => t + g.links, 0);
    const row = (ms: number, g: { links: number }[]) => `${ms.toFixed(0)} (${g.length}, ${inside(comp) - inside(g)})`;
    console.log(`${N} | ${links.length} | ${linkMs.toFixed(0)} | ${row(averageMs, averaged)} | ${cachedMs.toFixed(0)} | ${compMs.toFixed(0)} (${comp.length}) | ${row(bridgeMs, bridged)} | ${row(louvainMs, communities)}`);
  }
}

main();
