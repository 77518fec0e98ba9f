/**
 * What the app keeps of each photo (production build, wasm, MobileNet v1 0.75 at long side 128: about storage,
 * not retrieval quality):
 *  - 'link': photos given with a file-system handle (here the origin-private file system, a real
 *    FileSystemDirectoryHandle kept in IndexedDB and handed to the worker) are read from disk for indexing and for
 *    the viewer, and no copy is stored; a file deleted from disk gets a clear message: before indexing the photo is
 *    left out with a problem line, after it the viewer shows the thumbnail with the reason and a search with it
 *    still works (its stored maps); links survive a reload;
 *  - 'none': files without a handle are indexed from a copy that goes once they are indexed (thumbnail only);
 *  - 'copy': a copy even when a handle is given.
 * Photos from ../shared/data/paris6k-mini-dev. One page through the whole scenario, in steps that report on their own
 * (a step after a failed one is skipped).
 */
import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { browserAvailable, useE2E } from './harness';
import { devSet, dropFiles, waitIndexed } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { callApi, integrity, shownProblems, waitReady } from '../../scripts/lib/appDebug';
import type { EngineInfo, LinkedFolder, PhotoFile, SearchResponse, StorageReport } from '../../src/worker-api/api';
import { steps } from './steps';

const data = devSet();
const APP = '/?backend=wasm&model=mobilenet_v1_0.75&longSide=128&debug=1';

/**
 * Writes files into the origin-private file system under `folder` and imports them with their handles (as a
 * dropped folder gives them). With `linkAs`, a file is linked under that name, which is not on disk: reading it
 * back (indexing) finds it missing.
 */
async function importLinked(page: Page, folder: string, files: { name: string; b64: string; linkAs?: string }[]): Promise<void> {
  await page.evaluate(
    async ({ folder, files }) => {
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle(folder, { create: true });
      const list = [];
      for (const f of files) {
        const fh = await dir.getFileHandle(f.name, { create: true });
        const w = await fh.createWritable();
        await w.write(Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0)));
        await w.close();
        list.push({ file: await fh.getFile(), path: `${folder}/${f.name}`, handle: { root: dir, path: [f.linkAs ?? f.name] } });
      }
      await (window as unknown as { cwApp: { api: { importFiles(f: unknown[]): Promise<void> } } }).cwApp.api.importFiles(list);
    },
    { folder, files },
  );
}

const deleteFromDisk = (page: Page, folder: string, name: string) =>
  page.evaluate(async ({ folder, name }) => (await (await navigator.storage.getDirectory()).getDirectoryHandle(folder)).removeEntry(name), { folder, name });

