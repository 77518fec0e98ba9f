/**
 * npm run bench-storage -- [--photos 40] [--models mobilenet_v1_0.75,resnet50] [--long-side 512]
 *
 * Bytes stored per photo, measured in headless Chromium on the production build (wasm): the first N photos of
 * ../shared/data/paris6k-mini-dev added through the app's file input with storage 'copy' into a fresh profile and
 * indexed; then the app's storage report (the records' own sizes by part) and the browser's IndexedDB usage. The
 * 'link' and 'none' rows are the same records without the copy (a link record is a few dozen bytes). Prints the
 * markdown table for README and BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import type { EngineStats, StorageReport } from '../src/worker-api/api';
import { sharedDir } from './lib/node';
import { readManifest } from './lib/evaluate';

const { values: a } = parseArgs({
  options: {
    photos: { type: 'string', default: '40' },
    models: { type: 'string', default: 'mobilenet_v1_0.75,resnet50' },
    'long-side': { type: 'string', default: '512' },
  },
  strict: true,
});

type Api = Record<string, (...args: unknown[]) => Promise<unknown>>;
const call = <T>(page: Page, method: string, ...args: unknown[]) =>
  page.evaluate(([m, x]) => (window as unknown as { cwApp: { api: Api } }).cwApp.api[m as string](...(x as unknown[])), [method, args] as const) as Promise<T>;
/** The worker's counters (its debug tools' stats, ?debug=1). */
const stats = (page: Page) => page.evaluate(() => (window as unknown as { cwApp: { debug: Api } }).cwApp.debug.stats()) as Promise<EngineStats>;

async function main() {
  const shared = sharedDir();
  if (!shared) throw new Error('../shared/data/paris6k-mini-dev is needed (the dev photos)');
  const manifest = await readManifest(join(shared, 'data', 'paris6k-mini-dev', 'MANIFEST.json'));
  const N = Number(a.photos);
  const files = manifest.images.slice(0, N).map((i) => join(manifest.dir, i.file));
  const { buildApp, startServer, launchPersistentContext } = await import('./lib/appServer');
  await buildApp({ outDir: 'test-results/dist-storage' });
  const server = await startServer({ mode: 'preview', outDir: 'test-results/dist-storage' });
  const kb = (b: number) => (b / 1000).toFixed(1);
  const lines: string[] = [];
  try {
    for (const model of a.models!.split(',')) {
      const profile = mkdtempSync(join(tmpdir(), 'cw-storage-'));
      const context = await launchPersistentContext(profile);
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(`${server.url}/?backend=wasm&model=${model}&longSide=${a['long-side']}&debug=1`);
        await page.waitForSelector('[data-phase="ready"]', { timeout: 300_000 });
        await call(page, 'setStorageMode', 'copy');
        await page.setInputFiles('[data-testid="file-input"]', files);
        for (;;) {
          const s = await stats(page);
          if (s.indexedPhotos >= N && s.queued === 0) break;
          process.stderr.write(`[bench-storage] ${model}: ${s.indexedPhotos}/${N} indexed\n`);
          await page.waitForTimeout(5000);
        }
        const r = await call<StorageReport>(page, 'storageReport');
        const p = r.perPhoto;
        const withoutCopy = p.total - p.photo;
        lines.push(
          `| ${model}, ${a['long-side']} | ${kb(p.thumbnail)} | ${kb(p.photo)} | ${kb(p.maps)} | ${kb(p.descriptor)} | ${kb(p.probabilities)} | ` +
            `**${kb(p.total)}** | **${kb(withoutCopy)}** | ${r.indexedDb === null ? 'n/a' : kb(r.indexedDb / N)} |`,
        );
        process.stderr.write(`[bench-storage] ${lines.at(-1)}\n`);
      } finally {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`\n${N} photos of paris6k-mini-dev, bytes per photo in kB (1000 B):\n`);
  console.log('| model, long side | thumbnail | copy (long side 1024) | maps (uint8-sparse) | descriptor (record + block) | probabilities | total, storage "copy" | total, "link" or "none" | IndexedDB usage per photo, "copy" (browser) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const l of lines) console.log(l);
}

main().catch((e) => {
  console.error(`bench-storage: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
