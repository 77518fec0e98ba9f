/**
 * Reliability of the app with messy input, on the production build (vite build + vite preview, with its
 * Content-Security-Policy), wasm, MobileNet v1 0.75 at long side 128 (cheap: these tests are about what is kept and
 * what is said, not about retrieval quality):
 *  1. a dropped batch of bad and unusual files: each bad one gets its own message, every good one is indexed,
 *     duplicates are recognised by content;
 *  6. hostile file names render as text, nothing is injected as HTML, and the CSP refuses inline script and other
 *     origins;
 *  2. closing or reloading the tab during an import: nothing lost, half-written or duplicated, the rest resumes and
 *     the files that were never read in are listed;
 *  3. a full disk (a small quota set through the DevTools protocol): a plain message, everything stored is kept,
 *     importing and indexing stop cleanly; the storage meter and the "keep my collection" request;
 *  8. a collection written by schema version 1 with features this version cannot use: migrated, re-indexed with a
 *     message, no crash.
 * Photos are made in the test (tests/e2e/imageFiles.ts) or taken from ../shared/data/paris6k-mini-dev.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { browserAvailable, saveScreenshot, testResultsDir, useE2E } from './harness';
import { appPhotos, devSet, dropFiles, photoCounts, revealPhoto, waitIndexed, type FileSpec } from './appHelpers';
import { needsModels } from '../helpers/requirements';
import { encodeBlockJpeg, encodePng, gradient, truncated } from './imageFiles';
import { callApi, callDebug, forwardPasses, integrity, shownNotices, shownProblems, waitModelReady, waitPhotos, waitReady } from '../../scripts/lib/appDebug';

const data = devSet();

const APP = '/?backend=wasm&model=mobilenet_v1_0.75&longSide=128&debug=1';

interface DebugPhoto {
  descriptor: Float32Array;
  grid: { imageWidth: number; imageHeight: number };
}

/** The average colour of a photo's thumbnail as the page shows it. */
async function thumbColour(page: Page, id: string): Promise<number[]> {
  return page.$eval(`${await revealPhoto(page, id)} img`, async (img) => {
    const el = img as HTMLImageElement;
    await el.decode();
    const c = document.createElement('canvas');
    c.width = el.naturalWidth;
    c.height = el.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(el, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    return sum.map((v) => Math.round(v / (d.length / 4)));
  });
}

describe.skipIf(!browserAvailable() || !data || !needsModels('mobilenet_v1_0.75'))('app reliability: bad files, hostile names, interruptions, full storage, old schema (production build, wasm)', () => {
  const e2e = useE2E({ mode: 'preview', build: true, outDir: 'test-results/dist-app' });

  it('1 + 6: a batch of bad and unusual files — a message per bad file, every good one indexed, duplicates once, names as text, CSP', async () => {
    const set = data!;
    const t0 = Date.now();
    const { page, consoleErrors } = await e2e.openPage(APP, { ignoreConsole: [/elsewhere\.invalid/, /Content Security Policy/, /Failed to load resource/] });
    await page.setViewportSize({ width: 1280, height: 900 });
    await waitReady(page);
    const [p1, p2, p3, p4, p5, p6] = [0, 40, 80, 120, 160, 200].map((i) => set.photo(set.images[i].name));

    // Transparent on the left (the hidden colour is red), opaque on the right; and the same composited on white.
    const alphaPixel = (x: number, y: number): [number, number, number, number] => (x < 160 ? [255, 0, 0, 0] : [x % 256, (y * 2) % 256, 128, 255]);
    const flatPixel = (x: number, y: number): [number, number, number, number] => (x < 160 ? [255, 255, 255, 255] : alphaPixel(x, y));
    const hostile = {
      markup: '<img src=x onerror="window.__xss=1">.jpg',
      quotes: `"quotes" & 'apostrophes' <b>bold</b> </span>.jpg`,
      long: `${'a-very-long-name-'.repeat(14)}end.jpg`,
      unicode: 'Ünïcödé 写真 📷 ‮gpj.exe‬ — ملف Cafe\u0301.jpg',
    };
    const jpeg = (name: string, bytes: Buffer): FileSpec => ({ name, type: 'image/jpeg', bytes });
    const good: FileSpec[] = [
      jpeg('photo.jpg', p1.bytes),
      jpeg('huge-8000x6000.jpg', encodeBlockJpeg({ width: 8000, height: 6000, components: 3, colour: gradient })),
      jpeg('grayscale.jpg', encodeBlockJpeg({ width: 640, height: 480, components: 1, colour: (bx, by) => [(bx * 7 + by * 3) % 256] })),
      // Pure red in CMYK ink: no cyan, full magenta and yellow, no black.
      jpeg('cmyk.jpg', encodeBlockJpeg({ width: 480, height: 360, components: 4, colour: () => [0, 255, 255, 0] })),
      { name: 'alpha.png', type: 'image/png', bytes: encodePng(320, 240, alphaPixel) },
      { name: 'alpha-on-white.png', type: 'image/png', bytes: encodePng(320, 240, flatPixel) },
      jpeg('exif-rotated.jpg', encodeBlockJpeg({ width: 800, height: 600, components: 3, colour: gradient, orientation: 6 })),
      jpeg(hostile.markup, p2.bytes),
      jpeg(hostile.quotes, p3.bytes),
      jpeg(hostile.long, p4.bytes),
      jpeg(hostile.unicode, p5.bytes),
    ];
    const bad: (FileSpec & { kind: string; message: RegExp })[] = [
      { ...jpeg('truncated.jpg', truncated(p6.bytes)), kind: 'error', message: /incomplete: its JPEG data stops before the end/ },
      { ...jpeg('<script>window.__xss=2</script>empty.jpg', Buffer.alloc(0)), kind: 'error', message: /the file is empty \(0 bytes\)/ },
      { ...jpeg('notes-renamed.jpg', Buffer.from('Shopping list\nmilk, bread\n')), kind: 'error', message: /not an image: the file holds text/ },
      { name: 'report.pdf', type: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n'), kind: 'skipped', message: /skipped: not an image \(application\/pdf\)/ },
      { name: 'pixel-1x1.png', type: 'image/png', bytes: encodePng(1, 1, () => [0, 0, 0, 255]), kind: 'error', message: /too small to search: 1 × 1 px/ },
      { ...jpeg('photo-copy.jpg', p1.bytes), kind: 'duplicate', message: /the same photo as "photo\.jpg", already in the collection/ },
    ];
    await dropFiles(page, '[data-testid="app"]', [...good.slice(0, 4), ...bad.slice(0, 3), ...good.slice(4), ...bad.slice(3)]);
    await waitIndexed(page, good.length, 120_000);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="file-problems"] li[data-kind]').length >= n, bad.length, { timeout: 30_000 });
    const readIn = Date.now() - t0;

    // ---- every bad file: its own line, with its name as text and a message saying what is wrong
    const problems = await shownProblems(page);
    for (const b of bad) {
      const line = problems.find((p) => p.name === b.name);
      expect(line, `a message for ${b.name}`).toBeTruthy();
      expect(line!.kind, b.name).toBe(b.kind);
      expect(line!.message, b.name).toMatch(b.message);
    }
    expect(problems).toHaveLength(bad.length);
    expect(await page.textContent('[data-testid="file-problems"] .problems-head')).toContain(`${bad.length} files were not imported`);

    // ---- every good file: in the collection once, indexed; nothing twice
    const photos = await appPhotos(page);
    expect(photos.map((p) => p.name).sort()).toEqual(good.map((g) => g.name).sort());
    expect(photos.every((p) => p.indexed)).toBe(true);
    const byName = new Map(photos.map((p) => [p.name, p]));
    // The 8000 x 6000 photo is kept (and indexed) as a 1024 x 768 copy (COPY_SIDE), decoded straight to that size.
    expect([byName.get('huge-8000x6000.jpg')!.width, byName.get('huge-8000x6000.jpg')!.height]).toEqual([1024, 768]);
    // EXIF orientation 6: the 800 x 600 JPEG is shown and indexed upright, 600 x 800.
    expect([byName.get('exif-rotated.jpg')!.width, byName.get('exif-rotated.jpg')!.height]).toEqual([600, 800]);
    // CMYK decoded to the right colours (red), grayscale as gray.
    const cmyk = await thumbColour(page, byName.get('cmyk.jpg')!.id);
    expect(cmyk[0]).toBeGreaterThan(200);
    expect(Math.max(cmyk[1], cmyk[2])).toBeLessThan(60);
    const gray = await thumbColour(page, byName.get('grayscale.jpg')!.id);
    expect(Math.max(...gray) - Math.min(...gray)).toBeLessThanOrEqual(2);
    // Transparent pixels reach the network composited on white, as the thumbnail shows them: the PNG with alpha
    // and the same picture flattened on white give the same descriptor.
    const [alpha, flat] = await Promise.all(
      ['alpha.png', 'alpha-on-white.png'].map((n) => callDebug<DebugPhoto>(page, 'photo', byName.get(n)!.id)),
    );
    const alphaDiff = Math.max(...Array.from(alpha.descriptor, (v, i) => Math.abs(v - flat.descriptor[i])));
    expect(alphaDiff, 'descriptor of a PNG with alpha vs the same flattened on white').toBeLessThan(1e-6);
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: good.length, blobs: good.length, features: good.length, maps: good.length, queued: 0, pending: 0 });

    // ---- 6: hostile names are text, in the grid and in the problem list; nothing was injected
    for (const name of Object.values(hostile)) {
      const tile = page.locator(await revealPhoto(page, byName.get(name)!.id));
      expect(await tile.getAttribute('data-photo-name')).toBe(name);
      expect(await tile.locator('.tile-name').textContent()).toBe(name);
    }
    const injected = await page.evaluate(() => ({
      xss: (window as { __xss?: number }).__xss,
      handlers: document.querySelectorAll('[onerror], [onload], [onmouseover]').length,
      inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
      bold: document.querySelectorAll('.app b').length,
    }));
    expect(injected).toEqual({ xss: undefined, handlers: 0, inlineScripts: 0, bold: 0 });
    // A very long name is cut with an ellipsis inside its tile; the page never scrolls sideways.
    await revealPhoto(page, byName.get(hostile.long)!.id);
    const layout = await page.evaluate((id) => {
      const tile = document.querySelector(`[data-photo-id="${id}"]`)!.getBoundingClientRect();
      const cell = document.querySelector(`[data-photo-id="${id}"]`)!.closest('.grid-cell')!.getBoundingClientRect();
      return { tile: tile.width, cell: cell.width, page: document.documentElement.scrollWidth, viewport: innerWidth };
    }, byName.get(hostile.long)!.id);
    expect(layout.tile).toBeLessThanOrEqual(layout.cell + 1);
    expect(layout.page).toBeLessThanOrEqual(layout.viewport);
    await saveScreenshot(page, 'reliability-bad-files');

    // The CSP: inline event handlers and scripts never run even if markup got in, and nothing loads from elsewhere.
    const csp = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onload="window.__xss=3"><img src="http://elsewhere.invalid/pixel.png">';
      document.body.append(div);
      const script = document.createElement('script');
      script.textContent = 'window.__xss = 4';
      document.body.append(script);
      await new Promise((r) => setTimeout(r, 500));
      div.remove();
      script.remove();
      return { xss: (window as { __xss?: number }).__xss, violations: [...new Set(violations)].sort() };
    });
    expect(csp.xss).toBeUndefined();
    expect(csp.violations).toEqual(['img-src', 'script-src-attr', 'script-src-elem']);
    expect(consoleErrors).toEqual([]);
    console.log(`[reliability 1] ${good.length} good + ${bad.length} bad files read in and indexed in ${readIn} ms; alpha vs flat max |diff| ${alphaDiff.toExponential(1)}`);
    await page.close();
  }, 240_000);

  it('2: reloading while files are read in, and closing the tab while indexing — nothing lost, half-written or doubled', async () => {
    const set = data!;
    // MobileNet at 512 (0.4 s a photo): slow enough to close the tab half-way through indexing.
    const app512 = APP.replace('longSide=128', 'longSide=512');
    const { page, consoleErrors } = await e2e.openPage(app512);
    await waitReady(page);
    await waitModelReady(page);

    // ---- reload while the files of a drop are still being read in (big photos: each takes a while)
    const big: FileSpec[] = Array.from({ length: 10 }, (_, i) => ({
      name: `big-${i}.jpg`,
      type: 'image/jpeg',
      bytes: encodeBlockJpeg({ width: 4000, height: 3000, components: 3, colour: (bx, by, bw, bh) => gradient((bx + i * 37) % bw, by, bw, bh) }),
    }));
    await dropFiles(page, '[data-testid="app"]', big);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.photoCount) >= 2, null, { timeout: 60_000, polling: 50 });
    await page.reload();
    await waitReady(page);
    await page.waitForSelector('[data-testid="file-problems"] li[data-kind="interrupted"]', { timeout: 15_000 });
    const interrupted = (await shownProblems(page)).filter((p) => p.kind === 'interrupted');
    const kept = (await appPhotos(page)).map((p) => p.name);
    console.log(`[reliability 2] reload during reading-in: ${kept.length} photos kept, ${interrupted.length} listed as not read in`);
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted[0].message).toMatch(/the page was closed during the import\. Add it again/);
    // Every dropped file is either in the collection or listed to be added again, never both, never twice.
    expect([...kept, ...interrupted.map((p) => p.name)].sort()).toEqual(big.map((b) => b.name).sort());
    await waitIndexed(page, kept.length, 120_000);
    let check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: kept.length, features: kept.length, pending: 0 });

    // Adding them again: the ones already in are recognised, the others are added.
    await dropFiles(page, '[data-testid="app"]', big);
    await waitIndexed(page, big.length, 120_000);
    expect((await appPhotos(page)).length).toBe(big.length);
    expect((await shownProblems(page)).filter((p) => p.kind === 'duplicate').map((p) => p.name).sort()).toEqual([...kept].sort());

    // ---- close the tab half-way through indexing; the next visit goes on from there
    const photos = set.images.slice(1, 13).map((i) => set.photo(i.name));
    await dropFiles(page, '[data-testid="app"]', photos.map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes })));
    const total = big.length + photos.length;
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.indexedCount) >= n, big.length + 3, { timeout: 120_000, polling: 50 });
    const indexedAtClose = (await photoCounts(page)).indexed;
    expect(indexedAtClose, 'closed before the end').toBeLessThan(total);
    const context = page.context();
    await page.close();
    expect(consoleErrors).toEqual([]);

    const next = await context.newPage();
    await next.goto(`${e2e.server.url}${app512}`);
    await waitReady(next);
    expect((await photoCounts(next)).photos).toBe(total);
    await waitIndexed(next, total, 180_000);
    const redone = await forwardPasses(next);
    console.log(`[reliability 2] closed with ${indexedAtClose}/${total} indexed; the next visit indexed ${redone}`);
    expect(redone, 'photos indexed before the tab closed are not indexed again').toBeLessThanOrEqual(total - indexedAtClose + 1);
    check = await integrity(next);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: total, blobs: total, features: total, maps: total, queued: 0, pending: 0 });
    await next.close();
  }, 420_000);

  it('3: a full disk — a plain message, everything stored kept, a clean stop, storage shown and persistence requested', async () => {
    const set = data!;
    // A site allowed 3 MB (DevTools protocol quota override, what a nearly full disk looks like to a site). Chromium
    // fixes a site's quota when the site first stores something, so it is set before the app is opened.
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${e2e.server.url}/favicon.svg`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(e2e.server.url).origin, quotaSize: 3 * 1024 * 1024 });
    await page.goto(`${e2e.server.url}${APP}`);
    await waitReady(page);

    // The storage meter shows what StorageManager.estimate() says.
    await page.waitForSelector('[data-testid="storage"]');
    const estimate = await page.evaluate(() => navigator.storage.estimate());
    const shownQuota = Number(await page.getAttribute('[data-testid="storage"]', 'data-quota'));
    expect(Math.abs(shownQuota - estimate.quota!) / estimate.quota!).toBeLessThan(0.01);
    expect(await page.textContent('[data-testid="storage"]')).toMatch(/Storage\s*[\d.]+ [KMG]B used · [\d.]+ [KMG]B available/);

    const first = set.images.slice(20, 23).map((i) => set.photo(i.name));
    await dropFiles(page, '[data-testid="app"]', first.map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes })));
    await waitIndexed(page, first.length, 60_000);

    // Far more than fits.
    const more = set.images.slice(23, 63).map((i) => set.photo(i.name));
    await dropFiles(page, '[data-testid="app"]', more.map((p) => ({ name: p.fileName, type: 'image/jpeg', bytes: p.bytes })));
    await page.waitForSelector('[data-testid="storage-full"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="storage-full"]')).toMatch(/storage for this site is full.*Everything already in the collection is kept/);
    // It stops: nothing keeps running (no hang, no retry loop).
    await page.waitForFunction(() => !document.querySelector('[data-testid="progress"][data-state="running"]') && !/Reading/.test(document.querySelector('[data-testid="progress"]')?.textContent ?? ''), null, {
      timeout: 60_000,
    });
    const stored = await appPhotos(page);
    const refused = (await shownProblems(page)).filter((p) => p.kind === 'storage');
    console.log(`[reliability 3] quota 3 MB: ${stored.length - first.length} of ${more.length} more photos stored, ${refused.length} refused, ${stored.filter((p) => p.indexed).length} indexed`);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((p) => /storage for this site is full/.test(p.message))).toBe(true);
    expect(stored.length - first.length + refused.length).toBe(more.length);
    expect(stored.filter((p) => first.some((f) => f.fileName === p.name)).every((p) => p.indexed)).toBe(true);
    expect((await integrity(page)).problems).toEqual([]);
    await saveScreenshot(page, 'reliability-storage-full');

    // Still all there after a reload (the disk still full), indexed ones still indexed, and consistent.
    const indexedBefore = stored.filter((p) => p.indexed).map((p) => p.id).sort();
    await page.reload();
    await waitReady(page);
    const after = await appPhotos(page);
    expect(after.map((p) => p.id).sort()).toEqual(stored.map((p) => p.id).sort());
    expect(after.filter((p) => indexedBefore.includes(p.id)).every((p) => p.indexed)).toBe(true);
    await page.waitForFunction(() => !document.querySelector('[data-testid="progress"][data-state="running"]'), null, { timeout: 60_000 });
    expect((await integrity(page)).problems).toEqual([]);

    // Asking the browser to keep the collection: granted or not, the page says which.
    await page.click('[data-testid="persist"]');
    await page.waitForFunction(() => [...document.querySelectorAll('.notices .notice')].some((n) => /persistent storage|will keep the collection/.test(n.textContent ?? '')), null, {
      timeout: 60_000,
    });
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 300_000);

  it('8: a collection saved by schema version 1, with features this version cannot use — migrated and re-indexed with a message', async () => {
    const set = data!;
    const [a, b, c] = set.images.slice(40, 43).map((i) => set.photo(i.name));
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    // Any page of the site (not the app) to write the old database the way version 1 of the app left it.
    await page.goto(`${e2e.server.url}/favicon.svg`);
    await page.evaluate(
      async ({ a, b, c }) => {
        const bytes = (b64: string) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const db: IDBDatabase = await new Promise((ok, ko) => {
          const req = indexedDB.open('cw-instance-search', 1);
          req.onupgradeneeded = () => {
            const d = req.result;
            d.createObjectStore('images', { keyPath: 'id' }).createIndex('seq', 'seq');
            d.createObjectStore('blobs', { keyPath: 'id' });
            d.createObjectStore('queue', { keyPath: 'id' }).createIndex('seq', 'seq');
            d.createObjectStore('features', { keyPath: 'id' });
            d.createObjectStore('maps', { keyPath: 'id' });
            d.createObjectStore('meta', { keyPath: 'key' });
          };
          req.onsuccess = () => ok(req.result);
          req.onerror = () => ko(req.error);
        });
        const tx = db.transaction(['images', 'blobs', 'queue', 'features', 'meta'], 'readwrite');
        const put = (store: string, value: unknown) => tx.objectStore(store).put(value);
        put('meta', { key: 'settings', value: { modelId: 'mobilenet_v1_0.75', longSide: 128, nc: 64, codec: 'uint8', paused: false } });
        put('meta', { key: 'seq', value: 3 });
        [a, b, c].forEach((p, seq) => {
          const blob = new Blob([bytes(p.b64)], { type: 'image/jpeg' });
          put('images', { id: p.id, name: p.name, path: '', seq, addedAt: 1, width: 1024, height: 768, originalBytes: blob.size, originalType: 'image/jpeg', originalWidth: 1024, originalHeight: 768, stored: 'original', thumb: blob, thumbWidth: 320, thumbHeight: 240 });
          if (p !== c) put('blobs', { id: p.id, blob }); // c's stored copy is lost
        });
        put('queue', { id: a.id, seq: 0 });
        // b: "indexed" in an older layout (plain arrays, no maps record): not usable by this version.
        put('features', { id: b.id, modelKey: 'mobilenet_v1_0.75@128', grid: { H: 4, W: 4 }, probabilities: [0.5, 0.5], descriptor: [1, 0, 0], nc: 64, backend: 'wasm', ms: 1, indexedAt: 1 });
        await new Promise((ok, ko) => {
          tx.oncomplete = ok;
          tx.onerror = () => ko(tx.error);
        });
        db.close();
      },
      Object.fromEntries(
        [a, b, c].map((p, i) => [['a', 'b', 'c'][i], { id: `${'abc'[i]}`.repeat(64), name: p.fileName, b64: p.bytes.toString('base64') }]),
      ) as Record<'a' | 'b' | 'c', { id: string; name: string; b64: string }>,
    );
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${e2e.server.url}${APP}`);
    await waitReady(page);
    await waitIndexed(page, 2, 60_000);
    const notices = (await shownNotices(page)).join('\n');
    expect(notices).toMatch(/1 photo is being indexed again: its stored features were incomplete or written by an older version of the app/);
    expect(notices).toMatch(new RegExp(`1 photo was removed because its stored copy is missing: ${c.fileName.replace('.', '\\.')}`));
    expect((await appPhotos(page)).map((p) => p.name).sort()).toEqual([a.fileName, b.fileName].sort());
    const version = await page.evaluate(async () => (await indexedDB.databases()).find((d) => d.name === 'cw-instance-search')?.version);
    expect(version).toBe(3);
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: 2, features: 2, maps: 2, queued: 0 });
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 180_000);
  it('export then import: the index leaves as one .npz that NumPy reads, and comes back exactly, without the network', async () => {
    const set = data!;
    const files = set.images.slice(60, 64).map((i) => {
      const p = set.photo(i.name);
      return { name: p.fileName, type: 'image/jpeg', bytes: p.bytes };
    });
    const context = await e2e.browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${e2e.server.url}${APP}`);
    await waitReady(page);
    await dropFiles(page, '[data-testid="app"]', files);
    await waitIndexed(page, files.length, 120_000);
    const descriptors = () =>
      page.evaluate(async () => {
        const app = (window as unknown as { cwApp: { debug: { photo(id: string): Promise<DebugPhoto | null> }; state(): { photos: { id: string; name: string }[] } } }).cwApp;
        const out: Record<string, number[]> = {};
        for (const p of app.state().photos) out[p.name] = Array.from((await app.debug.photo(p.id))!.descriptor);
        return out;
      });
    const before = await descriptors();
    const searchTop = async () => {
      const id = (await appPhotos(page)).find((p) => p.name === files[0].name)!.id;
      const r = await callApi<{ results: { id: string; score: number }[] }>(page, 'search', {
        query: { kind: 'photo', id },
        box: { x1: 0, y1: 0, x2: 100000, y2: 100000 },
        controls: { aggregation: 'online', nc: 64, qe: 0, rerank: 2 },
      });
      return r.results.map((x) => [x.id, x.score]);
    };
    const rankedBefore = await searchTop();

    // ---- export (the button, a real download)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-index"]')]);
    expect(download.suggestedFilename()).toMatch(/^cw-index-mobilenet_v1_0\.75-128-\d{4}-\d\d-\d\d\.npz$/);
    const file = join(testResultsDir, 'exported-index.npz');
    await download.saveAs(file);

    // ---- a plain NumPy reader: the vectors, and what they are
    const py = [
      'import json, sys, numpy as np',
      'z = np.load(sys.argv[1])',
      'd = z["descriptors"]; meta = json.loads(bytes(z["index.json"]))',
      'print(json.dumps({"shape": list(d.shape), "dtype": str(d.dtype), "model": meta["model"], "names": [p["name"] for p in meta["photos"]], "first": d[0].tolist(), "norms": np.linalg.norm(d, axis=1).tolist(), "maps": str(z["maps"].dtype)}))',
    ].join('\n');
    const numpy = JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }));
    expect(numpy).toMatchObject({ shape: [files.length, 768], dtype: 'float32', model: { id: 'mobilenet_v1_0.75', longSide: 128, nc: 64, codec: 'uint8-sparse' }, maps: 'uint8' });
    expect([...numpy.names].sort()).toEqual(files.map((f) => f.name).sort());
    expect(numpy.first).toEqual(before[numpy.names[0]].map((v) => Math.fround(v)));
    for (const n of numpy.norms) expect(n).toBeCloseTo(1, 5);

    // ---- an empty collection imports it: same photos, same descriptors, same ranking, no forward pass
    await callApi(page, 'clearCollection');
    await waitPhotos(page, 0);
    const passes = await forwardPasses(page);
    await page.setInputFiles('[data-testid="index-input"]', file);
    await waitIndexed(page, files.length, 60_000);
    await page.waitForFunction(() => /Imported exported-index\.npz: 4 photos added\./.test(document.querySelector('.notices')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await descriptors()).toEqual(before);
    expect(await forwardPasses(page), 'the collection was not run through the network again').toBe(passes);
    expect(await searchTop()).toEqual(rankedBefore);
    const check = await integrity(page);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ images: files.length, features: files.length, maps: files.length, queued: 0 });
    await saveScreenshot(page, 'reliability-imported-index');

    // ---- the same file again: nothing doubled; a file that is not an index: a clear error
    await page.setInputFiles('[data-testid="index-input"]', file);
    await page.waitForFunction(() => /4 already in the collection/.test(document.querySelector('.notices')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.setInputFiles('[data-testid="index-input"]', { name: 'holiday.npz', mimeType: 'application/octet-stream', buffer: Buffer.from('not a zip at all') });
    await page.waitForFunction(() => /Importing holiday\.npz failed: not an exported index \(not a zip\/\.npz file\)/.test(document.querySelector('.notices')?.textContent ?? ''), null, { timeout: 60_000 });
    expect((await integrity(page)).images).toBe(files.length);
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 300_000);
});
