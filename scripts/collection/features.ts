/**
 * Features of paris6k-mini-dev, of the generated near-duplicates (make-near-duplicates.ts) and of any other manifest
 * (ukbench-mini), extracted with the
 * eval's Node pipeline (scripts/lib/evaluate.ts `extract`: same network, same cache format, so --cache is shared
 * with `npm run eval`), and their stored OfA descriptors (NC = INDEX_NC, as the app stores them).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { INDEX_NC } from '../../src/index/settings';
import type { ModelId } from '../../src/model/adapters';
import type { CwNetwork } from '../../src/model/network';
import { describeImages, type Grid } from '../../src/search/cwForWorker';
import { DEFAULT_EVAL, extract, readManifest, type Manifest } from '../lib/evaluate';
import { loadNodeNetwork } from '../lib/node';

export interface PhotoFeatures {
  name: string;
  grid: Grid;
  /** Feature maps X [H, W, K], float32. */
  X: Float32Array;
  probabilities: Float32Array;
  /** OfA descriptor, NC = INDEX_NC, l2-normalised. */
  descriptor: Float32Array;
}

export interface NearDuplicateManifest {
  sources: string[];
  images: { name: string; file: string; width: number; height: number; source: string; transform: string }[];
}

async function readNearDuplicates(dir: string): Promise<NearDuplicateManifest & { dir: string }> {
  return { ...(JSON.parse(await readFile(join(dir, 'NEAR-DUPLICATES.json'), 'utf8')) as NearDuplicateManifest), dir };
}

/** Features of every image of `manifest` (cached under cacheDir when given), with their OfA descriptors. */
async function photoFeatures(net: CwNetwork, model: ModelId, longSide: number, manifest: Manifest, cacheDir: string | undefined, label: string): Promise<PhotoFeatures[]> {
  const opts = { ...DEFAULT_EVAL, model, longSide, manifestPath: '', cacheDir, log: (l: string) => process.stderr.write(`[features] ${l}\n`) };
  const { features } = await extract(net, manifest, opts, label);
  const K = net.adapter.channels;
  const out: PhotoFeatures[] = [];
  for (const f of features) {
    const X = tf.tensor3d(f.X, [f.grid.H, f.grid.W, K]);
    const { values } = await describeImages([X], net.head.w, [f.probabilities], INDEX_NC);
    X.dispose();
    out.push({ ...f, descriptor: values });
  }
  return out;
}

/** Features of every image of the manifest at `path` (cached under cacheDir when given). */
export async function manifestFeatures(net: CwNetwork, model: ModelId, longSide: number, path: string, cacheDir?: string): Promise<PhotoFeatures[]> {
  const manifest = await readManifest(path);
  return photoFeatures(net, model, longSide, manifest, cacheDir, manifest.name);
}

/** The dev set and the near-duplicate copies, features of both. */
export async function loadCollectionFeatures(opts: { model: ModelId; longSide: number; manifest: string; nearDuplicates?: string; cacheDir?: string }) {
  const net = await loadNodeNetwork(opts.model, opts.longSide);
  const manifest = await readManifest(opts.manifest);
  const dev = await photoFeatures(net, opts.model, opts.longSide, manifest, opts.cacheDir, 'dev set');
  let copies: PhotoFeatures[] = [];
  let nd: (NearDuplicateManifest & { dir: string }) | null = null;
  if (opts.nearDuplicates) {
    nd = await readNearDuplicates(opts.nearDuplicates);
    const m: Manifest = { name: 'near-duplicates', dir: nd.dir, images: nd.images, queries: [] };
    copies = await photoFeatures(net, opts.model, opts.longSide, m, opts.cacheDir, 'near-duplicates');
  }
  return { net, manifest, dev, copies, nearDuplicates: nd };
}
