/**
 * What the page asks a search for, checked and made safe before the search runs: the search controls (whole
 * numbers in range, a known aggregation; a specific message otherwise) and the query box (clipped to the photo).
 */
import type { PixelBox } from '../cw/types';
import type { SearchParams } from './types';

/** The knobs the page sets (the worker API's SearchControls has exactly these fields). */
export type SearchControls = Pick<SearchParams, 'aggregation' | 'nc' | 'qe' | 'rerank'>;

export function validateSearchControls(c: SearchControls): SearchControls {
  const int = (v: number, min: number, max: number, name: string) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
    return v;
  };
  if (c.aggregation !== 'offline' && c.aggregation !== 'online') throw new Error(`aggregation must be offline or online, got ${c.aggregation}`);
  return { aggregation: c.aggregation, nc: int(c.nc, 1, 1000, 'NC'), qe: int(c.qe, 0, 1000, 'QE n'), rerank: int(c.rerank, 0, 100000, 'Re-ranking R') };
}

/** The box clipped to the image; a box with no area inside it becomes the whole image. */
export function clampPixelBox(b: PixelBox, width: number, height: number): PixelBox {
  const x1 = Math.max(0, Math.min(b.x1, b.x2)), y1 = Math.max(0, Math.min(b.y1, b.y2));
  const x2 = Math.min(width, Math.max(b.x1, b.x2)), y2 = Math.min(height, Math.max(b.y1, b.y2));
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 - x1 < 1 || y2 - y1 < 1) return { x1: 0, y1: 0, x2: width, y2: height };
  return { x1, y1, x2, y2 };
}
