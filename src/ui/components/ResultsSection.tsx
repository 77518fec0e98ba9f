import { memo, useCallback, useMemo } from 'react';
import type { Heatmap, ResultItem, SearchResponse } from '../../worker-api/api';
import type { Photo } from '../engineStore';
import { formatMs } from '../format';
import { useStableCallback } from '../hooks/useStableCallback';
import { useThumbnailUrl } from '../thumbnails';
import type { OverlayContent } from '../overlay';
import type { ScopeView } from '../hooks/useSearchSession';
import type { HeatSettings } from './HeatmapControls';
import { PhotoFrame } from './PhotoFrame';
import { ResultFilters } from './ResultFilters';
import { SCORE_KINDS } from '../scoreKinds';
import { VirtualGrid, type TileProps } from './VirtualGrid';

const MIN_CELL = 140;
/** A result card below its image: padding, gaps, the score line and the name line. */
const CARD_EXTRA = 64;

export function overlayFor(photo: Pick<Photo, 'width' | 'height'>, result: ResultItem | undefined, heat: Heatmap | undefined, s: HeatSettings): OverlayContent | null {
  // Nothing to draw (the map not here yet, no boxes): no canvas at all, as most cards are while scrolling fast.
  if (!(s.show && heat) && !result?.rerank) return null;
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
  photos: ReadonlyMap<string, Photo>;
  heatmaps: Map<string, Heatmap>;
  heat: HeatSettings;
  /** Told which results are on screen (their heatmaps are fetched). */
  onRange: (first: number, last: number) => void;
  onOpen: (result: ResultItem) => void;
  /** Searches with this result's photo. */
  onMoreLikeThis: (id: string) => void;
  searching: boolean;
  scope: ScopeView | null;
  onClearScope: () => void;
  minScore: number;
  onMinScore: (v: number) => void;
}) {
  const { response, photos, heatmaps, heat } = props;
  const results = useMemo(() => response.results.filter((r) => photos.has(r.id)), [response, photos]);
  const onOpen = useStableCallback(props.onOpen);
  const onMoreLikeThis = useStableCallback(props.onMoreLikeThis);
  // Stable while the photos, the maps on screen and the settings stay: the memoised cards skip the grid's re-renders.
  const renderTile = useCallback(
    (r: ResultItem, index: number, tile: TileProps) => (
      <ResultTile result={r} photo={photos.get(r.id)!} heatmap={heatmaps.get(r.id)} heat={heat} index={index} cell={tile.cell} tabIndex={tile.tabIndex} onOpen={onOpen} onMoreLikeThis={onMoreLikeThis} />
    ),
    [photos, heatmaps, heat, onOpen, onMoreLikeThis],
  );
  const c = response.controls;
  const settings = [
    c.aggregation === 'offline' ? 'OfA' : c.onlineShortlist ? `OnA of top ${c.onlineShortlist}` : 'OnA',
    `NC ${c.nc}`,
    c.superGlobal ? `SuperGlobal ${c.superGlobal}` : null,
    c.rerank ? `re-ranked top ${c.rerank}` : null,
    c.qe ? `${c.qeAlpha ? `alpha-QE ${c.qe}` : `QE ${c.qe}`}${c.qeNeighbours === 'reciprocal' ? ' (reciprocal)' : c.qeNeighbours === 'gap' ? ' (gap)' : ''}${c.qeSource === 'region' && c.rerank ? ' (regions)' : ''}` : null,
    c.diffusion ? `diffusion ${c.diffusion}` : null,
  ].filter(Boolean);

  return (
    <section className={`panel results ${props.searching ? 'is-stale' : ''}`} aria-labelledby="results-title" aria-busy={props.searching}>
      <div className="panel-head">
        <h2 id="results-title">Results</h2>
        <span className="muted" data-testid="results-summary">
          {response.searched} {response.searched === 1 ? "photo" : "photos"} searched · {settings.join(' · ')} · {formatMs(response.timings.totalMs)}
          {response.total > response.results.length && <span data-testid="results-loaded"> · {response.results.length} of {response.total} shown (more as you scroll)</span>}
        </span>
      </div>
      <ResultFilters scope={props.scope} onClearScope={props.onClearScope} minScore={props.minScore} onMinScore={props.onMinScore} belowMinScore={response.belowMinScore} />
      {results.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">{response.belowMinScore > 0 ? 'Every result scores below the minimum' : response.searched === 0 && props.scope ? `Nothing indexed within ${props.scope.label}` : 'Nothing to search yet'}</p>
          <p className="muted">{response.belowMinScore > 0 ? 'Lower the minimum score to see them.' : 'Results appear here once photos of the collection are indexed.'}</p>
        </div>
      ) : (
        <VirtualGrid
          items={results}
          itemKey={(r) => r.id}
          minCell={MIN_CELL}
          extraHeight={CARD_EXTRA}
          className="result-grid"
          label="Results, best match first"
          testId="results-grid"
          onRange={props.onRange}
          renderTile={renderTile}
        />
      )}
    </section>
  );
}

type CardProps = { result: ResultItem; photo: Photo; heatmap: Heatmap | undefined; heat: HeatSettings; index: number; cell: number; tabIndex: number; onOpen: (r: ResultItem) => void };

/** A result's card and its "More like this"; re-rendered only when its own props change. */
const ResultTile = memo(function ResultTile(props: CardProps & { onMoreLikeThis: (id: string) => void }) {
  const { onMoreLikeThis, ...card } = props;
  return (
    <div className="result-tile">
      <ResultCard {...card} />
      {/* Out of the tab order: keyboard users open the result (Enter) and use the viewer's button. */}
      <button type="button" className="more-like-this" tabIndex={-1} onClick={() => onMoreLikeThis(props.result.id)} data-testid="more-like-this">
        More like this
      </button>
    </div>
  );
});

/** One result: rank, thumbnail with its heatmap and re-ranking boxes, score and name. */
function ResultCard(props: CardProps) {
  const { result: r, photo, cell } = props;
  const thumbUrl = useThumbnailUrl(photo);
  // Kept while its inputs stay: a new object would redraw the card's canvas on every render of the results.
  const { heatmap, heat } = props;
  const overlay = useMemo(() => overlayFor(photo, r, heatmap, heat), [photo, r, heatmap, heat]);
  return (
    <button
      type="button"
      className="result-card"
      onClick={() => props.onOpen(r)}
      aria-label={`Rank ${r.rank}: ${photo.name}, ${SCORE_KINDS[r.scoreKind].label} score ${r.score.toFixed(3)}. Open`}
      data-result-id={r.id}
      data-result-name={photo.name}
      data-rank={r.rank}
      data-grid-index={props.index}
      tabIndex={props.tabIndex}
    >
      <span className="tile-image" style={{ width: cell, height: cell }}>
        <PhotoFrame src={thumbUrl} imageWidth={photo.width} imageHeight={photo.height} maxWidth={cell} maxHeight={cell} alt="" overlay={overlay} />
        <span className="rank">{r.rank}</span>
      </span>
      <span className="result-meta">
        <span className="score" title={SCORE_KINDS[r.scoreKind].explain}>
          {r.score.toFixed(3)}
        </span>
        <span className="score-kind" data-testid="score-kind" title={SCORE_KINDS[r.scoreKind].explain}>
          {SCORE_KINDS[r.scoreKind].label}
        </span>
        <span className="score-bar" aria-hidden="true">
          <span style={{ width: `${Math.max(0, Math.min(1, r.score)) * 100}%` }} />
        </span>
      </span>
      <span className="tile-name" title={photo.path || photo.name}>
        {photo.name}
      </span>
    </button>
  );
}
