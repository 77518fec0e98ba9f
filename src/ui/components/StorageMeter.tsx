import { useEffect, useState } from 'react';
import { formatBytes } from '../format';

interface Estimate {
  usage: number;
  quota: number;
  persisted: boolean;
}

/** This site's usage and quota, and whether its storage is persistent (null when the browser will not say). */
async function readEstimate(): Promise<Estimate | null> {
  try {
    const [e, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.() ?? Promise.resolve(false)]);
    return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
  } catch {
    return null;
  }
}

/**
 * How much of the browser's storage the collection uses (StorageManager.estimate: usage and quota of this site),
 * and a button asking the browser to keep it (persistent storage: not evicted when the disk runs low).
 * `refreshKey` changes when the collection does, so the numbers follow.
 */
export function StorageMeter(props: { refreshKey: unknown; onResult: (level: 'info' | 'warning', text: string) => void }) {
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const supported = typeof navigator !== 'undefined' && !!navigator.storage?.estimate;

  // Read now, when the collection changes (refreshKey), and every 15 s.
  useEffect(() => {
    if (!supported) return;
    const refresh = () => void readEstimate().then(setEstimate);
    refresh();
    const timer = setInterval(refresh, 15_000);
    return () => clearInterval(timer);
  }, [supported, props.refreshKey]);

  const { onResult } = props;
  const persist = async () => {
    const granted = await Promise.resolve(navigator.storage.persist?.() ?? false).catch(() => false);
    setEstimate(await readEstimate());
    onResult(
      granted ? 'info' : 'warning',
      granted
        ? 'This browser will keep the collection: it is not cleared when the disk runs low.'
        : 'The browser did not grant persistent storage (browsers decide from how the site is used, e.g. bookmarked or installed): it may clear the collection if the disk runs low.',
    );
  };

  if (!supported || !estimate) return null;
  const share = estimate.quota ? estimate.usage / estimate.quota : 0;
  return (
    <span className="storage-meter" data-testid="storage" data-usage={estimate.usage} data-quota={estimate.quota} data-persisted={estimate.persisted}>
      <span className="chip" title={`This site uses ${formatBytes(estimate.usage)} of the ${formatBytes(estimate.quota)} the browser allows it (${(share * 100).toFixed(1)} %)`}>
        <span className="chip-label">Storage</span> {formatBytes(estimate.usage)} used · {formatBytes(Math.max(0, estimate.quota - estimate.usage))} available
      </span>
      {estimate.persisted ? (
        <span className="chip" data-testid="persisted" title="The browser keeps this site's data even when the disk runs low">
          Kept
        </span>
      ) : (
        <button type="button" className="btn small" data-testid="persist" onClick={() => void persist()} title="Ask the browser not to clear the collection when the disk runs low">
          Keep my collection
        </button>
      )}
    </span>
  );
}
