/**
 * The CW methods of one evaluation run: every wanted method (scripts/lib/evalMethods.ts) for every query, through the
 * app's search() with the method's parameters. What does not depend on the method is computed once per query and
 * shared: the OnA rows (for a batch of queries at once, scripts/lib/evalOnline.ts, handed to search() as its
 * onlineMemo), the query descriptors (queryMemo) and the CAM re-ranking of each image (rerankMemo).
 */
import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from '../../src/cw/tensorMath';
import type { WhiteningOnDevice } from '../../src/cw/whitening';
import type { MapCodec } from '../../src/index/mapCodec';
import { queryFromStored } from '../../src/search/defaults';
import { storedBoxProbabilities } from '../../src/search/cwForWorker';
import { databaseAugmentation } from '../../src/search/expansion';
import { search, topIndices } from '../../src/search/search';
import type { Collection, Query, RerankedImage, SearchParams } from '../../src/search/types';
import type { DescriptorCodec } from './descriptorCodec';
import { mapsTensor, offlineAll, storedDescriptors, type ImageFeatures } from './evalFeatures';
import { paramsOf, whitenedName, type MethodRun, type MethodSpec } from './evalMethods';
import { onlineRowsForQueries } from './evalOnline';
import type { EvalQuery } from './evalQueries';

/** One way of storing the index: a map codec and an OfA descriptor codec; bytes are means over the collection. */
export interface StorageVariant {
  name: string;
  maps: MapCodec;
  ofa: DescriptorCodec;
  bytesPerImage: { maps: number; ofa: number };
}

export interface CwSetup {
  features: readonly ImageFeatures[];
  K: number;
  head: { w: tf.Tensor2D; b: tf.Tensor1D };
  run: MethodRun;
  methods: readonly MethodSpec[];
  wanted: (name: string) => boolean;
  /** '' (no whitening) and, when the run whitens, '+pca'. */
  variants: { suffix: string; whitening: WhiteningOnDevice | null }[];
  /** The first is the reference (the report's top-level methods). */
  storage: StorageVariant[];
  /** Image i's maps as stored with a codec and read back. */
  decoded: (codec: MapCodec, i: number) => Float32Array;
  queries: readonly (EvalQuery & { from: 'forward' | 'stored' })[];
  /** The run's long side first, then the multi-scale ones, with the collection's features at each. */
  longSides: readonly number[];
  atScale: ReadonlyMap<number, readonly ImageFeatures[]>;
  record: (name: string, qn: number, ranking: Int32Array, s: StorageVariant) => void;
  /** Milliseconds spent per method (search() calls), and on the shared OnA rows ('OnA rows'), added to. */
  ms: Record<string, number>;
  log: (line: string) => void;
}

/** OnA rows held for a batch of queries, at most (bytes). */
const ONLINE_BUDGET = 2 * 2 ** 30;

