/**
 * Model files (model.json, weight shards, labels.json) read through the Cache API: the first visit fetches them
 * from this site and keeps them, later visits (offline included) read them from the cache. Same origin only.
 */
import type { ReadModelFile } from '../model/artifacts';

/** Bump when the files under public/models change, so stale copies are not used. */
export const MODEL_CACHE = 'cw-models-v1';

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
