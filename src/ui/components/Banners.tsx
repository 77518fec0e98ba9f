// The page-wide alerts under the header: the app stopped, the model failed to load, the browser storage is full.
import type { ModelStatus } from '../../worker-api/api';

export function Banners(props: { fatal: string | null; model: ModelStatus; storageFull: string | null; onRetryModel: () => void; onDismissStorageFull: () => void }) {
  const { fatal, model, storageFull } = props;
  return (
    <>
      {fatal && (
        <div className="banner error" role="alert" data-testid="fatal">
          <span>{fatal}</span>
          <button type="button" className="btn small" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {model.state === 'error' && !fatal && (
        <div className="banner error" role="alert" data-testid="model-error-banner">
          <span>{model.message}</span>
          <button type="button" className="btn small primary" data-testid="model-retry" onClick={props.onRetryModel}>
            Try again
          </button>
          <button type="button" className="btn small" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      )}
      {storageFull && (
        <div className="banner error" role="alert" data-testid="storage-full">
          <span>
            {storageFull} Everything already in the collection is kept; importing and indexing stopped. Photos waiting to be indexed stay queued: free some
            space, then press Try again.
          </span>
          <button type="button" className="btn small ghost" onClick={props.onDismissStorageFull}>
            Dismiss
          </button>
        </div>
      )}
    </>
  );
}
