import { memo, useCallback, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';
import type { FileProblem } from '../../worker-api/api';
import type { Photo } from '../engineStore';
import type { Selection } from '../hooks/useSelection';
import { useStableCallback } from '../hooks/useStableCallback';
import { useThumbnailUrl } from '../thumbnails';
import { PhotoFrame } from './PhotoFrame';
import { VirtualGrid, type TileProps } from './VirtualGrid';

const MIN_CELL = 120;
/** A tile below its image: padding, the gap and the name line. */
const TILE_EXTRA = 40;

export function CollectionSection(props: {
  /** The photos shown (all, or those of the class filter). */
  photos: Photo[];
  /** Every photo of the collection (the filter's photos are a part of them). */
  total: number;
  selection: Selection;
  /** Deletes photos (undoable). */
  onDelete: (ids: string[]) => void;
  /** Above the grid: the class chips. */
  filters?: ReactNode;
  queryId: string | null;
  problems: FileProblem[];
  onPick: (photo: Photo) => void;
  onAddPhotos: () => void;
  onAddFolder: () => void;
  onDismissProblems: () => void;
  onClear: () => void;
  /** Saves the index (.npz) / adds the photos of a saved index. */
  onExportIndex: () => void;
  onImportIndex: () => void;
  /** An export or import is running. */
  transferring: boolean;
  ready: boolean;
}) {
  const { photos, selection } = props;
  const selected = selection.ids.length;
  const onTileClick = useStableCallback((p: Photo, e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey) selection.toggle(p.id);
    else if (e.shiftKey) selection.extendTo(p.id);
    else if (selected) selection.toggle(p.id);
    else props.onPick(p);
  });
  const { queryId } = props;
  const isSelected = selection.has;
  // Stable while the query and the selection stay: scrolling re-renders the grid, and its memoised tiles skip.
  const renderTile = useCallback(
    (p: Photo, index: number, tile: TileProps) => <PhotoTile photo={p} index={index} cell={tile.cell} tabIndex={tile.tabIndex} isQuery={p.id === queryId} selected={isSelected(p.id)} onClick={onTileClick} />,
    [queryId, isSelected, onTileClick],
  );
  // Space toggles the focused photo, shift + arrows extend, Delete deletes (the selection, else the focused photo).
  const onItemKey = (e: KeyboardEvent<HTMLElement>, index: number, movedTo: number | null) => {
    const photo = photos[index];
    if (movedTo !== null) {
      if (e.shiftKey) selection.extendTo(photos[movedTo].id, photo.id);
    } else if (e.key === ' ') {
      e.preventDefault();
      selection.toggle(photo.id);
    } else if (e.key === 'Delete') {
      e.preventDefault();
      props.onDelete(selected ? selection.ids : [photo.id]);
    } else if (e.key === 'Escape' && selected) {
      e.preventDefault();
      selection.clear();
    }
  };
  return (
    <section className="panel collection" aria-labelledby="collection-title">
      <div className="panel-head">
        <div className="panel-title">
          <h2 id="collection-title">Collection</h2>
          {props.total > 0 && <span className="muted">Click a photo (or press Enter) to search with it · Ctrl/⌘-click or Space selects, Shift extends</span>}
        </div>
        {props.total > 0 && (
          <div className="panel-actions">
            <AddButtons size="small" onAddPhotos={props.onAddPhotos} onAddFolder={props.onAddFolder} />
            <button type="button" className="btn small" onClick={props.onExportIndex} disabled={props.transferring || !photos.some((p) => p.indexed)} data-testid="export-index" title="Save the descriptors, ids, names, model and photos as one NumPy .npz file">
              Export index
            </button>
            <button type="button" className="btn small" onClick={props.onImportIndex} disabled={props.transferring} data-testid="import-index" title="Add the photos of an exported index (.npz), already indexed">
              Import index
            </button>
            <button type="button" className="btn small ghost danger" onClick={props.onClear}>
              Clear collection
            </button>
          </div>
        )}
      </div>
      {props.problems.length > 0 && <Problems problems={props.problems} onDismiss={props.onDismissProblems} />}
      {props.filters}
      {selected > 0 && (
        <div className="selection-bar" role="toolbar" aria-label="Selected photos" data-testid="selection-bar" data-count={selected}>
          <strong>{selected} selected</strong>
          <button type="button" className="btn small danger" onClick={() => props.onDelete(selection.ids)} data-testid="delete-selected">
            Delete
          </button>
          <button type="button" className="btn small ghost" onClick={selection.clear}>
            Clear selection (Esc)
          </button>
        </div>
      )}
      {props.total === 0 ? (
        <div className="empty-state drop-hint" data-testid="collection-empty">
          <svg viewBox="0 0 48 48" aria-hidden="true" className="empty-icon">
            <rect x="6" y="10" width="36" height="28" rx="4" fill="none" stroke="currentColor" strokeWidth="2.5" />
            <circle cx="17" cy="20" r="3.5" fill="currentColor" />
            <path d="M9 35l10-10 7 7 5-5 8 8" fill="none" stroke="currentColor" strokeWidth="2.5" strokeLinejoin="round" />
          </svg>
          <p className="empty-title">{props.ready ? 'Drop photos or folders anywhere on this page' : 'Opening your collection…'}</p>
          <p className="muted">JPEG, PNG, WebP and anything else this browser can open. Folders are searched recursively.</p>
          <div className="empty-actions">
            <AddButtons onAddPhotos={props.onAddPhotos} onAddFolder={props.onAddFolder} />
            <button type="button" className="btn" onClick={props.onImportIndex} disabled={props.transferring} data-testid="import-index">
              Import index
            </button>
          </div>
          <p className="privacy">Your photos never leave this device: they are analysed in this browser and kept in its local storage.</p>
        </div>
      ) : (
        // Space on a button clicks it on keyup: the grid's Space selects instead.
        <div onKeyUp={(e) => e.key === ' ' && e.preventDefault()}>
          <VirtualGrid
            items={photos}
            itemKey={(p) => p.id}
            minCell={MIN_CELL}
            extraHeight={TILE_EXTRA}
            className="photo-grid"
            label="Photos in the collection"
            testId="collection-grid"
            onItemKey={onItemKey}
            renderTile={renderTile}
          />
        </div>
      )}
    </section>
  );
}

