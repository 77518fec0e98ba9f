/**
 * The evaluation sets built from the manifests in ../shared (scripts/make-eval-sets.ts writes them to .eval/): pure
 * functions of the source manifests, so that the same sources and seed give the same sets. Image and query files stay
 * where they are: a built manifest names them by paths relative to its own folder.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { prng, shuffler } from '../../src/util/prng';
import type { ManifestQuery } from './evalQueries';
import { makeOutsideQueries } from './outsideQueries';
import { sparseLandmarkSet, writeQueryCrops } from './sparseLandmarks';

interface Image {
  name: string;
  file: string;
  width: number;
  height: number;
}

/** A source manifest as read from its JSON, with the folder its paths are relative to. */
export interface SourceSet {
  dir: string;
  name: string;
  images: Image[];
  queries: ManifestQuery[];
  groups?: string[][];
}

export interface BuiltSet {
  name: string;
  built_by: string;
  /** How the set was made, in words (also in README). */
  description: string;
  /** The source manifests' names. */
  sources: string[];
  images: Image[];
  queries: ManifestQuery[];
  groups?: string[][];
  ns_score_sets?: string[];
  seed?: number;
}

const BUILT_BY = 'scripts/make-eval-sets.ts (scripts/lib/evalSets.ts)';

/** Images and query files of `src` with paths relative to `outDir`. */
function moved(src: SourceSet, outDir: string): { images: Image[]; queries: ManifestQuery[] } {
  const at = (file: string) => relative(outDir, join(src.dir, file));
  return {
    images: src.images.map((i) => ({ ...i, file: at(i.file) })),
    queries: src.queries.map((q) => (q.query_file ? { ...q, query_file: at(q.query_file) } : { ...q })),
  };
}

/** ukbench-mini as it is: every photo a whole-photo query of the collection (kind 'whole'), with N-S scores. */
export function ukbenchSet(ukb: SourceSet, outDir: string): BuiltSet {
  const { images, queries } = moved(ukb, outDir);
  return {
    name: 'ukbench',
    built_by: BUILT_BY,
    description: `${ukb.name}: ${images.length} photos of ${ukb.groups?.length ?? '?'} objects; every photo is a whole-photo query with the other photos of its object as positives (itself junk)`,
    sources: [ukb.name],
    images,
    queries: queries.map((q) => ({ ...q, kind: 'whole', set: 'ukbench' })),
    groups: ukb.groups,
    ns_score_sets: ['ukbench'],
  };
}

/**
 * Both collections in one: each set's queries, with their own positives and junk, search the photos of both, so the
 * other set's photos are distractors. `dev` is the outside-query manifest (box, crop and photo queries).
 */
export function mixedSet(dev: SourceSet, ukb: SourceSet, outDir: string): BuiltSet {
  const a = moved(dev, outDir), b = moved(ukb, outDir);
  return {
    name: 'mixed',
    built_by: BUILT_BY,
    description: `${dev.name} and ${ukb.name} in one collection (${a.images.length + b.images.length} photos): the ${a.queries.length} dev queries and the ${b.queries.length} UKBench whole-photo queries, each with the other set's photos as distractors`,
    sources: [dev.name, ukb.name],
    images: [...a.images, ...b.images],
    queries: [...a.queries.map((q) => ({ ...q, set: 'dev' })), ...b.queries.map((q) => ({ ...q, kind: 'whole', set: 'ukbench' }))],
    groups: ukb.groups,
    ns_score_sets: ['ukbench'],
  };
}

export const SPARSE_DEFAULTS = { photos: 167, minPositives: 3, maxPositives: 17 };

/**
 * A landmark set in the regime of a personal library (and of the held-out set): few photos of each landmark among
 * many others, queries from outside the collection. From dev's outside-query manifest and ukbench-mini, with a seed:
 *  - landmarks: the distinct positive lists of dev's queries (queries of one landmark share them);
 *  - left out of the collection: every query photo (the queries come from outside) and every photo that is junk for
 *    some query;
 *  - from each landmark, a seeded draw of k of its remaining positives, k uniform in [minPositives, maxPositives]
 *    (all of them when fewer remain);
 *  - distractors: dev's photos that are neither positive nor junk for any query, then a seeded draw of UKBench photos
 *    up to `photos` photos in all;
 *  - queries: dev's official crops (kind 'crop'), positives = the kept photos of their landmark, no junk.
 */
