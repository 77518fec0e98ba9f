/**
 * Model files (model.json, weight shards, labels.json) read through the Cache API: the first visit fetches them
 * from this site and keeps them, later visits (offline included) read them from the cache. Same origin only.
 */
import type { ReadModelFile } from '../model/artifacts';

/** Bump when the files under public/models change, so stale copies are not used. */
export const MODEL_CACHE = 'cw-models-v1';

/**
 * Models the user loaded (files or a URL of this site), validated before they were kept: their only copy in the
 * browser. A separate cache, so clearing a damaged copy of a shipped model (MODEL_CACHE) never touches them.
 */
const CUSTOM_MODEL_CACHE = 'cw-custom-models-v1';

export interface ReadProgress {
  /** Files read so far, and bytes. */
  files: number;
  bytes: number;
  /** True when the file came from the network (not the cache). */
  fromNetwork: boolean;
}

/** A reader for one model folder (a URL relative to the site). */
export function cachedModelReader(folderUrl: string, onFile?: (p: ReadProgress) => void): ReadModelFile {
  const base = new URL(folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`, self.location.origin + '/');
  let files = 0;
  let bytes = 0;
  let cache: Promise<Cache | null> | null = null;
  const openCache = () => (cache ??= 'caches' in self ? caches.open(MODEL_CACHE).catch(() => null) : Promise.resolve(null));

  return async (path: string) => {
    const url = new URL(path, base).href;
    const c = await openCache();
    const hit = await c?.match(url);
    let buffer: ArrayBuffer;
    let fromNetwork = false;
    if (hit) {
      buffer = await hit.arrayBuffer();
    } else {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      // A dev server answers a missing file with index.html: never cache that as a model file.
      if ((res.headers.get('content-type') ?? '').includes('text/html')) throw new Error(`${url}: not found (got an HTML page)`);
      buffer = await res.arrayBuffer();
      fromNetwork = true;
      await c?.put(url, new Response(buffer.slice(0), { headers: { 'content-type': res.headers.get('content-type') ?? 'application/octet-stream' } })).catch(() => undefined);
    }
    files++;
    bytes += buffer.byteLength;
    onFile?.({ files, bytes, fromNetwork });
    return buffer;
  };
}

/** Where a custom model's file is kept (a cache key on this origin; nothing is served there). */
const customModelUrl = (id: string, path: string): string => new URL(`custom-models/${id}/${path}`, self.location.origin + '/').href;

/** Keeps a validated custom model's files. */
export async function putCustomModelFiles(id: string, files: Map<string, ArrayBuffer>): Promise<void> {
  if (!('caches' in self)) throw new Error('this browser has no Cache API to keep the model in');
  const cache = await caches.open(CUSTOM_MODEL_CACHE);
  for (const [path, buffer] of files) {
    await cache.put(customModelUrl(id, path), new Response(buffer, { headers: { 'content-type': path.endsWith('.json') ? 'application/json' : 'application/octet-stream' } }));
  }
}

/**
 * A reader for a custom model's files (from CUSTOM_MODEL_CACHE only). `numberedClasses`: the model came without
 * labels.json, so one with numbered classes is made up.
 */
export function customModelReader(id: string, numberedClasses: number | null, onFile?: (p: ReadProgress) => void): ReadModelFile {
  let files = 0;
  let bytes = 0;
  return async (path: string) => {
    if (path === 'labels.json' && numberedClasses !== null) {
      return new TextEncoder().encode(JSON.stringify(Array.from({ length: numberedClasses }, (_, i) => `class ${i}`))).buffer as ArrayBuffer;
    }
    const cache = 'caches' in self ? await caches.open(CUSTOM_MODEL_CACHE) : null;
    const hit = await cache?.match(customModelUrl(id, path));
    if (!hit) throw new Error(`${path} of this model is no longer stored in this browser (site data cleared?): load the model again`);
    const buffer = await hit.arrayBuffer();
    files++;
    bytes += buffer.byteLength;
    onFile?.({ files, bytes, fromNetwork: false });
    return buffer;
  };
}
