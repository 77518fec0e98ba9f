/**
 * The README's screenshots of the collection tools: docs/screenshot-duplicates.png, docs/screenshot-groups.png and
 * docs/screenshot-group-members.png (the largest group opened: its photos with the heatmaps of its top class).
 * Production build, vite preview, headless Chromium (playwright-core), wasm, the default model at 512; photos of
 * paris6k-mini-dev (`--per` per landmark) plus generated near-duplicate copies of two of them
 * (scripts/collection/make-near-duplicates.ts).
 *
 *   npx tsx scripts/collection/screenshots.ts [--per 25] [--out docs]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { buildApp, launchBrowser, projectRoot, startServer } from '../lib/appServer';
import { dropFiles, findDevSet, waitIndexed, type FileSpec } from '../lib/appPage';
import { applyTransform, TRANSFORMS } from '../lib/nearDuplicateTransforms';
import { DEFAULT_MODEL } from '../../src/model/adapters';

const { values } = parseArgs({ options: { per: { type: 'string', default: '25' }, out: { type: 'string', default: 'docs' } } });
const per = Number(values.per);
const outDir = join(projectRoot, values.out!);
const set = findDevSet();
if (!set) throw new Error('paris6k-mini-dev is needed (../shared/data/paris6k-mini-dev)');

const landmarks = ['eiffel', 'louvre', 'moulinrouge', 'invalides', 'defense'];
const names = landmarks.flatMap((l) => set.images.filter((i) => i.name.startsWith(`paris_${l}_`)).slice(0, per).map((i) => i.name));
const files: FileSpec[] = names.map((n) => set.photo(n)).map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes }));
// Copies of two photos: smaller files than the original (so the original is the suggested keep), one cropped.
for (const [name, transforms] of [
  [names[0], ['resize60-q70', 'q35']],
  [names[per + 1], ['crop10-q85', 'resize60-q70']],
] as const) {
  const photo = set.photo(name);
  const decoded = jpeg.decode(photo.bytes, { useTArray: true, formatAsRGBA: true });
  for (const t of transforms) {
    const transform = TRANSFORMS.find((x) => x.name === t);
    if (!transform) throw new Error(`no transform ${t}: ${TRANSFORMS.map((x) => x.name).join(', ')}`);
    files.push({ name: `${photo.fileName.replace('.jpg', '')}-${t}.jpg`, type: 'image/jpeg', bytes: applyTransform(decoded, transform) });
  }
}

const dist = 'test-results/dist-screenshots';
await buildApp({ outDir: dist });
const server = await startServer({ mode: 'preview', outDir: dist });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(`${server.url}/?backend=wasm&model=${DEFAULT_MODEL}&longSide=512`);
  await page.waitForSelector('[data-phase="ready"]', { timeout: 60_000 });
  await dropFiles(page, '[data-testid="app"]', files);
  await waitIndexed(page, files.length, 1_200_000);
  mkdirSync(outDir, { recursive: true });

  await page.click('[data-testid="view-tab-duplicates"]');
  await page.waitForSelector('[data-testid="graph-progress"][data-complete="true"]', { timeout: 300_000 });
  await page.waitForSelector('[data-testid="dup-group"]');
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(outDir, 'screenshot-duplicates.png') });

  await page.click('[data-testid="view-tab-groups"]');
  await page.waitForSelector('[data-testid="graph-progress"][data-complete="true"]', { timeout: 300_000 });
  await page.waitForSelector('[data-testid="group-card"]');
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(outDir, 'screenshot-groups.png') });
  await page.click('[data-testid="group-card"]');
  await page.waitForSelector('[data-testid="group-member"][data-heatmap="true"]', { timeout: 120_000 });
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(outDir, 'screenshot-group-members.png') });
  // The README's main screenshot: a query photo of the collection, CAM re-ranking of the top 100 (boxes over the
  // heatmaps), the results at the top of the page.
  await page.click('[data-testid="view-tab-collection"]');
  await page.click(`[data-photo-name="${set.photo(names[2]).fileName}"]`);
  await page.waitForSelector('[data-testid="results-grid"] [data-rank="1"]', { timeout: 120_000 });
  await page.selectOption('[data-testid="control-rerank"]', '100');
  await page.waitForSelector('[data-testid="results-summary"]:has-text("re-ranked")', { timeout: 300_000 });
  await page.waitForTimeout(1500);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(outDir, 'screenshot.png') });
  console.log(`${files.length} photos; screenshots in ${outDir}`);
} finally {
  await browser.close();
  await server.stop();
}
