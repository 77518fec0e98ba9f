import { useEffect, useRef, useState } from 'react';
import type { ClassScore, Heatmap, ResultItem } from '../../worker-api/api';
import type { Photo } from '../engineStore';
import { percent } from '../format';
import { fitSize } from '../layout';
import { useThumbnailUrl } from '../thumbnails';
import type { HeatSettings } from './HeatmapControls';
import { PhotoFrame } from './PhotoFrame';
import { SCORE_KINDS } from '../scoreKinds';
import { overlayFor } from './ResultsSection';

/** One result, large: heatmap and re-ranking boxes over the photo, its own classes, region scores. */
export function ResultViewer(props: {
  result: ResultItem;
  photo: Photo;
  fullUrl: string | null;
  /** Why only the thumbnail is shown (a file gone from disk, permission needed). */
  fileNote?: string | null;
  heat: Heatmap | undefined;
  heatSettings: HeatSettings;
  heatClassName: string | null;
  classes: ClassScore[] | null;
  onSelectClass: (index: number) => void;
  onClose: () => void;
  onStep: (delta: number) => void;
  onUseAsQuery: () => void;
  /** Deletes this photo (undoable). */
  onDelete: () => void;
  hasPrev: boolean;
  hasNext: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [viewport, setViewport] = useState({ w: window.innerWidth, h: window.innerHeight });
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const onResize = () => setViewport({ w: window.innerWidth, h: window.innerHeight });
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  const { result: r, photo } = props;
  const thumbUrl = useThumbnailUrl(photo);
  const fit = fitSize(photo.width, photo.height, Math.min(900, viewport.w - 420), viewport.h - 160);
  const overlay = overlayFor(photo, r, props.heat, props.heatSettings);

  return (
    <dialog
      ref={ref}
      className="viewer"
      aria-labelledby="viewer-title"
      onClose={props.onClose}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight' && props.hasNext) props.onStep(1);
        else if (e.key === 'ArrowLeft' && props.hasPrev) props.onStep(-1);
      }}
      data-testid="viewer"
    >
      <div className="viewer-body">
        <div className="viewer-image">
          <PhotoFrame
            src={props.fullUrl ?? thumbUrl}
            imageWidth={photo.width}
            imageHeight={photo.height}
            maxWidth={fit.width}
            maxHeight={fit.height}
            alt={photo.name}
            overlay={overlay}
            overlayLabel={`Heatmap${props.heatClassName ? ` of ${props.heatClassName}` : ''} and re-ranking boxes`}
          />
        </div>
        <aside className="viewer-side">
          <div className="viewer-head">
            <span className="rank big">{r.rank}</span>
            <div>
              <h2 id="viewer-title" className="ellipsis" title={photo.path || photo.name}>
                {photo.name}
              </h2>
              {props.fileNote && (
                <p className="viewer-note" role="status" data-testid="viewer-photo-note">
                  {props.fileNote}
                </p>
              )}
              <p className="muted">
                Score {r.score.toFixed(3)}{' '}
                <span className="score-kind" data-testid="viewer-score-kind" title={SCORE_KINDS[r.scoreKind].explain}>
                  {SCORE_KINDS[r.scoreKind].label}
                </span>{' '}
                · {photo.width} × {photo.height}
              </p>
            </div>
          </div>
          {props.heatClassName && <p className="muted">Heatmap: {props.heatClassName}</p>}
          {r.rerank && (
            <div className="region-scores">
              <h3>Re-ranking regions</h3>
              <ol>
                {r.rerank.regionScores.map((s, i) => (
                  <li key={i} className={i === r.rerank!.best ? 'best' : ''}>
                    <span>Threshold {['0.01', '0.1', '0.2', '0.3', '0.4'][i] ?? i}</span>
                    <span>{s.toFixed(3)}</span>
                  </li>
                ))}
              </ol>
            </div>
          )}
          <div className="viewer-classes" data-testid="viewer-classes">
            <h3>This photo's top 5 classes</h3>
            {props.classes === null ? (
              <p className="muted">…</p>
            ) : (
              <ul>
                {props.classes.map((c) => (
                  <li key={c.index}>
                    <button type="button" className="link" onClick={() => props.onSelectClass(c.index)} title="Show this class's heatmap">
                      {c.name}
                    </button>
                    <span className="muted">{percent(c.probability)}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div className="viewer-actions">
            <button type="button" className="btn" onClick={() => props.onStep(-1)} disabled={!props.hasPrev} aria-label="Previous result">
              ← Previous
            </button>
            <button type="button" className="btn" onClick={() => props.onStep(1)} disabled={!props.hasNext} aria-label="Next result">
              Next →
            </button>
            <button type="button" className="btn primary" onClick={props.onUseAsQuery} title="Search with this photo" data-testid="viewer-more-like-this">
              More like this
            </button>
            <button type="button" className="btn ghost danger" onClick={props.onDelete} data-testid="viewer-delete" title="Delete this photo from the collection (undoable)">
              Delete
            </button>
            <button type="button" className="btn ghost" onClick={props.onClose} autoFocus>
              Close
            </button>
          </div>
        </aside>
      </div>
    </dialog>
  );
}