export function sparseSet(devOutside: SourceSet, ukb: SourceSet, outDir: string, seed: number, opts = SPARSE_DEFAULTS): BuiltSet {
  const random = prng(seed);
  const shuffled = shuffler(random);
  const dev = moved(devOutside, outDir), u = moved(ukb, outDir);
  const crops = dev.queries.filter((q) => q.kind === 'crop');
  if (crops.length === 0) throw new Error(`${devOutside.name} has no crop queries (build it with scripts/make-outside-queries.ts)`);
  const queryPhotos = new Set(dev.queries.flatMap((q) => (q.image ? [q.image] : [])));
  const junk = new Set(dev.queries.flatMap((q) => q.junk));
  const positives = new Set(dev.queries.flatMap((q) => q.positives));
  const landmarks = [...new Map(crops.map((q) => [[...q.positives].sort().join(' '), q.positives])).values()];
  const kept = new Set<string>();
  for (const photos of landmarks) {
    const k = opts.minPositives + Math.floor(random() * (opts.maxPositives - opts.minPositives + 1));
    shuffled(photos.filter((n) => !queryPhotos.has(n) && !junk.has(n))).slice(0, k).forEach((n) => kept.add(n));
  }
  const others = dev.images.filter((i) => !positives.has(i.name) && !junk.has(i.name) && !queryPhotos.has(i.name));
  const room = opts.photos - kept.size - others.length;
  if (room < 0) throw new Error(`a sparse set of ${opts.photos} photos has no room for its ${kept.size + others.length} landmark and other dev photos`);
  if (room > u.images.length) throw new Error(`a sparse set of ${opts.photos} photos needs ${room} UKBench photos, there are ${u.images.length}`);
  const images = [...dev.images.filter((i) => kept.has(i.name)), ...others, ...shuffled(u.images).slice(0, room)];
  return {
    name: `sparse-${seed}`,
    built_by: BUILT_BY,
    description: `a seeded (${seed}) sparse landmark set: ${kept.size} photos of ${landmarks.length} dev landmarks (${opts.minPositives}-${opts.maxPositives} each), ${images.length - kept.size} distractors (${others.length} other dev photos, ${room} UKBench photos); the ${crops.length} dev query crops from outside the collection`,
    sources: [devOutside.name, ukb.name],
    seed,
    images,
    queries: crops.map((q) => ({ ...q, set: 'sparse', positives: q.positives.filter((n) => kept.has(n)), junk: [] })),
  };
}

/** The sets of `npm run eval:all`, by name: the path of each built manifest. */
export interface EvalSetPaths {
  dev: string;
  ukbench: string;
  mixed: string;
  sparse: string[];
  'sparse-lm': string[];
}

async function readSource(path: string): Promise<SourceSet> {
  if (!existsSync(path)) throw new Error(`${path} does not exist: the evaluation sets are built from ../shared/data (or --shared)`);
  const json = JSON.parse(await readFile(path, 'utf8')) as Omit<SourceSet, 'dir'>;
  return { ...json, dir: dirname(resolve(path)) };
}

/**
 * Builds every set into `outDir` from `<shared>/data`: dev's outside-query manifest (when missing: it decodes and
 * writes the query files, needs a tfjs backend), then ukbench, mixed and one sparse set per seed (rewritten every
 * time: they are cheap and follow the sources).
 */
export async function buildEvalSets(shared: string, outDir: string, sparseSeeds: readonly number[], log: (line: string) => void, landmarkSeeds: readonly number[] = sparseSeeds): Promise<EvalSetPaths> {
  const out = resolve(outDir);
  const devOutside = join(out, 'paris6k-mini-dev-outside', 'MANIFEST.json');
  if (!existsSync(devOutside)) await makeOutsideQueries(join(shared, 'data', 'paris6k-mini-dev', 'MANIFEST.json'), dirname(devOutside), 800, log);
  const dev = await readSource(devOutside);
  const ukb = await readSource(join(shared, 'data', 'ukbench-mini', 'MANIFEST.json'));
  const devSource = await readSource(join(shared, 'data', 'paris6k-mini-dev', 'MANIFEST.json'));
  const write = async (folder: string, make: (dir: string) => BuiltSet) => {
    const dir = join(out, folder);
    await mkdir(dir, { recursive: true });
    const set = make(dir);
    await writeFile(join(dir, 'MANIFEST.json'), JSON.stringify(set, null, 1));
    log(`${join(dir, 'MANIFEST.json')}: ${set.description}`);
    return join(dir, 'MANIFEST.json');
  };
  return {
    dev: devOutside,
    ukbench: await write('ukbench', (dir) => ukbenchSet(ukb, dir)),
    mixed: await write('mixed', (dir) => mixedSet(dev, ukb, dir)),
    sparse: await Promise.all(sparseSeeds.map((seed) => write(`sparse-${seed}`, (dir) => sparseSet(dev, ukb, dir, seed)))),
    'sparse-lm': await Promise.all(landmarkSeeds.map(async (seed) => {
      const dir = join(out, `sparse-lm-${seed}`);
      const built = sparseLandmarkSet(devSource, dir, seed);
      await mkdir(dir, { recursive: true });
      await writeQueryCrops(dir, built.crops);
      return write(`sparse-lm-${seed}`, () => built.set);
    })),
  };
}
