/**
 * The landmark-distractor sparse set (`sparse-lm-<seed>`): a few photos of one or two target landmarks among photos
 * of the OTHER landmarks, and query crops of held-aside photos of the targets, from outside the collection. It stands
 * for a library where a query has 3-17 matches and the rest are photos of the same kind (other buildings), which the
 * UKBench-distractor sparse set does not: there, the distractors are unlike the landmarks.
 *
 * Made from paris6k-mini-dev alone (its photos and its official ground truth), never from its official queries:
 *  1. landmarks: the distinct positive lists of dev's queries with at least `queriesPerTarget + minPositives` eligible
 *     photos (defense, eiffel, invalides, louvre, moulinrouge; triomphe's 3 are too few), in name order; eligible =
 *     a positive (good or ok) of the landmark's queries, junk for no query, and not an official query photo;
 *  2. targets of seed s: landmarks (2(s - 1)) mod L and (2(s - 1) + 1) mod L, so seeds 1-5 make each of the 5 a
 *     target twice;
 *  3. for each target in that order, a seeded shuffle of its eligible photos: the first `queriesPerTarget` are held
 *     aside as queries, the next k (uniform in minPositives..maxPositives) go into the collection;
 *  4. distractors: a seeded shuffle of every other dev photo that is neither positive nor junk for a target's queries
 *     (the other landmarks' photos), taken until the collection has `photos` photos;
 *  5. each held-aside photo's query: a seeded crop of its central region (width and height fractions uniform in
 *     cropMin..cropMax, the box placed uniformly within the central half of the slack), saved as a lossless PNG;
 *     positives = the target's photos in the collection, no junk (the target's junk is not in the collection).
 * One prng(seed) stream (src/util/prng.ts) draws everything, in the order above.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { prng, shuffler } from '../../src/util/prng';
import type { ManifestQuery } from './evalQueries';
import type { BuiltSet, SourceSet } from './evalSets';
import { decodeImageFile } from './node';
import { encodePng } from './outsideQueries';

export const SPARSE_LM_DEFAULTS = { photos: 167, minPositives: 3, maxPositives: 17, queriesPerTarget: 5, targets: 2, cropMin: 0.5, cropMax: 0.8 };

/** A query crop to cut: the source photo (path relative to the source set's folder) and the box, in its pixels. */
export interface QueryCrop {
  /** Relative to the built manifest's folder. */
  queryFile: string;
  sourceFile: string;
  box: { x1: number; y1: number; x2: number; y2: number };
}

/** The built manifest and the crops its query files are cut from (sparseLandmarkCrops writes them). */
export interface SparseLandmarkSet {
  set: BuiltSet;
  crops: QueryCrop[];
  targets: string[];
}

/** The landmark a list of dev photos is of: the name shared by its photos (paris_<landmark>_NNNNNN). */
const landmarkName = (photos: readonly string[]): string => {
  const names = [...new Set(photos.map((n) => n.split('_')[1] ?? n))];
  return names.length === 1 ? names[0] : names.join('+');
};

