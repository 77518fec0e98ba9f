// The result viewer: which result is open, stepping through the results, and its full-size photo and classes.
import { useEffect, useState } from 'react';
import type { ClassScore, ResultItem } from '../../worker-api/api';
import type { EngineStore } from '../engineStore';
import { errorMessage } from '../format';

export interface Viewer {
  /** The open result (undefined: the viewer is closed). */
  result: ResultItem | undefined;
  open: (result: ResultItem) => void;
  close: () => void;
  /** Moves by `delta` results, within the list. */
  step: (delta: number) => void;
  hasPrev: boolean;
  hasNext: boolean;
  /** An object URL of the full-size photo, null while it loads (and when only the thumbnail can be shown). */
  fullUrl: string | null;
  /** Why the full-size photo cannot be shown (e.g. gone from disk, permission needed), null when it can. */
  fileNote: string | null;
  /** The photo's own top classes, null while they load ([] when they could not be read). */
  classes: ClassScore[] | null;
}

/** What was loaded, and for which result: a value loaded for another result reads as not loaded yet. */
interface Loaded<T> {
  of: ResultItem;
  value: T;
}

export function useViewer(store: EngineStore, results: ResultItem[]): Viewer {
  const [index, setIndex] = useState<number | null>(null);
  const result = index !== null ? results[index] : undefined;

  const [photo, setPhoto] = useState<Loaded<{ url: string | null; note: string | null }> | null>(null);
  const [classes, setClasses] = useState<Loaded<ClassScore[]> | null>(null);
  useEffect(() => {
    if (!result) return;
    let url: string | null = null;
    let cancelled = false;
    // The original on disk, the stored copy, or the thumbnail with the reason (a file gone from disk is no error).
    store.api.photoFile(result.id).then(
      (f) => {
        if (cancelled) return;
        url = f.kind === 'thumbnail' ? null : URL.createObjectURL(f.blob);
        setPhoto({ of: result, value: { url, note: f.problem ?? null } });
      },
      (e: unknown) => !cancelled && setPhoto({ of: result, value: { url: null, note: `This photo could not be read: ${errorMessage(e)}` } }),
    );
    store.api.photoClasses(result.id).then(
      (c) => !cancelled && setClasses({ of: result, value: c }),
      () => !cancelled && setClasses({ of: result, value: [] }),
    );
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [result, store]);

  const current = index ?? 0;
  return {
    result,
    open: (r) => setIndex(results.indexOf(r)),
    close: () => setIndex(null),
    step: (d) => setIndex((i) => (i === null ? null : Math.max(0, Math.min(results.length - 1, i + d)))),
    hasPrev: current > 0,
    hasNext: current < results.length - 1,
    fullUrl: result && photo?.of === result ? photo.value.url : null,
    fileNote: result && photo?.of === result ? photo.value.note : null,
    classes: result && classes?.of === result ? classes.value : null,
  };
}
