/**
 * This tab's session (its id, and whether the collection is still usable here) and the collection's index settings
 * as this tab holds them: what most services share.
 */
import type { CollectionStore } from '../../index/db';
import type { IndexSettings } from '../../index/settings';

/** This tab's worker: names its Web Lock and its pending files; `closed` is set (with the reason) for good. */
export class Session {
  readonly id = crypto.randomUUID();
  closed: string | null = null;
  private seq = 0;

  /** A key for one dropped file of this session (its `pending` record). */
  nextPendingKey(): string {
    return `${this.id}:${this.seq++}`;
  }

  /** Throws the reason when the collection cannot be used in this tab any more. */
  assertOpen(): void {
    if (this.closed) throw new Error(this.closed);
  }
}

/** The collection's index settings (model, input size, NC, codec, paused): one copy, saved through `save`. */
export class Settings {
  current!: IndexSettings;

  constructor(private readonly store: () => CollectionStore) {}

  /** Changes the settings in memory, then stores them. */
  async save(patch: Partial<IndexSettings>): Promise<void> {
    this.current = { ...this.current, ...patch };
    await this.store().saveSettings(this.current);
  }
}
