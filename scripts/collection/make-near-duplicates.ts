/**
 * npx tsx scripts/collection/make-near-duplicates.ts --manifest ../shared/data/paris6k-mini-dev/MANIFEST.json --out <dir> [--every 6]
 *
 * The generated near-duplicate set: every `every`-th photo of the manifest (its source photos) gets five
 * copies, each a way the same shot comes back into a collection: resized, re-encoded at a low JPEG quality, cropped
 * by up to 10 %, brightness-shifted, and a shifted crop that stands in for a burst neighbour. Writes the JPEGs and
 * <out>/NEAR-DUPLICATES.json (the images with their source and transform). Deterministic: same input, same bytes.
 * Positives: a source with its copies, and copies of one source among themselves; negatives: photos of the same
 * landmark that are different shots (scripts/collection/eval-collection.ts scores them).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { readManifest } from '../lib/evaluate';

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One copy of a photo: crop (fractions cut from each side), scale, brightness shift (levels), JPEG quality. */
export interface Transform {
  name: string;
  crop: { left: number; top: number; right: number; bottom: number };
  scale: number;
  brightness: number;
  quality: number;
}

const none = { left: 0, top: 0, right: 0, bottom: 0 };
export const TRANSFORMS: Transform[] = [
  { name: 'resize60-q70', crop: none, scale: 0.6, brightness: 0, quality: 70 },
  { name: 'q35', crop: none, scale: 1, brightness: 0, quality: 35 },
  // 10 % of the width and of the height cut, unevenly.
  { name: 'crop10-q85', crop: { left: 0.07, top: 0.02, right: 0.03, bottom: 0.08 }, scale: 1, brightness: 0, quality: 85 },
  { name: 'bright+30-q90', crop: none, scale: 1, brightness: 30, quality: 90 },
  // A burst neighbour: the frame moved by 5 % and 3 %, darker, smaller, re-encoded.
  { name: 'burst-shift5-dark20-resize80-q60', crop: { left: 0, top: 0.03, right: 0.05, bottom: 0 }, scale: 0.8, brightness: -20, quality: 60 },
];

function crop(img: Rgba, c: Transform['crop']): Rgba {
  const x0 = Math.round(img.width * c.left), y0 = Math.round(img.height * c.top);
  const width = img.width - x0 - Math.round(img.width * c.right), height = img.height - y0 - Math.round(img.height * c.bottom);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + width) * 4), y * width * 4);
  return { width, height, data };
}

/** Area-averaging downscale (each output pixel the mean of the source pixels it covers). */
function downscale(img: Rgba, scale: number): Rgba {
  if (scale === 1) return img;
  const width = Math.round(img.width * scale), height = Math.round(img.height * scale);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy0 = Math.floor(y / scale), sy1 = Math.max(sy0 + 1, Math.floor((y + 1) / scale));
    for (let x = 0; x < width; x++) {
      const sx0 = Math.floor(x / scale), sx1 = Math.max(sx0 + 1, Math.floor((x + 1) / scale));
      const sum = [0, 0, 0];
      for (let sy = sy0; sy < sy1; sy++) for (let sx = sx0; sx < sx1; sx++) for (let ch = 0; ch < 3; ch++) sum[ch] += img.data[(sy * img.width + sx) * 4 + ch];
      const n = (sy1 - sy0) * (sx1 - sx0);
      for (let ch = 0; ch < 3; ch++) data[(y * width + x) * 4 + ch] = Math.round(sum[ch] / n);
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data };
}

function brighten(img: Rgba, levels: number): Rgba {
  if (!levels) return img;
  const data = Uint8Array.from(img.data, (v, i) => (i % 4 === 3 ? v : Math.max(0, Math.min(255, v + levels))));
  return { ...img, data };
}

export function applyTransform(img: Rgba, t: Transform): Buffer {
  const out = brighten(downscale(crop(img, t.crop), t.scale), t.brightness);
  return jpeg.encode({ width: out.width, height: out.height, data: Buffer.from(out.data) }, t.quality).data;
}

async function main() {
  const { values: a } = parseArgs({ options: { manifest: { type: 'string' }, out: { type: 'string' }, every: { type: 'string', default: '6' } } });
  if (!a.manifest || !a.out) throw new Error('--manifest <MANIFEST.json> and --out <dir> are required');
  const every = Number(a.every);
  if (!Number.isInteger(every) || every < 1) throw new Error(`--every must be a positive integer, got ${a.every}`);
  const manifest = await readManifest(a.manifest);
  await mkdir(a.out, { recursive: true });
  const images: { name: string; file: string; width: number; height: number; source: string; transform: string }[] = [];
  const sources = manifest.images.filter((_, i) => i % every === 0);
  for (const src of sources) {
    const decoded = jpeg.decode(await readFile(join(manifest.dir, src.file)), { useTArray: true, formatAsRGBA: true });
    for (const t of TRANSFORMS) {
      const name = `nd_${src.name}_${t.name}`;
      const bytes = applyTransform(decoded, t);
      const { width, height } = jpeg.decode(bytes, { useTArray: true });
      await writeFile(join(a.out, `${name}.jpg`), bytes);
      images.push({ name, file: `${name}.jpg`, width, height, source: src.name, transform: t.name });
    }
    process.stderr.write(`.`);
  }
  await writeFile(
    join(a.out, 'NEAR-DUPLICATES.json'),
    JSON.stringify({ name: 'near-duplicates of ' + manifest.name, sourceManifest: a.manifest, transforms: TRANSFORMS, sources: sources.map((s) => s.name), images }, null, 1),
  );
  console.log(`\n${images.length} copies of ${sources.length} photos in ${a.out}`);
}

if (process.argv[1]?.endsWith('make-near-duplicates.ts')) {
  main().catch((e) => {
    console.error(`make-near-duplicates: ${(e as Error).message}`);
    process.exit(1);
  });
}
