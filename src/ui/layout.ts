import { useEffect, useState, type RefObject } from 'react';

/** Size that fits w x h inside maxW x maxH, aspect ratio kept (never larger than `upscale` x the original). */
export function fitSize(w: number, h: number, maxW: number, maxH: number, upscale = Infinity): { width: number; height: number; scale: number } {
  const scale = Math.min(maxW / w, maxH / h, upscale);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)), scale };
}

/**
 * Content width of an element, kept up to date. `present`: changes when the element appears or goes (the photo
 * grid replaces the empty state on the first drop), so it is measured then too.
 */
export function useElementWidth(ref: RefObject<HTMLElement | null>, present: unknown = true): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(([entry]) => setWidth(entry.contentRect.width));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, present]);
  return width;
}

/**
 * Columns and cell size (px) that fill a grid `width` wide with cells of at least `minCell` (plus `pad` around the
 * image inside a cell) separated by `gap`.
 */
export function gridCells(width: number, minCell: number, gap: number, pad = 8): { columns: number; cell: number } {
  if (!(width > 0)) return { columns: 1, cell: minCell };
  const columns = Math.max(1, Math.floor((width + gap) / (minCell + pad + gap)));
  const cell = Math.floor((width - gap * (columns - 1)) / columns) - pad;
  return { columns, cell: Math.max(minCell * 0.75, cell) };
}
