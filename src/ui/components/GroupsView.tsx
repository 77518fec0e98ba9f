import { useCallback, useState } from 'react';
import type { GroupingProgress, GroupsReport, Heatmap, PlaceGroup } from '../../worker-api/api';
import type { EngineStore, Photo } from '../engineStore';
import { useCollectionReport } from '../hooks/useCollectionReport';
import { useGroupHeatmaps } from '../hooks/useGroupHeatmaps';
import { useThumbnailUrl } from '../thumbnails';
import { GraphProgress } from './GraphProgress';
import { PhotoFrame } from './PhotoFrame';

const CARD_SIDE = 168;
const MEMBER_SIDE = 150;
/** Groups rendered at once (largest first); the rest behind "Show more". */
const PAGE = 48;

/** Groups of the same place or object (Google Photos stacks, Ente's similar images), largest first. */
export function GroupsView(props: {
  store: EngineStore;
  photos: ReadonlyMap<string, Photo>;
  photosKey: string;
  grouping: GroupingProgress;
  onSearchWithin: (group: PlaceGroup) => void;
  onPickPhoto: (id: string) => void;
}) {
  const { store } = props;
  const fetch = useCallback((wait: boolean) => store.api.groups({ wait }), [store]);
  const { report, error, refresh } = useCollectionReport<GroupsReport>(true, props.photosKey, props.grouping, fetch);
  const [openId, setOpenId] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const groups = report?.groups ?? [];
  const opened = groups.find((g) => g.id === openId) ?? null;

  return (
    <section className="panel groups" aria-labelledby="groups-title" data-testid="groups-view">
      <div className="panel-head">
        <div className="panel-title">
          <h2 id="groups-title">Groups</h2>
          <span className="muted">Photos of the same place or object: mutual nearest neighbours whose regions agree.</span>
        </div>
        {report && (
          <span className="muted" data-testid="groups-summary">
            {groups.length} groups · {report.ungrouped} photos in none
          </span>
        )}
      </div>
      <GraphProgress progress={props.grouping} complete={report?.complete ?? false} onCancel={() => void store.run('Cancelling', (api) => api.cancelGrouping())} onContinue={refresh} onRebuild={() => void store.run('Rebuilding', (api) => api.rebuildGroups())} />
      {error && <p className="error-text">The groups could not be read: {error}</p>}
      {opened ? (
        <GroupDetail store={store} group={opened} photos={props.photos} onBack={() => setOpenId(null)} onSearchWithin={() => props.onSearchWithin(opened)} onPickPhoto={props.onPickPhoto} />
      ) : (
        <>
          {report && groups.length === 0 && <p className="muted">No groups yet: they need several photos of the same place or object.</p>}
          <ul className="group-cards" data-testid="group-cards" data-count={groups.length}>
            {groups.slice(0, shown).map((g) => (
              <li key={g.id}>
                <GroupCard group={g} photo={props.photos.get(g.representative)} onOpen={() => setOpenId(g.id)} />
              </li>
            ))}
          </ul>
          {groups.length > shown && (
            <button type="button" className="btn" onClick={() => setShown((n) => n + PAGE)}>
              Show {Math.min(PAGE, groups.length - shown)} more of {groups.length - shown}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function GroupCard({ group: g, photo, onOpen }: { group: PlaceGroup; photo: Photo | undefined; onOpen: () => void }) {
  const url = useThumbnailUrl(photo);
  return (
    <button type="button" className="group-card" onClick={onOpen} aria-label={`Group of ${g.count} photos like ${photo?.name ?? 'this photo'}: open`} data-testid="group-card" data-group-id={g.id} data-count={g.count}>
      <span className="tile-image" style={{ width: CARD_SIDE, height: CARD_SIDE }}>
        {photo && <PhotoFrame src={url} imageWidth={photo.thumbWidth} imageHeight={photo.thumbHeight} maxWidth={CARD_SIDE} maxHeight={CARD_SIDE} alt="" />}
        <span className="badge count">{g.count}</span>
      </span>
      <span className="tile-name" title={photo?.path || photo?.name}>
        {photo?.name ?? '…'}
      </span>
      <span className="group-sim">mean similarity {g.meanSim.toFixed(2)}</span>
    </button>
  );
}

function GroupDetail(props: { store: EngineStore; group: PlaceGroup; photos: ReadonlyMap<string, Photo>; onBack: () => void; onSearchWithin: () => void; onPickPhoto: (id: string) => void }) {
  const { group: g } = props;
  const [showHeat, setShowHeat] = useState(true);
  const heat = useGroupHeatmaps(props.store, g, showHeat);
  return (
    <div className="group-detail" data-testid="group-detail" data-group-id={g.id} data-count={g.count}>
      <div className="group-detail-head">
        <button type="button" className="btn small" onClick={props.onBack} data-testid="group-back">
          ← All groups
        </button>
        <strong>{g.count} photos</strong>
        <label className="check">
          <input type="checkbox" checked={showHeat} onChange={(e) => setShowHeat(e.target.checked)} />
          Heatmaps{heat.cls ? ` of ${heat.cls.name}` : ''}
        </label>
        <button type="button" className="btn small primary" onClick={props.onSearchWithin} data-testid="group-search-within">
          Search within this group
        </button>
      </div>
      <ul className="group-members">
        {g.members.map((id) => (
          <li key={id}>
            <GroupMember id={id} photo={props.photos.get(id)} heat={showHeat ? heat.maps.get(id) : undefined} representative={id === g.representative} onPick={() => props.onPickPhoto(id)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function GroupMember(props: { id: string; photo: Photo | undefined; heat: Heatmap | undefined; representative: boolean; onPick: () => void }) {
  const { photo } = props;
  const url = useThumbnailUrl(photo);
  if (!photo) return null;
  const overlay = props.heat ? { imageWidth: photo.width, imageHeight: photo.height, heat: props.heat, opacity: 0.5 } : null;
  return (
    <button type="button" className="photo-tile" onClick={props.onPick} aria-label={`${photo.name}: search with this photo`} data-testid="group-member" data-photo-id={props.id} data-heatmap={props.heat ? 'true' : 'false'}>
      <span className="tile-image" style={{ width: MEMBER_SIDE, height: MEMBER_SIDE }}>
        <PhotoFrame src={url} imageWidth={photo.width} imageHeight={photo.height} maxWidth={MEMBER_SIDE} maxHeight={MEMBER_SIDE} alt="" overlay={overlay} />
        {props.representative && <span className="badge">Representative</span>}
      </span>
      <span className="tile-name" title={photo.path || photo.name}>
        {photo.name}
      </span>
    </button>
  );
}