export function sparseLandmarkSet(dev: SourceSet, outDir: string, seed: number, opts = SPARSE_LM_DEFAULTS): SparseLandmarkSet {
  const random = prng(seed);
  const uniformInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const shuffled = shuffler(random);
  const queryPhotos = new Set(dev.queries.flatMap((q) => (q.image ? [q.image] : [])));
  const junk = new Set(dev.queries.flatMap((q) => q.junk));
  const lists = [...new Map(dev.queries.map((q) => [[...q.positives].sort().join(' '), [...q.positives].sort()])).values()];
  const eligibleOf = (photos: readonly string[]) => photos.filter((n) => !queryPhotos.has(n) && !junk.has(n));
  const landmarks = lists
    .filter((photos) => eligibleOf(photos).length >= opts.queriesPerTarget + opts.minPositives)
    .sort((a, b) => landmarkName(a).localeCompare(landmarkName(b)));
  if (landmarks.length < opts.targets + 1) throw new Error(`${dev.name} has ${landmarks.length} landmarks with enough photos, a landmark sparse set needs ${opts.targets + 1}`);
  const targets = Array.from({ length: opts.targets }, (_, t) => landmarks[(opts.targets * (seed - 1) + t) % landmarks.length]);
  const byName = new Map(dev.images.map((i) => [i.name, i]));
  const at = (file: string) => relative(outDir, join(dev.dir, file));

  const kept = new Map<string[], string[]>();
  const held = new Map<string[], string[]>();
  for (const photos of targets) {
    const order = shuffled(eligibleOf(photos));
    held.set(photos, order.slice(0, opts.queriesPerTarget));
    kept.set(photos, order.slice(opts.queriesPerTarget, opts.queriesPerTarget + uniformInt(opts.minPositives, opts.maxPositives)));
  }
  // Labelled for a target (positive or junk of one of its queries): never a distractor.
  const targetQueries = dev.queries.filter((q) => targets.some((t) => [...q.positives].sort().join(' ') === t.join(' ')));
  const labelled = new Set(targetQueries.flatMap((q) => [...q.positives, ...q.junk]));
  const others = dev.images.filter((i) => !labelled.has(i.name)).map((i) => i.name);
  const positives = [...kept.values()].flat();
  const distractors = shuffled(others).slice(0, Math.max(0, opts.photos - positives.length));
  const inSet = new Set([...positives, ...distractors]);
  // Collection in the source's order (the order does not matter to a ranking, but keeps the manifest readable).
  const images = dev.images.filter((i) => inSet.has(i.name)).map((i) => ({ ...i, file: at(i.file) }));

  const crops: QueryCrop[] = [];
  const queries: ManifestQuery[] = [];
  for (const photos of targets) {
    for (const name of held.get(photos)!) {
      const { width: W, height: H, file } = byName.get(name)!;
      const fw = opts.cropMin + (opts.cropMax - opts.cropMin) * random();
      const fh = opts.cropMin + (opts.cropMax - opts.cropMin) * random();
      const w = Math.max(1, Math.round(W * fw)), h = Math.max(1, Math.round(H * fh));
      const x1 = Math.floor((W - w) * (0.25 + 0.5 * random())), y1 = Math.floor((H - h) * (0.25 + 0.5 * random()));
      const queryFile = `queries/${name}-crop.png`;
      crops.push({ queryFile, sourceFile: join(dev.dir, file), box: { x1, y1, x2: x1 + w, y2: y1 + h } });
      queries.push({ id: `lm${seed}.${name}`, query_file: queryFile, kind: 'crop', set: 'sparse-lm', bbox_xyxy: [0, 0, w, h], positives: kept.get(photos)!, junk: [] });
    }
  }
  const names = targets.map(landmarkName);
  return {
    targets: names,
    crops,
    set: {
      name: `sparse-lm-${seed}`,
      built_by: 'scripts/make-eval-sets.ts (scripts/lib/sparseLandmarks.ts)',
      description: `a seeded (${seed}) landmark-distractor sparse set: ${targets.map((t, i) => `${kept.get(t)!.length} photos of ${names[i]}`).join(' and ')} among ${distractors.length} photos of the other dev landmarks; ${queries.length} central crops of held-aside ${names.join(' and ')} photos as queries, from outside the collection`,
      sources: [dev.name],
      seed,
      images,
      queries,
    },
  };
}

/** Cuts each crop from its source photo and writes it as a PNG under `outDir` (lossless: the same file every time). */
export async function writeQueryCrops(outDir: string, crops: readonly QueryCrop[]): Promise<void> {
  await mkdir(join(outDir, 'queries'), { recursive: true });
  for (const c of crops) {
    const pixels = await decodeImageFile(c.sourceFile);
    const { x1, y1, x2, y2 } = c.box;
    const cut = tf.slice(pixels, [y1, x1, 0], [y2 - y1, x2 - x1, 3]);
    await writeFile(join(outDir, c.queryFile), encodePng(await cut.data(), x2 - x1, y2 - y1));
    tf.dispose([pixels, cut]);
  }
}
