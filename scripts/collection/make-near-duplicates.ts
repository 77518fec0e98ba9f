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
import { applyTransform, TRANSFORMS } from '../lib/nearDuplicateTransforms';

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
