import { useCallback, useState } from 'react';
import type { DuplicateGroup, DuplicatePair, DuplicatesReport, GroupingProgress, PhotoFacts } from '../../worker-api/api';
import type { EngineStore, Photo } from '../engineStore';
import { formatBytes } from '../format';
import type { Deletions } from '../hooks/useDeletion';
import { useCollectionReport } from '../hooks/useCollectionReport';
import { useThumbnailUrl } from '../thumbnails';
import { GraphProgress } from './GraphProgress';
import { PhotoFrame } from './PhotoFrame';

/** The threshold slider's range: the worker's candidate pairs start at 0.8 (DuplicatesReport.candidateSim). */
const MIN = 0.8;
const DEFAULT = 0.85;
const MEMBER_SIDE = 220;
/** Groups rendered at once (largest first); the rest behind "Show more". */
const PAGE = 30;

/** Near-duplicate review (Immich/digiKam style): threshold with live counts, groups side by side, keep one. */
export function DuplicatesView(props: { store: EngineStore; photos: ReadonlyMap<string, Photo>; photosKey: string; grouping: GroupingProgress; deletions: Deletions }) {
  const { store, deletions } = props;
  const [threshold, setThreshold] = useState(DEFAULT);
  const [shown, setShown] = useState(PAGE);
  const fetch = useCallback((wait: boolean) => store.api.duplicates({ threshold, wait }), [store, threshold]);
  const { report, error, refresh } = useCollectionReport<DuplicatesReport>(true, props.photosKey, props.grouping, fetch);
  const live = report?.counts.find((c) => Math.abs(c.threshold - threshold) < 0.005);
  const stale = !!report && Math.abs(report.threshold - threshold) > 0.005;
  const groups = report?.groups.filter((g) => g.members.every((m) => props.photos.has(m.id))) ?? [];

  const removeRest = (g: DuplicateGroup) => {
    const rest = g.members.filter((m) => m.id !== g.keep);
    void deletions.remove(
      rest.map((m) => m.id),
      rest.length === 1 ? rest[0].name : `${rest.length} near-duplicates of ${g.members.find((m) => m.id === g.keep)?.name ?? 'a photo'}`,
    );
  };

  return (
    <section className="panel duplicates" aria-labelledby="duplicates-title" data-testid="duplicates-view">
      <div className="panel-head">
        <div className="panel-title">
          <h2 id="duplicates-title">Near-duplicates</h2>
          <span className="muted">The same shot resized, re-encoded, slightly cropped or edited. Green cells: regions that match.</span>
        </div>
      </div>
      <GraphProgress progress={props.grouping} complete={report?.complete ?? false} onCancel={() => void store.run('Cancelling', (api) => api.cancelGrouping())} onContinue={refresh} onRebuild={() => void store.run('Rebuilding', (api) => api.rebuildGroups())} />
      <div className="dup-threshold">
        <label htmlFor="dup-threshold">Similarity threshold</label>
        <input id="dup-threshold" type="range" min={MIN} max={1} step={0.01} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} data-testid="dup-threshold" />
        <output htmlFor="dup-threshold" className="dup-threshold-value">
          {threshold.toFixed(2)}
        </output>
        <span className="dup-counts" data-testid="dup-counts" data-groups={live?.groups ?? ''} data-photos={live?.photos ?? ''} aria-live="polite">
          {live ? `${live.groups} ${live.groups === 1 ? 'group' : 'groups'}, ${live.photos} photos` : '…'}
        </span>
      </div>
      {error && <p className="error-text">Near-duplicates could not be read: {error}</p>}
      {report && groups.length === 0 && !stale && <p className="muted" data-testid="dup-none">No near-duplicates at this threshold{report.complete ? '' : ' among the photos compared so far'}.</p>}
      <div className={`dup-groups ${stale ? 'is-stale' : ''}`} data-testid="dup-groups" data-threshold={report?.threshold ?? ''} data-count={groups.length}>
        {groups.slice(0, shown).map((g) => (
          <DuplicateCard key={g.id} group={g} photos={props.photos} busy={deletions.busy} onRemoveRest={() => removeRest(g)} onRemove={(m) => void deletions.remove([m.id], m.name)} />
        ))}
      </div>
      {groups.length > shown && (
        <button type="button" className="btn" onClick={() => setShown((n) => n + PAGE)}>
          Show {Math.min(PAGE, groups.length - shown)} more of {groups.length - shown}
        </button>
      )}
    </section>
  );
}

