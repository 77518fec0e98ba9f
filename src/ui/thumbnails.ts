/**
 * Thumbnails on demand: the worker is started with thumbnails 'on-demand' (photo lists carry none), and a tile asks
 * for its thumbnail while it is rendered. Requests go to the worker as one `thumbnailUrls(ids)` call (one IndexedDB
 * transaction) once no new tile has asked for SETTLE_MS (at most MAX_WAIT_MS after the first ask); a tile scrolled
 * past before that is not fetched, so a fast scroll fetches the screens it stops on, not every tile it passes. The
 * worker makes the object URLs: createObjectURL and revokeObjectURL, synchronous calls to the browser process, were
 * the main thread's largest cost while scrolling 10,000 photos (BENCHMARKS.md). Fetched URLs are kept in a bounded
 * cache (the least recently shown go first, never one on screen, and the worker is told to revoke them), so
 * scrolling back does not read them again and a 50,000-photo collection never holds 50,000 URLs.
 */
import { useCallback, useSyncExternalStore } from 'react';
import { useObjectUrl } from './objectUrls';

/** Thumbnails kept beyond those on screen (about 8 KB each at THUMB_SIDE 320: ~16 MB). */
const CACHE_SIZE = 2000;
/** Ids per worker call. */
const BATCH = 256;
/** Fetch once no tile has asked for this long (ms)... */
const SETTLE_MS = 50;
/** ...or this long after the first waiting ask (ms), so a slow steady scroll still fills in. */
const MAX_WAIT_MS = 150;

/** Object URLs of the thumbnails (null where a photo is gone), made by the worker. */
type Fetch = (ids: string[]) => Promise<(string | null)[]>;
/** The cache no longer uses these URLs: the worker revokes them. */
type Release = (urls: string[]) => void;

export class ThumbnailCache {
  /** id -> its thumbnail's URL (null: the photo has none / is gone), in least recently shown order. */
  private urls = new Map<string, string | null>();
  private watchers = new Map<string, Set<() => void>>();
  private wanted = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When the oldest waiting ask was made (ms, performance.now()), null when none waits. */
  private firstAsk: number | null = null;

  constructor(
    private readonly fetch: Fetch,
    private readonly release: Release,
    private readonly size = CACHE_SIZE,
  ) {}

  get(id: string): string | null | undefined {
    return this.urls.get(id);
  }

  /** Calls `changed` when the thumbnail of `id` arrives; fetches it unless cached. Returns the unsubscribe. */
  watch(id: string, changed: () => void): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(changed);
    if (this.urls.has(id)) {
      const url = this.urls.get(id)!;
      this.urls.delete(id);
      this.urls.set(id, url); // most recently shown
    } else {
      this.wanted.add(id);
      this.schedule();
    }
    return () => {
      set.delete(changed);
      if (set.size) return;
      this.watchers.delete(id);
      this.wanted.delete(id); // scrolled past before it was fetched
    };
  }

  /** Thumbnails cached now (tests, memory checks). */
  get cached(): number {
    return this.urls.size;
  }

  /** Forgets everything (the collection was cleared or reloaded). */
  clear(): void {
    this.drop([...this.urls.values()]);
    this.urls.clear();
  }

  private schedule(): void {
    const now = performance.now();
    this.firstAsk ??= now;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), Math.max(0, Math.min(SETTLE_MS, this.firstAsk + MAX_WAIT_MS - now)));
  }

  private async flush(): Promise<void> {
    this.timer = null;
    this.firstAsk = null;
    const ids = [...this.wanted];
    this.wanted.clear();
    for (let s = 0; s < ids.length; s += BATCH) {
      const part = ids.slice(s, s + BATCH);
      const got = await this.fetch(part).catch((e: unknown) => {
        console.warn('[thumbnails] could not be read:', e);
        return null;
      });
      if (!got) continue; // not cached: asked again when shown again
      const twice: (string | null)[] = [];
      part.forEach((id, i) => {
        // Asked again while its first fetch was on its way: the first URL stays (a tile may show it).
        if (this.urls.has(id)) twice.push(got[i]);
        else this.urls.set(id, got[i]);
      });
      this.drop(twice);
      this.evict();
      for (const id of part) for (const changed of this.watchers.get(id) ?? []) changed();
    }
  }

  /** Drops the least recently shown thumbnails beyond the cache size, never one that is on screen. */
  private evict(): void {
    let over = this.urls.size - Math.max(this.size, this.watchers.size);
    const gone: (string | null)[] = [];
    for (const [id, url] of this.urls) {
      if (over <= 0) break;
      if (this.watchers.has(id)) continue;
      this.urls.delete(id);
      gone.push(url);
      over--;
    }
    this.drop(gone);
  }

  private drop(urls: (string | null)[]): void {
    const live = urls.filter((u): u is string => u !== null);
    if (live.length) this.release(live);
  }
}

let shared: ThumbnailCache | null = null;

/** The page's cache, fetching through the worker (engineStore sets it up). */
export function setThumbnailSource(fetch: Fetch, release: Release): ThumbnailCache {
  return (shared = new ThumbnailCache(fetch, release));
}

/**
 * The URL of a photo's thumbnail: of the one it carries (made here while shown), else fetched from the worker while
 * the calling tile is mounted (null until it arrives).
 */
export function useThumbnailUrl(photo: { id: string; thumb?: Blob } | undefined): string | null {
  const id = photo?.thumb ? undefined : photo?.id;
  const own = useObjectUrl(photo?.thumb);
  const subscribe = useCallback((changed: () => void) => (!shared || id === undefined ? () => undefined : shared.watch(id, changed)), [id]);
  const fetched = useSyncExternalStore(subscribe, () => (id === undefined ? null : (shared?.get(id) ?? null)));
  return own ?? fetched;
}
