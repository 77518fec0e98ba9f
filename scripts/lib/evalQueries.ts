/**
 * The queries of an evaluation: a photo of the collection (`image`) or a file from outside it (`query_file`, a path
 * relative to the manifest), each with a box in that photo's pixels. As the app does, the query's classes are
 * predicted on the cropped box (at the scale of the whole photo) and its features are the whole photo's maps cut to
 * the box; a photo of the collection reuses its indexed maps (and, for a box that is the whole photo, its indexed
 * classes: the app's own shortcut), a file from outside goes through the network here. Forward passes are cached.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { pixelBoxToCells, type Grid } from '../../src/cw/boxes';
import type { CellBox } from '../../src/cw/types';
import type { CwNetwork } from '../../src/model/network';
import { queryCrop } from '../../src/model/preprocess';
import { prng } from '../../src/util/prng';
import { decodeImageFile, writeAtomically } from './node';

export interface ManifestQuery {
  id: string;
  /** A photo of the collection (its name in the image list) ... */
  image?: string;
  /** ... or a file outside it, relative to the manifest. */
  query_file?: string;
  /** Label to group queries by in the report (e.g. 'box', 'photo'); default 'box' for image queries, 'file' otherwise. */
  kind?: string;
  /** The set the query comes from in a collection made of several (scripts/lib/evalSets.ts); mAP is also given per set. */
  set?: string;
  /** [x1, y1, x2, y2] in pixels of the query photo (or file). */
  bbox_xyxy: [number, number, number, number];
  positives: string[];
  junk: string[];
}

/** The query's maps at one network input size, and its box in their cells. */
interface QueryView {
  X: Float32Array;
  grid: Grid;
  box: CellBox;
}

export interface EvalQuery {
  id: string;
  kind: string;
  /** Index in the collection when the query is one of its photos. */
  collectionIndex: number | null;
  /** Class probabilities of the cropped box. */
  cropProbabilities: Float32Array;
  /** View per network long side (the evaluation's, and any extra scale). */
  views: Map<number, QueryView>;
}

/** A forward pass of a whole file, cached per model, long side and file content. */
interface CachedForward {
  grid: Grid;
  X: Float32Array;
  probabilities: Float32Array;
}

const queryKind = (q: ManifestQuery): string => q.kind ?? (q.query_file ? 'file' : 'box');

/**
 * At most `limit` queries of each set (ManifestQuery.set; one set when none is named), drawn with a seeded shuffle
 * and kept in manifest order: the same seed gives the same queries. No limit: all of them.
 */
export function selectQueries<Q extends { set?: string }>(queries: readonly Q[], limit: number | undefined, seed: number): Q[] {
  if (limit === undefined) return [...queries];
  const kept = new Set<Q>();
  for (const set of new Set(queries.map((q) => q.set ?? ''))) {
    const members = queries.filter((q) => (q.set ?? '') === set);
    const random = prng(seed);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    members.slice(0, limit).forEach((q) => kept.add(q));
  }
  return queries.filter((q) => kept.has(q));
}

/**
 * Builds the queries. `indexed(longSide, name)` gives a photo of the collection's indexed features at a long side;
 * files from outside are decoded and run through `net` at every long side (cached in cacheDir), as are the crops.
 */
