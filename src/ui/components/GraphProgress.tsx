import type { GroupingProgress } from '../../worker-api/api';

/** The collection graph being built (near-duplicates and groups share it): progress, cancel, build again. */
export function GraphProgress(props: { progress: GroupingProgress; complete: boolean; onCancel: () => void; onContinue: () => void; onRebuild: () => void }) {
  const { progress: p, complete } = props;
  const running = p.state === 'running';
  const what = p.phase === 'region checks' ? 'Checking the regions of linked photos' : 'Comparing photos';
  return (
    <div className="graph-progress" data-testid="graph-progress" data-state={p.state} data-complete={complete ? 'true' : 'false'}>
      {running ? (
        <>
          <span>
            {what}: {p.done} of {p.total}
          </span>
          <progress max={Math.max(1, p.total)} value={p.done} aria-label={what} />
          <button type="button" className="btn small" onClick={props.onCancel} data-testid="graph-cancel">
            Cancel
          </button>
        </>
      ) : (
        <>
          <span className="muted">
            {p.state === 'cancelled' ? 'Stopped: these results cover the photos compared so far.' : complete ? 'Up to date with the collection.' : 'Partial: more photos to compare.'}
          </span>
          {p.state === 'cancelled' && (
            <button type="button" className="btn small" onClick={props.onContinue} data-testid="graph-continue">
              Continue
            </button>
          )}
          <button type="button" className="btn small ghost" onClick={props.onRebuild} data-testid="graph-rebuild" title="Compare every photo again from scratch">
            Rebuild
          </button>
        </>
      )}
    </div>
  );
}
