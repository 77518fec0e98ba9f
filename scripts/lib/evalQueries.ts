/**
 * The queries of an evaluation: a photo of the collection (`image`) or a file from outside it (`query_file`, a path
 * relative to the manifest), each with a box in that photo's pixels. As the app does, the query's classes are
 * predicted on the cropped box (at the scale of the whole photo) and its features are the whole photo's maps cut to
 * the box; a photo of the collection reuses its indexed maps, a file from outside goes through the network here.
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
import { decodeImageFile, writeAtomically } from './node';

export interface ManifestQuery {
  id: string;
  /** A photo of the collection (its name in the image list) ... */
  image?: string;
  /** ... or a file outside it, relative to the manifest. */
  query_file?: string;
  /** Label to group queries by in the report (e.g. 'box', 'photo'); default 'box' for image queries, 'file' otherwise. */
  kind?: string;
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

/** Cached per model, long side and file content. */
interface CachedForward {
  grid: Grid;
  X: Float32Array;
}

const queryKind = (q: ManifestQuery): string => q.kind ?? (q.query_file ? 'file' : 'box');

/**
 * Builds the queries. `indexed(longSide)` gives the collection's features at a long side (name -> maps) for photos
 * of the collection; files from outside are decoded and run through `net` at every long side (cached in cacheDir).
 */
export async function loadQueries(
  net: CwNetwork,
  manifestDir: string,
  queries: readonly ManifestQuery[],
  longSides: readonly number[],
  opts: { model: string; queryScale: 'same' | 'long-side'; cacheDir?: string; imageFile: (name: string) => string },
  indexed: (longSide: number, name: string) => { index: number; X: Float32Array; grid: Grid },
): Promise<EvalQuery[]> {
  const out: EvalQuery[] = [];
  for (const q of queries) {
    const path = q.query_file ? join(manifestDir, q.query_file) : opts.imageFile(q.image!);
    const bytes = await readFile(path);
    const pixels = await decodeImageFile(path);
    const [H, W] = pixels.shape;
    const [x1, y1, x2, y2] = q.bbox_xyxy;
    const pixelBox = { x1, y1, x2, y2 };
    const views = new Map<number, QueryView>();
    let collectionIndex: number | null = null;
    for (const L of longSides) {
      let view: { X: Float32Array; grid: Grid };
      if (q.image) {
        const f = indexed(L, q.image);
        collectionIndex = f.index;
        view = f;
      } else {
        view = await forwardCached(net, pixels, L, bytes, opts);
      }
      views.set(L, { ...view, box: pixelBoxToCells(pixelBox, view.grid) });
    }
    // Classes from the crop, at the whole photo's scale (or resized to the long side).
    // The app's crop (src/model/preprocess.ts queryCrop): null = the whole photo.
    const L0 = longSides[0];
    const c = queryCrop({ x1, y1, x2, y2 }, W, H, L0) ?? { x1: 0, y1: 0, x2: W, y2: H, longSide: L0 };
    const crop = tf.slice(pixels, [c.y1, c.x1, 0], [c.y2 - c.y1, c.x2 - c.x1, 3]);
    const r = net.forward(crop, opts.queryScale === 'same' ? c.longSide : L0);
    const cropProbabilities = (await r.probabilities.data()) as Float32Array;
    tf.dispose([pixels, crop, r.X, r.probabilities]);
    out.push({ id: q.id, kind: queryKind(q), collectionIndex, cropProbabilities, views });
  }
  return out;
}

async function forwardCached(
  net: CwNetwork,
  pixels: tf.Tensor3D,
  longSide: number,
  bytes: Buffer,
  opts: { model: string; cacheDir?: string },
): Promise<CachedForward> {
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 24);
  const cached = opts.cacheDir && join(opts.cacheDir, `${opts.model}-${longSide}`, `query-file-${key}.v8`);
  if (cached && existsSync(cached)) return deserialize(await readFile(cached)) as CachedForward;
  const r = net.forward(pixels, longSide);
  const X = (await r.X.data()) as Float32Array;
  tf.dispose([r.X, r.probabilities]);
  const f = { grid: r.grid, X };
  if (cached) {
    await mkdir(dirname(cached), { recursive: true });
    await writeAtomically(cached, serialize(f));
  }
  return f;
}
