/**
 * The app's page driven from Playwright, for the end-to-end tests (tests/e2e/appHelpers.ts) and the scripts that
 * measure the app in a browser: real photos from ../shared/data/paris6k-mini-dev, drops through a real `drop` event
 * carrying a DataTransfer, the app's state, and pixels read back from canvases.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JSHandle, Page } from 'playwright-core';
import { devManifestPath } from './node';

interface DevPhoto {
  name: string;
  fileName: string;
  bytes: Buffer;
}

interface DevQuery {
  id: string;
  image: string;
  bbox_xyxy: [number, number, number, number];
  positives: string[];
  junk: string[];
}

export interface DevSet {
  dir: string;
  images: { name: string; file: string; width: number; height: number }[];
  queries: DevQuery[];
  photo(name: string): DevPhoto;
}

/** paris6k-mini-dev read from its folder (MANIFEST.json and the photos). */
export function readDevSet(dir: string): DevSet {
  const manifest = JSON.parse(readFileSync(join(dir, 'MANIFEST.json'), 'utf8')) as Pick<DevSet, 'images' | 'queries'>;
  return {
    dir,
    images: manifest.images,
    queries: manifest.queries,
    photo(name) {
      const img = manifest.images.find((i) => i.name === name);
      if (!img) throw new Error(`${name} is not in paris6k-mini-dev`);
      return { name, fileName: img.file.split('/').pop()!, bytes: readFileSync(join(dir, img.file)) };
    },
  };
}

/** paris6k-mini-dev from ../shared (scripts/lib/node.ts), or null when it is not there. */
export function findDevSet(): DevSet | null {
  const manifest = devManifestPath();
  return manifest ? readDevSet(dirname(manifest)) : null;
}

export interface FileSpec {
  name: string;
  type: string;
  bytes: Buffer;
  /** Folder drops: the path of the file inside the dropped folder, e.g. 'trip/day1/a.jpg'. */
  path?: string;
}

/** A DataTransfer in the page holding these files (made in the page, as a user's drag would). */
async function dataTransfer(page: Page, files: FileSpec[]): Promise<JSHandle<DataTransfer>> {
  const payload = files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') }));
  return page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, payload);
}

/** Dispatches a real `drop` event (with dragenter/dragover before it) carrying the files onto `selector`. */
export async function dropFiles(page: Page, selector: string, files: FileSpec[]): Promise<void> {
  const dt = await dataTransfer(page, files);
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
  await dt.dispose();
}

/**
 * Drops a FOLDER: a real DragEvent whose dataTransfer is replaced by one whose single item is a directory entry
 * (FileSystemDirectoryEntry-like: createReader().readEntries() in batches, nested folders, file entries giving
 * real File objects), which is what Chromium hands over for an OS folder drag. Paths are 'folder/sub/file'.
 */
