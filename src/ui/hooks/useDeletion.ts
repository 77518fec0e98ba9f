// Deleting photos (one or a selection, from the grid, the viewer or the duplicate review) and undoing it until the
// page is left: the worker keeps the deleted records in memory; the page keeps the undo tokens, newest last.
import { useCallback, useState } from 'react';
import type { EngineStore } from '../engineStore';

/** The worker keeps the last 20 deletions (TRASH_DELETIONS): older tokens cannot be undone, so they are not shown. */
const UNDOABLE = 20;

interface Deletion {
  token: string;
  count: number;
  /** What was deleted, for the banner: a photo's name, or "3 photos". */
  label: string;
  /** The open query photo was among them. */
  queryRemoved: boolean;
}

export interface Deletions {
  /** Undoable deletions of this page, newest last. */
  list: Deletion[];
  busy: boolean;
  /** Deletes the photos; resolves true when they are gone. */
  remove: (ids: string[], label: string) => Promise<boolean>;
  /** Undoes the newest deletion. */
  undoLast: () => Promise<void>;
  /** Hides the banner (the deletions stay undoable through the worker until the page is left, but not from here). */
  dismiss: () => void;
}

export function useDeletion(store: EngineStore): Deletions {
  const [list, setList] = useState<Deletion[]>([]);
  const [busy, setBusy] = useState(false);

  const remove = useCallback(
    async (ids: string[], label: string) => {
      if (!ids.length) return false;
      setBusy(true);
      const result = await store.run('Deleting', (api) => api.deletePhotos(ids));
      setBusy(false);
      if (!result) return false;
      setList((l) => [...l, { token: result.undoToken, count: result.deleted, label, queryRemoved: result.queryRemoved }].slice(-UNDOABLE));
      return true;
    },
    [store],
  );

  const undoLast = useCallback(async () => {
    const last = list[list.length - 1];
    if (!last) return;
    setBusy(true);
    const result = await store.run('Undo', (api) => api.undoDelete(last.token));
    setBusy(false);
    setList((l) => l.filter((d) => d !== last));
    if (!result) return;
    const notes = [];
    if (result.requeued.length) notes.push(`${result.requeued.length} queued to be indexed again with the current model`);
    if (result.alreadyPresent.length) notes.push(`${result.alreadyPresent.length} imported again meanwhile, left as they are`);
    store.notify('info', `Restored ${result.restored} ${result.restored === 1 ? 'photo' : 'photos'}${notes.length ? ` (${notes.join('; ')})` : ''}.`);
  }, [list, store]);

  return { list, busy, remove, undoLast, dismiss: () => setList([]) };
}
