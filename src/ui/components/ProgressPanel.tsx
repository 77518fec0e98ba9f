import type { IndexProgress, ModelStatus } from '../../worker-api/api';
import { formatBytes, formatDuration, formatRate } from '../format';

export function ProgressPanel(props: {
  progress: IndexProgress;
  model: ModelStatus;
  modelName: string;
  unindexed: number;
  onCancel: () => void;
  onResume: () => void;
  onRemoveUnindexed: () => void;
}) {
  const { progress: p, model } = props;
  const running = p.state === 'running' && p.total > 0;
  const loadingModel = model.state === 'loading';
  const paused = p.state === 'paused' && props.unindexed > 0;
  const waiting = p.state === 'waiting';
  if (!running && !loadingModel && !paused && !waiting && p.reading === 0 && p.state !== 'error') return null;

  const fraction = p.total ? p.done / p.total : 0;
  return (
    <section className="progress-panel" aria-label="Indexing progress" data-testid="progress" data-state={p.state}>
      <div className="progress-text" role="status" aria-live="polite">
        {loadingModel && (
          <span>
            Loading {props.modelName}
            {model.bytes ? ` · ${formatBytes(model.bytes)}` : ''}
            {model.fromNetwork === false ? ' from this device' : ''}…
          </span>
        )}
        {!loadingModel && running && (
          <span>
            <strong>
              Indexing {p.done} / {p.total}
            </strong>
            <span className="sep">·</span>
            <span data-testid="rate">{formatRate(p.imagesPerSecond)} photos/s</span>
            <span className="sep">·</span>
            <span>{p.etaSeconds != null ? `about ${formatDuration(p.etaSeconds)} left` : 'estimating time left…'}</span>
            {p.current && (
              <>
                <span className="sep">·</span>
                <span className="current" title={p.current}>
                  {p.current}
                </span>
              </>
            )}
          </span>
        )}
        {!loadingModel && paused && (
          <span>
            Indexing paused · {props.unindexed} {props.unindexed === 1 ? 'photo is' : 'photos are'} not indexed yet
          </span>
        )}
        {!loadingModel && waiting && (
          <span data-testid="waiting">
            Another tab of this app is indexing this collection · its progress shows here, and this tab takes over if that tab is closed
            {props.unindexed > 0 ? ` · ${props.unindexed} ${props.unindexed === 1 ? 'photo' : 'photos'} to go` : ''}
          </span>
        )}
        {p.state === 'error' && <span className="error-text">Indexing stopped: {p.message}</span>}
        {p.reading > 0 && <span className="reading">Reading {p.reading} {p.reading === 1 ? 'file' : 'files'}…</span>}
      </div>
      <div className="progress-row">
        <div
          className={`progress-bar ${loadingModel && !running ? 'indeterminate' : ''}`}
          role="progressbar"
          aria-label="Photos indexed"
          aria-valuemin={0}
          aria-valuemax={p.total || 1}
          aria-valuenow={p.done}
        >
          <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
        </div>
        {running && (
          <button type="button" className="btn small" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        {p.state === 'error' && (
          <button type="button" className="btn small primary" onClick={props.onResume}>
            Try again
          </button>
        )}
        {paused && (
          <>
            <button type="button" className="btn small primary" onClick={props.onResume}>
              Resume
            </button>
            <button type="button" className="btn small ghost danger" onClick={props.onRemoveUnindexed}>
              Remove them
            </button>
          </>
        )}
      </div>
    </section>
  );
}
