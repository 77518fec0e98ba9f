// Multi-select over an ordered list of photos (the collection grid): toggle one, extend a range from the anchor,
// clear. Ids that leave the list (deleted, filtered out) simply stop counting as selected.
import { useCallback, useMemo, useState } from 'react';

export interface Selection {
  /** The selected ids that are in the list now, in list order. */
  ids: string[];
  has: (id: string) => boolean;
  /** Adds or removes one id; it becomes the anchor of the next range. */
  toggle: (id: string) => void;
  /** Adds every id from the anchor (else this one) to this one, in list order. */
  extendTo: (id: string, from?: string) => void;
  clear: () => void;
}

export function useSelection(order: readonly string[]): Selection {
  const [selected, setSelected] = useState<ReadonlySet<string>>(() => new Set());
  const [anchor, setAnchor] = useState<string | null>(null);

  const ids = useMemo(() => (selected.size ? order.filter((id) => selected.has(id)) : []), [order, selected]);
  const present = useMemo(() => new Set(ids), [ids]);

  const toggle = useCallback((id: string) => {
    setSelected((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });
    setAnchor(id);
  }, []);

  const extendTo = useCallback(
    (id: string, from?: string) => {
      const start = order.indexOf(anchor ?? from ?? id);
      const end = order.indexOf(id);
      if (end < 0) return;
      const [lo, hi] = start < 0 ? [end, end] : [Math.min(start, end), Math.max(start, end)];
      setSelected((s) => new Set([...s, ...order.slice(lo, hi + 1)]));
      if (start < 0 || anchor === null) setAnchor(order[start < 0 ? end : start]);
    },
    [order, anchor],
  );

  const clear = useCallback(() => {
    setSelected(new Set());
    setAnchor(null);
  }, []);

  const has = useCallback((id: string) => present.has(id), [present]);
  return { ids, has, toggle, extendTo, clear };
}