/** One tile of the collection; its thumbnail's object URL lives as long as the tile is rendered. */
const PhotoTile = memo(function PhotoTile(props: { photo: Photo; index: number; cell: number; tabIndex: number; isQuery: boolean; selected: boolean; onClick: (photo: Photo, e: MouseEvent) => void }) {
  const { photo: p, isQuery, selected, cell } = props;
  const thumbUrl = useThumbnailUrl(p);
  return (
    <button
      type="button"
      className={`photo-tile ${isQuery ? 'is-query' : ''} ${p.indexed ? '' : 'is-pending'} ${selected ? 'is-selected' : ''}`}
      onClick={(e) => props.onClick(p, e)}
      aria-label={`${p.name}${p.indexed ? '' : ' (not indexed yet)'}${selected ? ' (selected)' : ''}: search with this photo`}
      aria-pressed={isQuery}
      data-photo-id={p.id}
      data-photo-name={p.name}
      data-indexed={p.indexed ? 'true' : 'false'}
      data-selected={selected ? 'true' : undefined}
      data-grid-index={props.index}
      tabIndex={props.tabIndex}
    >
      <span className="tile-image" style={{ width: cell, height: cell }}>
        <PhotoFrame src={thumbUrl} imageWidth={p.thumbWidth} imageHeight={p.thumbHeight} maxWidth={cell} maxHeight={cell} alt="" />
        {!p.indexed && <span className="badge pending">Queued</span>}
        {isQuery && <span className="badge query">Query</span>}
        {selected && (
          <span className="tile-check" aria-hidden="true">
            ✓
          </span>
        )}
      </span>
      <span className="tile-name" title={p.path || p.name}>
        {p.name}
      </span>
    </button>
  );
});

function Problems({ problems, onDismiss }: { problems: FileProblem[]; onDismiss: () => void }) {
  return (
    <div className="problems" role="alert" data-testid="file-problems">
      <div className="problems-head">
        <strong>
          {problems.length} {problems.length === 1 ? 'file was' : 'files were'} not imported
        </strong>
        <button type="button" className="btn small ghost" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
      <ul>
        {problems.slice(0, 50).map((p, i) => (
          <li key={i} data-kind={p.kind ?? 'error'}>
            <span className="problem-name">{p.path || p.name}</span>
            <span className="muted"> — {p.message}</span>
          </li>
        ))}
        {problems.length > 50 && <li className="muted">and {problems.length - 50} more</li>}
      </ul>
    </div>
  );
}

/** The two ways to add photos, shown in the panel head and in the empty state. */
function AddButtons(props: { size?: 'small'; onAddPhotos: () => void; onAddFolder: () => void }) {
  const cls = props.size ? `btn ${props.size}` : 'btn';
  return (
    <>
      <button type="button" className={`${cls} primary`} onClick={props.onAddPhotos}>
        Add photos
      </button>
      <button type="button" className={cls} onClick={props.onAddFolder}>
        Add folder
      </button>
    </>
  );
}