export async function dropFolder(page: Page, selector: string, folder: string, files: FileSpec[]): Promise<void> {
  const payload = files.map((f) => ({ path: f.path ?? `${folder}/${f.name}`, type: f.type, b64: f.bytes.toString('base64') }));
  await page.evaluate(
    ({ selector, folder, list }) => {
      type Node = { name: string; fullPath: string; isFile: boolean; isDirectory: boolean; children?: Node[]; file?: File };
      const root: Node = { name: folder, fullPath: `/${folder}`, isFile: false, isDirectory: true, children: [] };
      for (const f of list) {
        const parts = f.path.split('/').slice(1);
        let dir = root;
        for (const part of parts.slice(0, -1)) {
          let next = dir.children!.find((c) => c.name === part);
          if (!next) {
            next = { name: part, fullPath: `${dir.fullPath}/${part}`, isFile: false, isDirectory: true, children: [] };
            dir.children!.push(next);
          }
          dir = next;
        }
        const bin = atob(f.b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const name = parts[parts.length - 1];
        dir.children!.push({ name, fullPath: `${dir.fullPath}/${name}`, isFile: true, isDirectory: false, file: new File([bytes], name, { type: f.type }) });
      }
      const entry = (node: Node): unknown =>
        node.isFile
          ? { ...node, file: (ok: (f: File) => void) => setTimeout(() => ok(node.file!), 0) }
          : {
              ...node,
              createReader() {
                // Like Chromium: entries in batches of (here) 2, then an empty batch.
                let offset = 0;
                return {
                  readEntries(ok: (entries: unknown[]) => void) {
                    const batch = node.children!.slice(offset, offset + 2).map(entry);
                    offset += 2;
                    setTimeout(() => ok(batch), 0);
                  },
                };
              },
            };
      const item = { kind: 'file', type: '', webkitGetAsEntry: () => entry(root), getAsFile: () => new File([], folder) };
      const fake = { items: [item], files: [], types: ['Files'], dropEffect: 'copy', effectAllowed: 'all' };
      const event = new DragEvent('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(event, 'dataTransfer', { value: fake });
      document.querySelector(selector)!.dispatchEvent(event);
    },
    { selector, folder, list: payload },
  );
}

/** A JPEG with an EXIF APP1 segment saying Orientation = `orientation` (6: rotate 90 degrees clockwise to view). */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, first IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, orientation >> 8, orientation & 0xff, 0x00, 0x00, // Orientation, SHORT, 1
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const length = body.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, length >> 8, length & 0xff]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

export interface AppPhotoState {
  id: string;
  name: string;
  path: string;
  width: number;
  height: number;
  indexed: boolean;
}

/** The page's view of the collection (needs ?debug=1). */
export async function appPhotos(page: Page): Promise<AppPhotoState[]> {
  return page.evaluate(() => {
    const s = (window as unknown as { cwApp: { state(): { photos: AppPhotoState[] } } }).cwApp.state();
    return s.photos.map(({ id, name, path, width, height, indexed }) => ({ id, name, path, width, height, indexed }));
  });
}

/**
 * Photos in the collection and how many are indexed, as the page counts them (data-photo-count and
 * data-indexed-count of the app's root: the grids render only the tiles near the viewport, so tiles are not counted).
 */
export async function photoCounts(page: Page): Promise<{ photos: number; indexed: number }> {
  return page.$eval('[data-testid="app"]', (el) => ({ photos: Number((el as HTMLElement).dataset.photoCount), indexed: Number((el as HTMLElement).dataset.indexedCount) }));
}

/** Waits until `count` photos are indexed. */
export async function waitIndexed(page: Page, count: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('[data-testid="app"]')?.dataset.indexedCount) >= n, count, { timeout: timeoutMs, polling: 250 });
}

/**
 * Scrolls the collection grid until the photo's tile is rendered (the grid renders only the rows near the viewport),
 * and returns its selector. Needs ?debug=1 (the photo's position comes from the page's state).
 */
export async function revealPhoto(page: Page, id: string): Promise<string> {
  await page.evaluate((photoId) => {
    const photos = (window as unknown as { cwApp: { state(): { photos: { id: string }[] } } }).cwApp.state().photos;
    const index = photos.findIndex((p) => p.id === photoId);
    const grid = document.querySelector<HTMLElement>('[data-testid="collection-grid"]');
    const row = grid?.querySelector<HTMLElement>('.grid-row');
    if (index < 0 || !grid || !row) return;
    const columns = Number(/repeat\((\d+)/.exec(row.style.gridTemplateColumns)?.[1] ?? 1);
    const top = grid.getBoundingClientRect().top + scrollY + Math.floor(index / columns) * row.getBoundingClientRect().height;
    scrollTo(0, Math.max(0, top - 80));
  }, id);
  const selector = `[data-photo-id="${id}"]`;
  await page.waitForSelector(selector, { timeout: 60_000 });
  return selector;
}

export interface CanvasPixels {
  width: number;
  height: number;
  /** Pixels with any opacity. */
  painted: number;
  /** Pixels close to the given colours (r, g, b within 40), opaque enough. */
  matches: number[];
}

/** Reads a canvas back and counts painted pixels and pixels near each colour. */
export async function canvasPixels(page: Page, selector: string, colours: [number, number, number][] = []): Promise<CanvasPixels> {
  return page.$eval(
    selector,
    (el, colours) => {
      const canvas = el as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      const matches = colours.map(() => 0);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) painted++;
        if (data[i + 3] < 200) continue;
        colours.forEach(([r, g, b], k) => {
          if (Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) matches[k]++;
        });
      }
      return { width: canvas.width, height: canvas.height, painted, matches };
    },
    colours,
  );
}

