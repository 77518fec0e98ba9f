/**
 * The README screenshot's generated copies (scripts/collection/screenshots.ts: two photos, two copies each) written
 * as a near-duplicate set (make-near-duplicates.ts's format), so eval-groups.ts measures the screenshot's collection.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { applyTransform, TRANSFORMS } from '../lib/nearDuplicateTransforms';

/** The screenshot script's copies: [index among its 125 photos, transforms]. */
const SCREENSHOT_COPIES = [
  [0, ['resize60-q70', 'q35']],
  [26, ['crop10-q85', 'resize60-q70']],
] as const;

/** Writes the copies of `names` (the screenshot's 125 dev photos, in its order) under dir. */
export function writeScreenshotCopies(dir: string, manifestPath: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { images: { name: string; file: string }[] };
  const images = SCREENSHOT_COPIES.flatMap(([i, transforms]) => {
    const src = manifest.images.find((m) => m.name === names[i])!;
    const decoded = jpeg.decode(readFileSync(join(manifestPath, '..', src.file)), { useTArray: true, formatAsRGBA: true });
    return transforms.map((t) => {
      const name = `shot_${src.name}_${t}`;
      const bytes = applyTransform(decoded, TRANSFORMS.find((x) => x.name === t)!);
      writeFileSync(join(dir, `${name}.jpg`), bytes);
      const size = jpeg.decode(bytes);
      return { name, file: `${name}.jpg`, width: size.width, height: size.height, source: src.name, transform: t };
    });
  });
  writeFileSync(join(dir, 'NEAR-DUPLICATES.json'), JSON.stringify({ sources: [names[0], names[26]], images }));
}
