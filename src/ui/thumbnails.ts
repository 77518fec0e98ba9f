/**
 * Thumbnails on demand: the worker is started with thumbnails 'on-demand' (photo lists carry none), and a tile asks
 * for its thumbnail while it is rendered. Requests go to the worker as one `thumbnails(ids)` call (one IndexedDB
 * transaction) once no new tile has asked for SETTLE_MS (at most MAX_WAIT_MS after the first ask); a tile scrolled past
 * before that is not fetched, so a fast scroll fetches (and makes object URLs for) the screens it stops on, not every
 * tile it passes: profiled at 10,000 photos, createObjectURL was the main thread's largest cost while scrolling. Fetched thumbnails are kept in a
 * bounded cache (the least recently shown go first, never one on screen), so scrolling back does not read them
 * again and a 50,000-photo collection never holds 50,000 Blobs. Object URLs stay with objectUrls.ts (made while a
 * tile shows the Blob, revoked after).
 */
import { useCallback, useSyncExternalStore } from 'react';

/** Thumbnails kept beyond those on screen (about 8 KB each at THUMB_SIDE 320: ~16 MB). */
const CACHE_SIZE = 2000;
/** Ids per worker call. */
const BATCH = 256;
/** Fetch once no tile has asked for this long (ms)... */
const SETTLE_MS = 50;
/** ...or this long after the first waiting ask (ms), so a slow steady scroll still fills in. */
const MAX_WAIT_MS = 150;

type Fetch = (ids: string[]) => Promise<(Blob | null)[]>;

export class ThumbnailCache {
  /** id -> thumbnail (null: the photo has none / is gone), in least recently shown order. */
  private blobs = new Map<string, Blob | null>();
  private watchers = new Map<string, Set<() => void>>();
  private wanted = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When the oldest waiting ask was made (ms, performance.now()), null when none waits. */
  private firstAsk: number | null = null;

  constructor(
    private readonly fetch: Fetch,
    private readonly size = CACHE_SIZE,
  ) {}

  get(id: string): Blob | null | undefined {
    return this.blobs.get(id);
  }

  /** Calls `changed` when the thumbnail of `id` arrives; fetches it unless cached. Returns the unsubscribe. */
  watch(id: string, changed: () => void): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(changed);
    if (this.blobs.has(id)) {
      const b = this.blobs.get(id)!;
      this.blobs.delete(id);
      this.blobs.set(id, b); // most recently shown
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
    return this.blobs.size;
  }

  /** Forgets everything (the collection was cleared or reloaded). */
  clear(): void {
    this.blobs.clear();
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
      part.forEach((id, i) => this.blobs.set(id, got[i]));
      this.evict();
      for (const id of part) for (const changed of this.watchers.get(id) ?? []) changed();
    }
  }

  /** Drops the least recently shown thumbnails beyond the cache size, never one that is on screen. */
  private evict(): void {
    let over = this.blobs.size - Math.max(this.size, this.watchers.size);
    for (const id of this.blobs.keys()) {
      if (over <= 0) break;
      if (this.watchers.has(id)) continue;
      this.blobs.delete(id);
      over--;
    }
  }
}

let shared: ThumbnailCache | null = null;

/** The page's cache, fetching through the worker (engineStore sets it up). */
export function setThumbnailSource(fetch: Fetch): ThumbnailCache {
  return (shared = new ThumbnailCache(fetch));
}

/** A photo's thumbnail: the one it carries, else fetched while the calling tile is mounted (null until it arrives). */
export function useThumbnail(photo: { id: string; thumb?: Blob } | undefined): Blob | null {
  const id = photo?.id;
  const thumb = photo?.thumb;
  const subscribe = useCallback((changed: () => void) => (thumb || !shared || id === undefined ? () => undefined : shared.watch(id, changed)), [id, thumb]);
  return useSyncExternalStore(subscribe, () => thumb ?? (id === undefined ? null : shared?.get(id)) ?? null);
}
