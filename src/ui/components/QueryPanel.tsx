import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { PixelRect, QueryImage } from '../../worker-api/api';
import { collectDrop, dragHasFiles } from '../importFiles';
import { fitSize, useElementWidth } from '../layout';
import type { OverlayContent } from '../overlay';
import { BoxEditor } from './BoxEditor';
import { PhotoFrame } from './PhotoFrame';

export interface QueryView {
  image: QueryImage;
  url: string;
}

const MAX_QUERY_HEIGHT = 360;

export function QueryPanel(props: {
  query: QueryView | null;
  loading: boolean;
  box: PixelRect | null;
  onBox: (box: PixelRect) => void;
  boxDirty: boolean;
  onSearch: () => void;
  searching: boolean;
  canSearch: boolean;
  onDropFile: (file: File) => void;
  onPickFile: () => void;
  onClear: () => void;
  overlay: OverlayContent | null;
  error: string | null;
  /** The query photo was deleted from the collection (it stays open here). */
  deleted?: boolean;
  children?: ReactNode;
}) {
  const stage = useRef<HTMLDivElement>(null);
  const stageWidth = useElementWidth(stage);
  const [dragging, setDragging] = useState(false);
  const { query, box } = props;

  const onDragOver = (e: DragEvent) => {
    if (!dragHasFiles(e.dataTransfer)) return;
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    setDragging(false);
    void collectDrop(e.dataTransfer).then((files) => {
      if (files[0]) props.onDropFile(files[0].file);
    });
  };

  const valid = !!box && box.x2 > box.x1 && box.y2 > box.y1;
  const fit = query ? fitSize(query.image.width, query.image.height, Math.max(1, stageWidth), MAX_QUERY_HEIGHT) : null;

  return (
    <section
      className={`panel query-panel ${dragging ? 'drag-over' : ''}`}
      aria-labelledby="query-title"
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="query-drop"
    >
      <div className="panel-head">
        <h2 id="query-title">Query</h2>
        {query && (
          <button type="button" className="btn small ghost" onClick={props.onClear}>
            Clear
          </button>
        )}
      </div>
      <div className="query-stage" ref={stage}>
        {!query ? (
          <div className="empty-state query-empty">
            <p className="empty-title">{props.loading ? 'Opening the photo…' : 'What are you looking for?'}</p>
            <p className="muted">Click a photo in the collection, or drop a photo here: it is searched for without being added.</p>
            <button type="button" className="btn" onClick={props.onPickFile}>
              Choose a query photo…
            </button>
          </div>
        ) : (
          fit && (
            <PhotoFrame
              src={query.url}
              imageWidth={query.image.width}
              imageHeight={query.image.height}
              maxWidth={fit.width}
              maxHeight={fit.height}
              alt={`Query: ${query.image.name}`}
              overlay={props.overlay}
              overlayLabel="Heatmap over the query photo"
              className="query-frame"
            >
              {box && <BoxEditor scale={fit.scale} imageWidth={query.image.width} imageHeight={query.image.height} box={box} onChange={props.onBox} />}
            </PhotoFrame>
          )
        )}
      </div>
      {query && box && (
        <>
          <p className="query-name" title={query.image.name}>
            <span className="ellipsis">{query.image.name}</span>
            <span className="muted">
              {query.image.width} × {query.image.height}
            </span>
          </p>
          <fieldset className="box-fields">
            <legend>Query box · pixels (drag on the photo to draw)</legend>
            {(['x1', 'y1', 'x2', 'y2'] as const).map((k) => (
              <label key={k}>
                <span>{{ x1: 'Left', y1: 'Top', x2: 'Right', y2: 'Bottom' }[k]}</span>
                <input
                  type="number"
                  inputMode="numeric"
                  min={0}
                  max={k === 'x1' || k === 'x2' ? query.image.width : query.image.height}
                  value={Math.round(box[k])}
                  onChange={(e) => {
                    const v = Number(e.target.value);
                    if (Number.isFinite(v)) props.onBox({ ...box, [k]: v });
                  }}
                  data-testid={`box-${k}`}
                />
              </label>
            ))}
            <button type="button" className="btn small ghost" onClick={() => props.onBox({ x1: 0, y1: 0, x2: query.image.width, y2: query.image.height })}>
              Whole photo
            </button>
          </fieldset>
          {!valid && <p className="error-text">The box is empty: right must be greater than left, bottom greater than top.</p>}
          <button
            type="button"
            className={`btn search-btn ${props.boxDirty ? 'primary' : ''}`}
            onClick={props.onSearch}
            disabled={!valid || props.searching || !props.canSearch}
            data-testid="search"
          >
            {props.searching ? 'Searching…' : props.boxDirty ? 'Search with this box' : 'Search again'}
          </button>
        </>
      )}
      {props.deleted && (
        <p className="query-deleted" data-testid="query-deleted">
          This photo was deleted from the collection: it stays open for this query, but cannot be opened from the collection again (Undo brings it back).
        </p>
      )}
      {props.error && (
        <p className="error-text" role="alert">
          {props.error}
        </p>
      )}
      {props.children}
    </section>
  );
}
