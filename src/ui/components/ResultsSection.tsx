import { useRef } from 'react';
import type { Heatmap, ResultItem, SearchResponse } from '../../worker/api';
import type { Photo } from '../engineStore';
import { formatMs } from '../format';
import { useGridNavigation } from '../gridNavigation';
import { gridCells, useElementWidth } from '../layout';
import type { OverlayContent } from '../overlay';
import type { HeatSettings } from './HeatmapControls';
import { PhotoFrame } from './PhotoFrame';

const MIN_CELL = 140;
const GAP = 12;
export const PAGE = 48;

export function overlayFor(photo: Pick<Photo, 'width' | 'height'>, result: ResultItem | undefined, heat: Heatmap | undefined, s: HeatSettings): OverlayContent {
  return {
    imageWidth: photo.width,
    imageHeight: photo.height,
    heat: s.show ? heat : null,
    opacity: s.opacity,
    boxes: result?.rerank ? { rects: result.rerank.boxes, best: result.rerank.best, showAll: s.allBoxes } : null,
  };
}

export function ResultsSection(props: {
  response: SearchResponse;
  photos: Map<string, Photo>;
  heatmaps: Map<string, Heatmap>;
  heat: HeatSettings;
  shown: number;
  onShowMore: () => void;
  onOpen: (result: ResultItem) => void;
  searching: boolean;
}) {
  const { response } = props;
  const results = response.results.filter((r) => props.photos.has(r.id));
  const visible = results.slice(0, props.shown);
  const nav = useGridNavigation(visible.length);
  const gridRef = useRef<HTMLOListElement>(null);
  const { columns, cell: CELL } = gridCells(useElementWidth(gridRef), MIN_CELL, GAP);
  const c = response.controls;
  const settings = [
    c.aggregation === 'offline' ? 'OfA' : 'OnA',
    `NC ${c.nc}`,
    c.rerank ? `re-ranked top ${c.rerank}` : null,
    c.qe ? `QE ${c.qe}` : null,
  ].filter(Boolean);

  return (
    <section className={`panel results ${props.searching ? 'is-stale' : ''}`} aria-labelledby="results-title" aria-busy={props.searching}>
      <div className="panel-head">
        <h2 id="results-title">Results</h2>
        <span className="muted" data-testid="results-summary">
          {response.searched} {response.searched === 1 ? "photo" : "photos"} searched · {settings.join(' · ')} · {formatMs(response.timings.totalMs)}
        </span>
      </div>
      {results.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">Nothing to search yet</p>
          <p className="muted">Results appear here once photos of the collection are indexed.</p>
        </div>
      ) : (
        <>
          <ol
            ref={gridRef}
            className="result-grid"
            style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}
            aria-label="Results, best match first"
            onKeyDown={nav.onKeyDown}
            data-testid="results-grid"
          >
            {visible.map((r, i) => {
              const photo = props.photos.get(r.id)!;
              const overlay = overlayFor(photo, r, props.heatmaps.get(r.id), props.heat);
              return (
                <li key={r.id} className="grid-cell">
                  <button
                    type="button"
                    className="result-card"
                    onClick={() => props.onOpen(r)}
                    aria-label={`Rank ${r.rank}: ${photo.name}, score ${r.score.toFixed(3)}. Open`}
                    data-result-id={r.id}
                    data-result-name={photo.name}
                    data-rank={r.rank}
                    {...nav.itemProps(i)}
                  >
                    <span className="tile-image" style={{ width: CELL, height: CELL }}>
                      <PhotoFrame src={photo.thumbUrl} imageWidth={photo.width} imageHeight={photo.height} maxWidth={CELL} maxHeight={CELL} alt="" overlay={overlay} />
                      <span className="rank">{r.rank}</span>
                    </span>
                    <span className="result-meta">
                      <span className="score" title="Cosine similarity">
                        {r.score.toFixed(3)}
                      </span>
                      <span className="score-bar" aria-hidden="true">
                        <span style={{ width: `${Math.max(0, Math.min(1, r.score)) * 100}%` }} />
                      </span>
                    </span>
                    <span className="tile-name" title={photo.path || photo.name}>
                      {photo.name}
                    </span>
                  </button>
                </li>
              );
            })}
          </ol>
          {results.length > visible.length && (
            <button type="button" className="btn show-more" onClick={props.onShowMore}>
              Show more ({results.length - visible.length} left)
            </button>
          )}
        </>
      )}
    </section>
  );
}
