// A report of the worker's collection graph (near-duplicates or groups) while its view is open: asked for when the
// view opens, and again when the collection or the graph's state changes. The worker answers at once with what is
// placed so far (the view shows it, with progress); a partial answer is followed by a second call that waits for the
// graph to be complete (the 'grouping' events of a short build can come and go between two renders).
import { useEffect, useState } from 'react';
import type { GroupingProgress } from '../../worker-api/api';
import { errorMessage } from '../format';

/** Changes within this many ms are asked for once. */
const SETTLE_MS = 300;

export interface CollectionReport<T> {
  report: T | null;
  error: string | null;
  /** Asks now (after a cancel, which nothing else asks again after: asking continues the build). */
  refresh: () => void;
}

/**
 * `fetch` (stable: useCallback) is called when the view is `open` and `fetch`, `key` (the photos it covers) or the
 * graph's state change; answers to an older call are dropped.
 */
export function useCollectionReport<T extends { complete: boolean }>(open: boolean, key: string, grouping: GroupingProgress, fetch: (wait: boolean) => Promise<T>): CollectionReport<T> {
  const [state, setState] = useState<Omit<CollectionReport<T>, 'refresh'>>({ report: null, error: null });
  // Progress within a run does not change the report's groups enough to ask on every batch: state changes do.
  const graphState = grouping.state;
  useEffect(() => {
    // After a cancel, asking would continue the build: only the user's refresh asks then.
    if (!open || graphState === 'cancelled') return;
    let cancelled = false;
    const ask = (wait: boolean) =>
      fetch(wait).then(
        (report) => {
          if (cancelled) return;
          setState({ report, error: null });
          if (!report.complete && !wait) ask(true);
        },
        (e: unknown) => !cancelled && setState((s) => ({ report: s.report, error: errorMessage(e) })),
      );
    const timer = setTimeout(() => void ask(false), SETTLE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [open, key, graphState, fetch]);
  const refresh = () => {
    fetch(true).then(
      (report) => setState({ report, error: null }),
      (e: unknown) => setState((s) => ({ report: s.report, error: errorMessage(e) })),
    );
  };
  return { ...state, refresh };
}