export async function runCwMethods(S: CwSetup): Promise<void> {
  const { features, K, run } = S;
  const { w } = S.head;
  const N = features.length;
  const grids = features.map((f) => f.grid);
  const reference = S.storage[0];
  const mapsOf = (c: MapCodec): Collection['maps'] => async (indices) => indices.map((i) => tf.tensor3d(S.decoded(c, i), [grids[i].H, grids[i].W, K]));
  // A storage variant re-runs only the methods whose input it changes: the map codec changes what reads maps (OnA,
  // re-ranking, the app's query from stored maps), the OfA codec what reads OfA descriptors.
  const affected = (m: MethodSpec, s: StorageVariant): boolean => {
    if (s === reference) return true;
    if (m.db !== 'ofa') return false;
    const p = paramsOf(m, run);
    const readsMaps = p.aggregation === 'online' || p.rerank > 0 || !!m.appQuery;
    const readsOfa = p.aggregation === 'offline' || (p.onlineShortlist ?? 0) > 0;
    return (s.maps !== reference.maps && readsMaps) || (s.ofa !== reference.ofa && readsOfa);
  };
  for (const variant of S.variants) {
    const specs = S.methods
      .filter((m) => variant.suffix === '' || m.whitened)
      .map((m) => (variant.suffix ? { ...m, name: whitenedName(m.name) } : m))
      .filter((m) => S.wanted(m.name));
    if (specs.length === 0) continue;
    const wh = variant.whitening;
    // OfA at each method's NC, and at the run's NC (the collection's) where an online shortlist is drawn from it.
    const ofaNc = (p: SearchParams): number => (p.aggregation === 'online' && (p.onlineShortlist ?? 0) > 0 ? run.nc : p.nc);
    const ncs = [...new Set(specs.map((m) => ofaNc(paramsOf(m, run))))];
    const ofa = new Map(ncs.map((nc) => [nc, offlineAll(features, K, w, nc, wh)]));
    // OfA descriptors as each descriptor codec stores them (after whitening, as the app would store them), read back.
    const ofaStored = new Map<DescriptorCodec, Map<number, tf.Tensor2D>>();
    for (const d of new Set(S.storage.map((s) => s.ofa))) {
      ofaStored.set(d, new Map(ncs.map((nc) => [nc, d === 'float32' ? ofa.get(nc)! : storedDescriptors(ofa.get(nc)!, d)])));
    }
    const ofaRun = ofa.get(run.nc) ?? offlineAll(features, K, w, run.nc, wh);
    const dba = specs.some((m) => m.db === 'dba') ? await databaseAugmentation(ofaRun, 10, 3) : null;
    const ofaMs = specs.some((m) => m.db === 'ms') && S.longSides.length > 1
      ? tf.tidy(() => l2Normalize(tf.addN(S.longSides.map((L) => offlineAll(S.atScale.get(L)!, K, w, run.nc, null)))))
      : null;
    if (specs.some((m) => m.db === 'ms') && !ofaMs) throw new Error('the multi-scale methods need --scales');

    // OnA rows of the queries as they are built (not the app's stored-map query), for the online methods.
    const online = specs.filter((m) => paramsOf(m, run).aggregation === 'online');
    const onlineNcs = [...new Set(online.map((m) => paramsOf(m, run).nc))];
    const onlineCodecs = [...new Set(S.storage.filter((s) => online.some((m) => affected(m, s))).map((s) => s.maps))];
    const perQuery = onlineNcs.length * onlineCodecs.length * N * ofaRun.shape[1] * 4;
    const batch = perQuery ? Math.max(1, Math.floor(ONLINE_BUDGET / perQuery)) : S.queries.length;
    for (let b0 = 0; b0 < S.queries.length; b0 += batch) {
      const qns = range(b0, Math.min(S.queries.length, b0 + batch));
      const memos = new Map<string, Map<number, Float32Array>>();
      for (const codec of onlineCodecs) {
        const keys = qns.flatMap((qn) => onlineNcs.map((nc) => ({ qn, nc })));
        const t0 = performance.now();
        const rows = await onlineRowsForQueries(N, mapsOf(codec), w, keys.map(({ qn, nc }) => topIndices(S.queries[qn].cropProbabilities, nc)), wh, S.log);
        keys.forEach(({ qn, nc }, k) => {
          const D = rows[k].length / N;
          memos.set(`${qn} ${codec} ${nc} forward`, new Map(range(0, N).map((i) => [i, rows[k].subarray(i * D, (i + 1) * D)])));
        });
        S.ms['OnA rows'] = (S.ms['OnA rows'] ?? 0) + performance.now() - t0;
      }
      for (const qn of qns) {
        const q = S.queries[qn];
        const view = q.views.get(S.longSides[0])!;
        const query: Query = { X: mapsTensor(view, K), grid: view.grid, box: view.box, cropProbabilities: q.cropProbabilities };
        const owned: tf.Tensor[] = [query.X];
        const otherScales = S.longSides.slice(1).map((L) => {
          const v = q.views.get(L)!;
          const X = mapsTensor(v, K);
          owned.push(X);
          return { X, box: v.box };
        });
        // The app's query of a collection photo: its stored maps (this storage's codec) and the box's classes from them.
        const stored = new Map<MapCodec, Query>();
        const storedQuery = async (codec: MapCodec): Promise<Query> => {
          if (!stored.has(codec)) {
            const X = tf.tensor3d(S.decoded(codec, q.collectionIndex!), [view.grid.H, view.grid.W, K]);
            owned.push(X);
            stored.set(codec, { X, grid: view.grid, box: view.box, cropProbabilities: await storedBoxProbabilities(X, view.box, w, S.head.b) });
          }
          return stored.get(codec)!;
        };
        const memo = <K, T>(map: Map<string, Map<K, T>>, key: string) => map.get(key) ?? map.set(key, new Map<K, T>()).get(key)!;
        const rerankMemos = new Map<string, Map<number, RerankedImage>>();
        const onlineMemos = new Map<string, Map<number, Float32Array>>();
        const queryMemos = new Map<string, Map<string, tf.Tensor1D>>();
        for (const s of S.storage) {
          for (const m of specs) {
            if (!affected(m, s)) continue;
            const params = paramsOf(m, run);
            const fromStored = !!m.appQuery && q.collectionIndex !== null && queryFromStored(params) && !(q.from === 'stored' && s.maps === reference.maps);
            const how = fromStored ? 'stored' : 'forward';
            const qq = fromStored ? await storedQuery(s.maps) : m.db === 'ms' ? { ...query, otherScales } : query;
            const db = m.db === 'ofa' ? ofaStored.get(s.ofa)!.get(ofaNc(params))! : m.db === 'dba' ? dba! : ofaMs!;
            const collection: Collection = { size: N, grids, offlineDescriptors: db, maps: mapsOf(s.maps) };
            const ctx = {
              w,
              whitening: wh,
              rerankMemo: memo(rerankMemos, `${s.maps} ${how}`),
              queryMemo: memo(queryMemos, `${s.maps} ${how}`),
              onlineMemo: memos.get(`${qn} ${s.maps} ${params.nc} ${how}`) ?? memo(onlineMemos, `${s.maps} ${params.nc} ${how}`),
            };
            const t0 = performance.now();
            const r = await search(qq, collection, params, ctx);
            S.ms[m.name] = (S.ms[m.name] ?? 0) + performance.now() - t0;
            S.record(m.name, qn, r.ranking, s);
          }
        }
        tf.dispose([...owned, ...[...queryMemos.values()].flatMap((m) => [...m.values()])]);
        for (const nc of onlineNcs) for (const codec of onlineCodecs) memos.delete(`${qn} ${codec} ${nc} forward`);
        S.log(`cw${variant.suffix}: query ${qn + 1}/${S.queries.length} (${q.id})`);
      }
    }
    ofaStored.forEach((m, d) => d !== 'float32' && m.forEach((t) => t.dispose()));
    ofa.forEach((t) => t.dispose());
    tf.dispose([...(ofa.has(run.nc) ? [] : [ofaRun]), ...[dba, ofaMs].filter((t): t is tf.Tensor2D => t !== null)]);
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
