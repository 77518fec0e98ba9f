/**
 * npx tsx scripts/make-outside-queries.ts [--manifest ../shared/data/paris6k-mini-dev/MANIFEST.json]
 *                                         [--out .eval/paris6k-mini-dev-outside] [--photo-long-side 800]
 *
 * Builds a variant of an Oxford/Paris-style manifest whose queries also come from OUTSIDE the collection, as the
 * app's dropped query photo and Oxford's official query crops do. The collection is unchanged (the new manifest's
 * images point at the original files); each query appears three times, with the same positives and junk:
 *  - `<id>` (kind 'box'): the original query, a photo of the collection with its box;
 *  - `c.<id>` (kind 'crop'): the official crop (pixels floor(x1)..ceil(x2), floor(y1)..ceil(y2) of the original
 *    JPEG, decoded once), saved losslessly as its own PNG, box = the whole file;
 *  - `p.<id>` (kind 'photo'): the whole query photo resized (bilinear) to a long side of 800 px and re-encoded as
 *    JPEG quality 85, box = the whole file (a whole-photo query; its original is in the collection, a near-duplicate
 *    that counts as a positive, as the query photo does in the standard protocol).
 * Writes <out>/MANIFEST.json and <out>/queries/*; run the evaluation with --manifest <out>/MANIFEST.json.
 */
import { parseArgs } from 'node:util';
import { makeOutsideQueries } from './lib/outsideQueries';
import { useNodeBackend } from './lib/node';

const { values: a } = parseArgs({
  options: {
    manifest: { type: 'string', default: '../shared/data/paris6k-mini-dev/MANIFEST.json' },
    out: { type: 'string', default: '.eval/paris6k-mini-dev-outside' },
    'photo-long-side': { type: 'string', default: '800' },
  },
  strict: true,
});

async function main() {
  await useNodeBackend('cpu');
  await makeOutsideQueries(a.manifest!, a.out!, Number(a['photo-long-side']), (line) => console.log(line));
}

main().catch((e) => {
  console.error(`make-outside-queries: ${(e as Error).message}`);
  process.exit(1);
});
