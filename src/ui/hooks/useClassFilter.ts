// The collection's most frequent classes (chips with counts) and the grid filtered to one of them. Both are read
// from the worker again, a moment after the indexed photos change (not once per photo while an import runs).
import { useEffect, useMemo, useState } from 'react';
import type { ClassCount } from '../../worker-api/api';
import type { EngineStore, Photo } from '../engineStore';

/** Chips shown. */
const CHIPS = 12;
/** Photo changes within this many ms are read once. */
const SETTLE_MS = 400;

export interface ClassFilter {
  /** Most frequent first (each photo counted for its top-1 class). */
  counts: ClassCount[];
  active: ClassCount | null;
  pick: (c: ClassCount | null) => void;
  /** The photos to show: those of the active class (all while its list loads, or with no filter). */
  photos: Photo[];
}

export function useClassFilter(store: EngineStore, photos: Photo[], indexedCount: number): ClassFilter {
  const [counts, setCounts] = useState<ClassCount[]>([]);
  const [active, setActive] = useState<ClassCount | null>(null);
  const [members, setMembers] = useState<{ of: number; ids: ReadonlySet<string> } | null>(null);
  const photoCount = photos.length;

  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(() => {
      store.api.classCounts({ limit: CHIPS }).then(
        (c) => !cancelled && setCounts(c),
        () => undefined,
      );
    }, SETTLE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [store, indexedCount, photoCount]);

  const activeIndex = active?.index ?? null;
  /** This class's photos were read before: a change of the photos waits for them to settle, a new class does not. */
  const settled = members?.of === activeIndex;
  useEffect(() => {
    if (activeIndex === null) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      store.api.photosWithClass(activeIndex).then(
        (ids) => !cancelled && setMembers({ of: activeIndex, ids: new Set(ids) }),
        () => undefined,
      );
    }, settled ? SETTLE_MS : 0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [store, activeIndex, settled, indexedCount, photoCount]);

  const shown = useMemo(() => (activeIndex !== null && members?.of === activeIndex ? photos.filter((p) => members.ids.has(p.id)) : photos), [photos, activeIndex, members]);
  // The active chip shows its latest count.
  const current = active && (counts.find((c) => c.index === active.index) ?? active);
  return { counts, active: current, pick: setActive, photos: shown };
}