const photoIds = (page: Page) =>
  page.evaluate(() => Object.fromEntries((window as unknown as { cwApp: { state(): { photos: { id: string; name: string }[] } } }).cwApp.state().photos.map((p) => [p.name, p.id])));

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75'))('storage: photos linked on disk, kept as thumbnails only, or copied (production build, wasm)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });
  const step = steps();
  const photo = (i: number) => data!.photo(data!.images[i].name);
  const b64 = (i: number) => ({ name: photo(i).fileName, b64: photo(i).bytes.toString('base64') });
  // What the steps share: one page, the photos linked first, and their ids.
  let page: Page;
  const pageErrors: string[] = [];
  const linked = [10, 50, 90].map(b64);
  let ids: Record<string, string>;

  step('opens in link mode (storage settings and schema as expected)', async () => {
    const context = await e2e.browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${e2e.server.url}${APP}`);
    await waitReady(page);
    const info = await callApi<EngineInfo>(page, 'setStorageMode', 'link');
    expect(info.storage).toEqual({ mode: 'link', copySide: 1024, budgetPerPhoto: 300_000 });
    expect(info.schemaVersion).toBe(3);
  }, 120_000);

  step('link: three photos read from disk, no copy stored', async () => {
    await importLinked(page, 'holiday', linked);
    await waitIndexed(page, 3, 120_000);
    ids = await photoIds(page);
    const report = await callApi<StorageReport>(page, 'storageReport');
    expect(report.bySource).toEqual({ copy: 0, disk: 3, none: 0 });
    expect(report.perPhoto.photo).toBe(0);
    const shown = await callApi<PhotoFile>(page, 'photoFile', ids[linked[0].name]);
    expect(shown.kind).toBe('original');
    const size = await page.evaluate(async (id) => (await (window as unknown as { cwApp: { api: { photoBlob(id: string): Promise<Blob> } } }).cwApp.api.photoBlob(id)).size, ids[linked[0].name]);
    expect(size).toBe(photo(10).bytes.length);
    const folders = await callApi<Omit<LinkedFolder, 'handle'>[]>(page, 'linkedFolders');
    expect(folders.map((f) => [f.name, f.kind, f.permission, f.photos])).toEqual([['holiday', 'directory', 'granted', 3]]);
  }, 180_000);

  step('a linked original deleted from disk after indexing: the viewer shows the thumbnail with the reason, a search with it uses its stored maps', async () => {
    await deleteFromDisk(page, 'holiday', linked[0].name);
    const missing = await callApi<PhotoFile>(page, 'photoFile', ids[linked[0].name]);
    expect(missing).toMatchObject({ kind: 'thumbnail', reason: 'missing' });
    expect(missing.problem).toMatch(new RegExp(`the original of "${linked[0].name}" is no longer on disk at holiday/${linked[0].name} \\(moved, renamed or deleted\\)`));
    const r = await callApi<SearchResponse>(page, 'search', { query: { kind: 'photo', id: ids[linked[0].name] }, box: { x1: 0, y1: 0, x2: 1e5, y2: 1e5 }, controls: { aggregation: 'offline', nc: 64, qe: 0, rerank: 2 } });
    expect([r.queryFrom, r.results[0].id]).toEqual(['stored', ids[linked[0].name]]);
  }, 120_000);

  step('a photo not on disk when the network reads it is left out with a message, and nothing else stops', async () => {
    const late = [{ ...b64(130), linkAs: 'renamed-since.jpg' }, b64(170)];
    await importLinked(page, 'holiday', late);
    await waitIndexed(page, 4, 120_000);
    await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="file-problems"] li[data-kind]')].some((li) => li.textContent?.includes(n)), late[0].name, { timeout: 30_000 });
    const problem = (await shownProblems(page)).find((p) => p.name === late[0].name)!;
    expect(problem.message).toMatch(/is no longer on disk at holiday\/renamed-since\.jpg \(moved, renamed or deleted\)/);
  }, 180_000);

  step("'none' keeps a copy only until indexed; 'copy' keeps one even with a handle; the collection stays consistent", async () => {
    await callApi(page, 'setStorageMode', 'none');
    await dropFiles(page, '[data-testid="app"]', [200, 210].map((i) => ({ name: photo(i).fileName, type: 'image/jpeg', bytes: photo(i).bytes })));
    await waitIndexed(page, 6, 120_000);
    await callApi(page, 'setStorageMode', 'copy');
    await importLinked(page, 'copied', [b64(220)]);
    await waitIndexed(page, 7, 120_000);
    ids = await photoIds(page);
    const report = await callApi<StorageReport>(page, 'storageReport');
    expect(report.bySource).toEqual({ copy: 1, disk: 4, none: 2 });
    expect(await callApi<PhotoFile>(page, 'photoFile', ids[photo(200).fileName])).toEqual(expect.objectContaining({ kind: 'thumbnail' }));
    expect((await callApi<PhotoFile>(page, 'photoFile', ids[photo(200).fileName])).problem).toBeUndefined();
    expect((await callApi<PhotoFile>(page, 'photoFile', ids[photo(220).fileName])).kind).toBe('copy');
    expect(report.perPhoto.total).toBeGreaterThan(report.perPhoto.maps);
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 7, blobs: 7, features: 7, maps: 7, queued: 0 });
  }, 300_000);

  step('after a reload links are read from disk again; no page errors', async () => {
    await page.reload();
    await waitReady(page);
    expect((await callApi<PhotoFile>(page, 'photoFile', ids[linked[1].name])).kind).toBe('original');
    expect((await callApi<EngineInfo>(page, 'setStorageMode', 'copy')).storage.mode).toBe('copy');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 120_000);
});
