/** Node-side helpers shared by the evaluation harness, the benchmarks and the tests: no browser, real files. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { modelAdapter, type ModelId } from '../../src/model/adapters';
import { loadNetwork, type CwNetwork } from '../../src/model/network';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the shared material is looked for: $CW_SHARED_DIR when set (only there: point it at a folder that does
 * not exist to check what the tests do without it), else ../shared beside the project, or shared/ inside it on
 * the device machine.
 */
export function sharedDirCandidates(): string[] {
  const override = process.env.CW_SHARED_DIR;
  return override ? [resolve(override)] : [join(projectRoot, '..', 'shared'), join(projectRoot, 'shared')];
}

/** The first of sharedDirCandidates() that holds a data/ folder; null when none does. */
export function sharedDir(): string | null {
  return sharedDirCandidates().find((dir) => existsSync(join(dir, 'data'))) ?? null;
}

export const devManifestPath = (): string | null => {
  const shared = sharedDir();
  const p = shared && join(shared, 'data', 'paris6k-mini-dev', 'MANIFEST.json');
  return p && existsSync(p) ? p : null;
};

/** Selects a tfjs backend in Node: 'wasm' (the default; single-threaded, files from node_modules) or 'cpu'. */
export async function useNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const wasmDir = join(projectRoot, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/';
    setWasmPaths(wasmDir);
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} failed to initialise`);
  await tf.ready();
}

/** Loads a model from public/models (fetched by scripts/fetch-models.mjs). */
export async function loadNodeNetwork(id: ModelId, longSide: number): Promise<CwNetwork> {
  const adapter = modelAdapter(id);
  const folder = join(projectRoot, 'public', adapter.folder);
  if (!existsSync(join(folder, 'model.json'))) {
    throw new Error(`${id} is not in ${folder}: run \`npm run fetch-models\``);
  }
  return loadNetwork(adapter, async (p) => {
    const buf = await readFile(join(folder, p));
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }, { longSide });
}

/** Decodes a JPEG or PNG file to RGB pixels [height, width, 3] (int32). */
export async function decodeImageFile(path: string): Promise<tf.Tensor3D> {
  const bytes = await readFile(path);
  let width: number, height: number, rgba: Uint8Array;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    ({ width, height, data: rgba } = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 }));
  } else if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    ({ width, height, data: rgba } = PNG.sync.read(bytes));
  } else {
    throw new Error(`${path}: not a JPEG or PNG file`);
  }
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

/**
 * Pixels resized to a network input size (bilinear, half-pixel centres, as the network resizes) and rounded to whole
 * levels: what the browser's bilinear resize (createImageBitmap, resizeQuality 'low') gives the app's indexing.
 */
export function roundedInput(pixels: tf.Tensor3D, size: { width: number; height: number }): tf.Tensor3D {
  return tf.tidy(() => tf.cast(tf.round(tf.image.resizeBilinear(tf.cast(pixels, 'float32') as tf.Tensor3D, [size.height, size.width], false, true)), 'int32'));
}

/**
 * Writes a file under a temporary name and renames it into place, so that another process reading the same path (the
 * shared feature cache, --cache) sees either nothing or the whole file, never a partial one.
 */
export async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
