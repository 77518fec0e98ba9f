/**
 * Object URLs of thumbnails, made here in the worker: the page shows them without making any itself.
 * URL.createObjectURL and revokeObjectURL are synchronous calls to the browser process; on the page's main thread
 * they were its largest cost while scrolling a 10,000-photo grid (BENCHMARKS.md). A URL lives until the page
 * releases it (its thumbnail cache dropped it) or the worker ends; only URLs made here are revoked.
 */
import type { CollectionStore } from '../../index/db';

export class ThumbnailUrls {
  private readonly made = new Set<string>();

  constructor(private readonly store: () => CollectionStore) {}

  /** A URL per id (null where the photo is gone), read in one transaction. */
  async make(ids: readonly string[]): Promise<(string | null)[]> {
    const blobs = await this.store().getThumbs(ids);
    return blobs.map((b) => {
      if (!b) return null;
      const url = URL.createObjectURL(b);
      this.made.add(url);
      return url;
    });
  }

  release(urls: readonly string[]): void {
    for (const url of urls) {
      if (!this.made.delete(url)) continue;
      URL.revokeObjectURL(url);
    }
  }

  /** URLs alive now (leak checks). */
  get size(): number {
    return this.made.size;
  }
}