export async function loadQueries(
  net: CwNetwork,
  manifestDir: string,
  queries: readonly ManifestQuery[],
  longSides: readonly number[],
  opts: { model: string; queryScale: 'same' | 'long-side'; cacheDir?: string; imageFile: (name: string) => string },
  indexed: (longSide: number, name: string) => { index: number; X: Float32Array; grid: Grid; probabilities: Float32Array; width: number; height: number },
): Promise<EvalQuery[]> {
  const out: EvalQuery[] = [];
  const L0 = longSides[0];
  for (const q of queries) {
    const path = q.query_file ? join(manifestDir, q.query_file) : opts.imageFile(q.image!);
    const bytes = await readFile(path);
    const key = createHash('sha256').update(bytes).digest('hex').slice(0, 24);
    let pixels: tf.Tensor3D | null = null;
    const decoded = async () => (pixels ??= await decodeImageFile(path));
    const views = new Map<number, QueryView & { probabilities: Float32Array }>();
    let collectionIndex: number | null = null;
    let size: { width: number; height: number } | null = null;
    for (const L of longSides) {
      let view: { X: Float32Array; grid: Grid; probabilities: Float32Array };
      if (q.image) {
        const f = indexed(L, q.image);
        collectionIndex = f.index;
        size = { width: f.width, height: f.height };
        view = f;
      } else {
        const f = await cached(opts, L, `query-forward-${key}`, async () => forwardOf(net, await decoded(), L));
        size = f.size;
        view = f;
      }
      const [x1, y1, x2, y2] = q.bbox_xyxy;
      views.set(L, { ...view, box: pixelBoxToCells({ x1, y1, x2, y2 }, view.grid) });
    }
    // Classes from the crop, at the whole photo's scale (or resized to the long side). The app's crop
    // (src/model/preprocess.ts queryCrop): null = the whole photo, whose own forward pass gives the classes.
    const [x1, y1, x2, y2] = q.bbox_xyxy;
    const { width: W, height: H } = size!;
    const c = queryCrop({ x1, y1, x2, y2 }, W, H, L0);
    let cropProbabilities: Float32Array;
    if (!c && opts.queryScale === 'same') cropProbabilities = views.get(L0)!.probabilities;
    else {
      const crop = c ?? { x1: 0, y1: 0, x2: W, y2: H, longSide: L0 };
      const scale = opts.queryScale === 'same' ? crop.longSide : L0;
      const name = `query-crop-${key}-${crop.x1}-${crop.y1}-${crop.x2}-${crop.y2}-${scale}`;
      cropProbabilities = (
        await cached(opts, L0, name, async () => {
          const p = await decoded();
          if (p.shape[0] !== H || p.shape[1] !== W) throw new Error(`query ${q.id}: ${path} is ${p.shape[1]} x ${p.shape[0]}, the manifest says ${W} x ${H}`);
          const cut = tf.slice(p, [crop.y1, crop.x1, 0], [crop.y2 - crop.y1, crop.x2 - crop.x1, 3]);
          const r = net.forward(cut, scale);
          const probabilities = (await r.probabilities.data()) as Float32Array;
          tf.dispose([cut, r.X, r.probabilities]);
          return { probabilities };
        })
      ).probabilities;
    }
    if (pixels) (pixels as tf.Tensor3D).dispose();
    out.push({ id: q.id, kind: queryKind(q), collectionIndex, cropProbabilities, views: new Map([...views].map(([L, { X, grid, box }]) => [L, { X, grid, box }])) });
  }
  return out;
}

async function forwardOf(net: CwNetwork, pixels: tf.Tensor3D, longSide: number): Promise<CachedForward & { size: { width: number; height: number } }> {
  const r = net.forward(pixels, longSide);
  const [X, probabilities] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
  tf.dispose([r.X, r.probabilities]);
  return { grid: r.grid, X, probabilities, size: { width: pixels.shape[1], height: pixels.shape[0] } };
}

/** `make()` cached as `<cacheDir>/<model>-<longSide>/<name>.v8` (no cache dir: always made). */
async function cached<T>(opts: { model: string; cacheDir?: string }, longSide: number, name: string, make: () => Promise<T>): Promise<T> {
  const path = opts.cacheDir && join(opts.cacheDir, `${opts.model}-${longSide}`, `${name}.v8`);
  if (path && existsSync(path)) return deserialize(await readFile(path)) as T;
  const value = await make();
  if (path) {
    await mkdir(dirname(path), { recursive: true });
    await writeAtomically(path, serialize(value));
  }
  return value;
}
