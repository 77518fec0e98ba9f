/**
 * The outside-query variant of an Oxford/Paris-style manifest (scripts/make-outside-queries.ts says what it holds).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImageFile } from './node';
import type { ManifestQuery } from './evalQueries';

/** Writes <out>/MANIFEST.json and <out>/queries/* from the manifest at `manifest` (needs a tfjs backend). */
export async function makeOutsideQueries(manifest: string, outDir: string, longSide: number, log: (line: string) => void): Promise<string> {
  const manifestPath = resolve(manifest);
  const out = resolve(outDir);
  if (!Number.isInteger(longSide) || longSide < 32) throw new Error(`the photo long side must be an integer >= 32, got ${longSide}`);
  const src = JSON.parse(await readFile(manifestPath, 'utf8'));
  const srcDir = dirname(manifestPath);
  await mkdir(join(out, 'queries'), { recursive: true });
  const fileOf = new Map<string, string>(src.images.map((i: { name: string; file: string }) => [i.name, i.file]));
  const queries: ManifestQuery[] = [];
  for (const q of src.queries as ManifestQuery[]) {
    if (!q.image) throw new Error(`query ${q.id} is not a photo of the collection`);
    const pixels = await decodeImageFile(join(srcDir, fileOf.get(q.image)!));
    const [H, W] = pixels.shape;
    const [x1, y1, x2, y2] = q.bbox_xyxy;
    const cx1 = Math.max(0, Math.floor(x1)), cy1 = Math.max(0, Math.floor(y1));
    const cx2 = Math.min(W, Math.ceil(x2)), cy2 = Math.min(H, Math.ceil(y2));
    const crop = tf.slice(pixels, [cy1, cx1, 0], [cy2 - cy1, cx2 - cx1, 3]);
    const cropFile = `queries/${q.id}-crop.png`;
    await writeFile(join(out, cropFile), encodePng(await crop.data(), cx2 - cx1, cy2 - cy1));
    const s = longSide / Math.max(W, H);
    const [h, w] = [Math.round(H * s), Math.round(W * s)];
    const resized = tf.tidy(() => tf.clipByValue(tf.round(tf.image.resizeBilinear(tf.cast(pixels, 'float32'), [h, w])), 0, 255));
    const photoFile = `queries/${q.id}-photo.jpg`;
    await writeFile(join(out, photoFile), encodeJpeg(await resized.data(), w, h, 85));
    tf.dispose([pixels, crop, resized]);
    const gt = { positives: q.positives, junk: q.junk };
    queries.push({ ...q, kind: 'box' });
    queries.push({ id: `c.${q.id}`, query_file: cropFile, kind: 'crop', bbox_xyxy: [0, 0, cx2 - cx1, cy2 - cy1], ...gt });
    queries.push({ id: `p.${q.id}`, query_file: photoFile, kind: 'photo', bbox_xyxy: [0, 0, w, h], ...gt });
    log(`${q.id}: crop ${cx2 - cx1} x ${cy2 - cy1}, photo ${w} x ${h}`);
  }
  const images = src.images.map((i: { file: string }) => ({ ...i, file: relative(out, join(srcDir, i.file)) }));
  const built = {
    name: `${src.name}-outside`,
    derived_from: manifestPath,
    built_by: 'scripts/make-outside-queries.ts (see its header for what each query kind is)',
    photo_long_side: longSide,
    protocol: src.protocol,
    images,
    queries,
  };
  await writeFile(join(out, 'MANIFEST.json'), JSON.stringify(built, null, 1));
  log(`wrote ${join(out, 'MANIFEST.json')}: ${images.length} images, ${queries.length} queries`);
  return join(out, 'MANIFEST.json');
}


function rgba(rgb: ArrayLike<number>, n: number): Uint8Array {
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = rgb[3 * i];
    out[4 * i + 1] = rgb[3 * i + 1];
    out[4 * i + 2] = rgb[3 * i + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

export function encodePng(rgb: ArrayLike<number>, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba(rgb, width * height));
  return PNG.sync.write(png);
}

function encodeJpeg(rgb: ArrayLike<number>, width: number, height: number, quality: number): Buffer {
  return jpeg.encode({ data: rgba(rgb, width * height), width, height }, quality).data as Buffer;
}

