/**
 * Deletion: removes photos (one or a selection) from every store in one transaction and from this tab's state at
 * once, tells the page (and whether the query photo went) and the other tabs; and undoes a deletion until the page
 * is left: the deleted records are kept in this worker's memory (a bounded trash of the last deletions) and written
 * back exactly — same ids, import order, features and maps — in one transaction.
 */
import type { CollectionStore } from '../../index/db';
import type { FeatureRecord } from '../../index/schema';
import { modelKey } from '../../index/settings';
import { photoOrder, restorePhotos, takePhotos, takenBytes, type TakenPhoto } from '../../index/trash';
import type { DeleteResult, UndoResult } from '../../worker-api/api';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { Emit } from '../events';
import type { Session, Settings } from './session';
import type { TabSync } from './tabSync';

/** Deletions that can be undone, and the memory they may hold (the oldest go first). */
const TRASH_DELETIONS = 20;
const TRASH_BYTES = 512 * 1024 * 1024;

export interface DeletionDeps {
  store: CollectionStore;
  session: Session;
  settings: Settings;
  state: CollectionState;
  tabs: TabSync;
  lock: Lock;
  /** Publishes the page's events, and 'photos-queued' after an undo (restored photos may wait for the network). */
  emit: Emit;
  /** The query: its photo id, when it is a photo of the collection. */
  query: { readonly photoId: string | null };
}

interface TrashEntry {
  token: string;
  photos: TakenPhoto[];
  bytes: number;
}

export class Deletion {
  private trash: TrashEntry[] = [];

  constructor(private readonly deps: DeletionDeps) {}

  async delete(ids: readonly string[]): Promise<DeleteResult> {
    const { store, session, state, tabs, lock, emit } = this.deps;
    session.assertOpen();
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new Error('deletePhotos takes an array of photo ids (strings)');
    const unique = [...new Set(ids)];
    if (!unique.length) throw new Error('no photos to delete: the selection is empty');
    const unknown = unique.filter((id) => !state.names.has(id));
    if (unknown.length) {
      throw new Error(`${unknown.length} of the ${unique.length} photos to delete ${unknown.length === 1 ? 'is' : 'are'} not in the collection (${unknown.slice(0, 3).map((id) => id.slice(0, 12)).join(', ')}): nothing was deleted`);
    }
    // Under the tfjs lock: a search or indexing step never sees the index half-updated.
    const taken = await lock.run(async () => {
      const t = await takePhotos(store, unique);
      state.forget(t.map((p) => p.id));
      return t;
    });
    const gone = taken.map((p) => p.id);
    const query = this.deps.query.photoId;
    const queryRemoved = query !== null && gone.includes(query);
    const token = crypto.randomUUID();
    this.keep({ token, photos: taken, bytes: taken.reduce((s, p) => s + takenBytes(p), 0) });
    emit({ type: 'photos-removed', ids: gone, ...(queryRemoved ? { queryRemoved } : {}) });
    tabs.broadcast({ type: 'removed', ids: gone });
    return { deleted: gone.length, ids: gone, undoToken: token, queryRemoved };
  }

  async undo(token: string): Promise<UndoResult> {
    const { store, session, settings, state, tabs, lock, emit } = this.deps;
    session.assertOpen();
    const entry = this.trash.find((e) => e.token === token);
    if (!entry) throw new Error('this deletion cannot be undone: it was undone already, or it is older than the last deletions this page keeps');
    const report = await lock.run(async () => {
      const r = await restorePhotos(store, entry.photos, modelKey(settings.current));
      const back = new Set([...r.restored, ...r.requeued]);
      const photos = entry.photos.filter((p) => back.has(p.id));
      const indexed = photos.filter((p) => r.restored.includes(p.id) && p.features && p.maps && state.usable(p.features));
      const order = await photoOrder(store);
      state.index.restore(
        indexed.map((p) => p.features as FeatureRecord),
        order,
        new Map(indexed.map((p) => [p.id, p.maps!.maps])),
      );
      for (const p of photos) state.names.set(p.id, p.image.name);
      state.queue = await store.queued();
      return { r, photos };
    });
    this.trash = this.trash.filter((e) => e !== entry);
    const { r, photos } = report;
    if (photos.length) {
      emit({ type: 'photos-added', photos: photos.map((p) => state.photoItem({ ...p.image, thumb: p.image.thumb ?? p.thumbs?.thumb })) });
      tabs.broadcast({ type: 'added', ids: photos.map((p) => p.id) });
      const indexedIds = photos.filter((p) => state.index.has(p.id)).map((p) => p.id);
      if (indexedIds.length) tabs.broadcast({ type: 'indexed', ids: indexedIds });
    }
    emit({ type: 'photos-queued' });
    return { restored: r.restored.length + r.requeued.length, ids: photos.map((p) => p.id), requeued: r.requeued, alreadyPresent: r.present };
  }

  /** The deletions that can still be undone, newest first. */
  undoable(): { undoToken: string; photos: number }[] {
    return this.trash.map((e) => ({ undoToken: e.token, photos: e.photos.length })).reverse();
  }

  private keep(entry: TrashEntry): void {
    this.trash.push(entry);
    let bytes = this.trash.reduce((s, e) => s + e.bytes, 0);
    while (this.trash.length > 1 && (this.trash.length > TRASH_DELETIONS || bytes > TRASH_BYTES)) bytes -= this.trash.shift()!.bytes;
  }
}
