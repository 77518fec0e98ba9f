import type { Deletions } from '../hooks/useDeletion';

/** The newest deletion, with Undo (until the page is left or it is dismissed); older ones come back after it. */
export function UndoBar({ deletions }: { deletions: Deletions }) {
  const last = deletions.list[deletions.list.length - 1];
  if (!last) return null;
  const earlier = deletions.list.length - 1;
  return (
    <div className="undo-bar" role="status" data-testid="undo-bar" data-count={last.count}>
      <span>
        Deleted {last.label}.
        {last.queryRemoved && <strong data-testid="query-removed"> The query photo was deleted: it stays open here, but cannot be opened from the collection again.</strong>}
        {earlier > 0 && <span className="undo-more"> ({earlier} earlier {earlier === 1 ? 'deletion' : 'deletions'} can be undone after it)</span>}
      </span>
      <button type="button" className="btn small primary" onClick={() => void deletions.undoLast()} disabled={deletions.busy} data-testid="undo-delete">
        Undo
      </button>
      <button type="button" className="btn small ghost" onClick={deletions.dismiss} aria-label="Dismiss: the deletions can no longer be undone">
        ×
      </button>
    </div>
  );
}
