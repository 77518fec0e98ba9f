import type { FileProblem } from '../../worker/api';
import type { Photo } from '../engineStore';
import { useObjectUrl } from '../objectUrls';
import { useThumbnail } from '../thumbnails';
import { PhotoFrame } from './PhotoFrame';
import { VirtualGrid, type TileProps } from './VirtualGrid';

const MIN_CELL = 120;
/** A tile below its image: padding, the gap and the name line. */
const TILE_EXTRA = 40;

export function CollectionSection(props: {
  photos: Photo[];
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
  const { photos } = props;
  return (
    <section className="panel collection" aria-labelledby="collection-title">
      <div className="panel-head">
        <div className="panel-title">
          <h2 id="collection-title">Collection</h2>
          {photos.length > 0 && <span className="muted">Click a photo (or press Enter) to search with it</span>}
        </div>
        {photos.length > 0 && (
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
      {photos.length === 0 ? (
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
            <button type="button" className="btn" onClick={props.onImportIndex} disabled={props.transferring || !props.ready} data-testid="import-index">
              Import index
            </button>
          </div>
          <p className="privacy">Your photos never leave this device: they are analysed in this browser and kept in its local storage.</p>
        </div>
      ) : (
        <VirtualGrid
          items={photos}
          itemKey={(p) => p.id}
          minCell={MIN_CELL}
          extraHeight={TILE_EXTRA}
          className="photo-grid"
          label="Photos in the collection"
          testId="collection-grid"
          renderTile={(p, i, tile) => <PhotoTile photo={p} index={i} tile={tile} isQuery={p.id === props.queryId} onPick={props.onPick} />}
        />
      )}
    </section>
  );
}

/** One tile of the collection; its thumbnail's object URL lives as long as the tile is rendered. */
function PhotoTile(props: { photo: Photo; index: number; tile: TileProps; isQuery: boolean; onPick: (photo: Photo) => void }) {
  const { photo: p, isQuery } = props;
  const { cell, itemProps } = props.tile;
  const thumbUrl = useObjectUrl(useThumbnail(p));
  return (
    <button
      type="button"
      className={`photo-tile ${isQuery ? 'is-query' : ''} ${p.indexed ? '' : 'is-pending'}`}
      onClick={() => props.onPick(p)}
      aria-label={`${p.name}${p.indexed ? '' : ' (not indexed yet)'}: search with this photo`}
      aria-pressed={isQuery}
      data-photo-id={p.id}
      data-photo-name={p.name}
      data-indexed={p.indexed ? 'true' : 'false'}
      {...itemProps}
    >
      <span className="tile-image" style={{ width: cell, height: cell }}>
        <PhotoFrame src={thumbUrl} imageWidth={p.thumbWidth} imageHeight={p.thumbHeight} maxWidth={cell} maxHeight={cell} alt="" />
        {!p.indexed && <span className="badge pending">Queued</span>}
        {isQuery && <span className="badge query">Query</span>}
      </span>
      <span className="tile-name" title={p.path || p.name}>
        {p.name}
      </span>
    </button>
  );
}

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