function DuplicateCard(props: { group: DuplicateGroup; photos: ReadonlyMap<string, Photo>; busy: boolean; onRemoveRest: () => void; onRemove: (m: PhotoFacts) => void }) {
  const { group: g } = props;
  const best = Math.max(...g.pairs.map((p) => p.score));
  return (
    <article className="dup-group" data-testid="dup-group" data-group-id={g.id} data-keep={g.keep} data-size={g.members.length}>
      <header className="dup-group-head">
        <strong>{g.members.length} photos</strong>
        <span className="muted">best score {best.toFixed(3)}</span>
        <button type="button" className="btn small primary" onClick={props.onRemoveRest} disabled={props.busy} data-testid="dup-keep-suggested">
          Keep suggested, remove the rest ({g.members.length - 1})
        </button>
      </header>
      <div className="dup-members">
        {g.members.map((m) => (
          <DuplicateMember key={m.id} facts={m} photo={props.photos.get(m.id)} keep={m.id === g.keep} pair={pairFor(g, m.id)} busy={props.busy} onRemove={() => props.onRemove(m)} />
        ))}
      </div>
    </article>
  );
}

/** The pair whose regions a member shows: the one with the suggested keep, else its best-scoring one. */
function pairFor(g: DuplicateGroup, id: string): DuplicatePair | undefined {
  const own = g.pairs.filter((p) => p.a === id || p.b === id);
  return own.find((p) => p.a === g.keep || p.b === g.keep) ?? own.sort((x, y) => y.score - x.score)[0];
}

function DuplicateMember(props: { facts: PhotoFacts; photo: Photo | undefined; keep: boolean; pair: DuplicatePair | undefined; busy: boolean; onRemove: () => void }) {
  const { facts: m, photo, pair } = props;
  const url = useThumbnailUrl(photo);
  const other = pair && (pair.a === m.id ? pair.b : pair.a);
  return (
    <figure className={`dup-member ${props.keep ? 'is-keep' : ''}`} data-testid="dup-member" data-photo-id={m.id} data-keep={props.keep ? 'true' : 'false'}>
      <div className="dup-image">
        <PhotoFrame src={url} imageWidth={photo?.width ?? m.width} imageHeight={photo?.height ?? m.height} maxWidth={MEMBER_SIDE} maxHeight={MEMBER_SIDE} alt={m.name}>
          {pair && <MatchedCells cells={pair.cells} label={`Regions matching ${other ? 'the other photo' : ''}: layout ${pair.layout.toFixed(2)}`} />}
        </PhotoFrame>
        {props.keep && <span className="badge keep">Suggested keep</span>}
      </div>
      <figcaption>
        <span className="dup-name" title={m.path || m.name}>
          {m.name}
        </span>
        <span className="dup-facts">
          {formatBytes(m.bytes)} · {m.width} × {m.height}
        </span>
        <span className="dup-facts">
          {m.type.replace('image/', '').toUpperCase()} · added {new Date(m.addedAt).toLocaleDateString()}
        </span>
        {pair && (
          <span className="dup-facts" title="Similarity of the descriptors · mean of the 16 region cosines">
            sim {pair.similarity.toFixed(3)} · regions {pair.layout.toFixed(3)}
          </span>
        )}
        <button type="button" className="btn small ghost danger" onClick={props.onRemove} disabled={props.busy} data-testid="dup-remove">
          Remove
        </button>
      </figcaption>
    </figure>
  );
}

/**
 * The 4 x 4 region check drawn over a photo: each cell tinted by how well the two photos' features agree there
 * (DuplicatePair.cells, row-major); cells that differ (a crop, an edit) are dimmed.
 */
function MatchedCells({ cells, label }: { cells: number[]; label: string }) {
  return (
    <div className="matched-cells" role="img" aria-label={label} data-testid="matched-cells">
      {cells.map((c, i) => (
        <span
          key={i}
          className={c >= 0.8 ? 'cell match' : 'cell differs'}
          style={{ opacity: c >= 0.8 ? 0.08 + 0.22 * ((c - 0.8) / 0.2) : 0.3 + 0.4 * Math.min(1, (0.8 - c) / 0.4) }}
          title={`cosine ${c.toFixed(2)}`}
          data-cosine={c.toFixed(3)}
        />
      ))}
    </div>
  );
}
