// A grid of tiles that renders only the rows near the viewport (any number of items), with keyboard navigation.
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { gridCells, useElementWidth } from '../layout';

const GAP = 12;
/**
 * Rows rendered beyond the viewport, above and below. One: a scroll by a screenful mounts a screenful of new tiles,
 * not three rows more on each side (profiled at 10,000 photos: every mounted tile costs layout and a thumbnail).
 */
const OVERSCAN = 1;

/**
 * What a tile gets from the grid, all primitives so a memoised tile re-renders only when its own item changes: its
 * button carries `data-grid-index={index}` and `tabIndex` (roving tabindex; the grid follows focus by delegation).
 */
export interface TileProps {
  /** Image cell size, px. */
  cell: number;
  tabIndex: number;
}

export function VirtualGrid<T>(props: {
  items: readonly T[];
  itemKey: (item: T) => string;
  /** Smallest image cell, px. */
  minCell: number;
  /** A tile's height beyond its image cell (name, score), px: the first guess before rows are measured. */
  extraHeight: number;
  renderTile: (item: T, index: number, tile: TileProps) => ReactNode;
  className: string;
  label: string;
  testId: string;
  /** Told which items are rendered (first, last), e.g. to fetch their heatmaps or the next page. */
  onRange?: (first: number, last: number) => void;
  /** Keys on an item: after a keyboard move `movedTo` is where the focus went (e.g. shift extends a selection), else null. */
  onItemKey?: (e: KeyboardEvent<HTMLElement>, index: number, movedTo: number | null) => void;
}) {
  const { items, onRange } = props;
  const listRef = useRef<HTMLDivElement>(null);
  const width = useElementWidth(listRef, items.length > 0);
  const { columns, cell } = gridCells(width, props.minCell, GAP);
  const rows = Math.ceil(items.length / columns);
  const scrollMargin = useDocumentTop(listRef);
  const virtualizer = useWindowVirtualizer({
    count: rows,
    estimateSize: () => cell + props.extraHeight + GAP,
    overscan: OVERSCAN,
    scrollMargin,
  });
  const virtualRows = virtualizer.getVirtualItems();
  const first = virtualRows.length ? virtualRows[0].index * columns : 0;
  const last = virtualRows.length ? Math.min(items.length, (virtualRows[virtualRows.length - 1].index + 1) * columns) - 1 : -1;
  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);

  const nav = useVirtualNavigation(items.length, columns, listRef, (index) => virtualizer.scrollToIndex(Math.floor(index / columns), { align: 'auto' }), props.onItemKey);

  return (
    <div
      ref={listRef}
      className={props.className}
      role="list"
      aria-label={props.label}
      onKeyDown={nav.onKeyDown}
      onFocus={nav.onFocus}
      data-testid={props.testId}
      data-count={items.length}
      style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
    >
      {virtualRows.map((row) => (
        <div
          key={row.key}
          role="none"
          data-index={row.index}
          ref={virtualizer.measureElement}
          className="grid-row"
          style={{ transform: `translateY(${row.start - scrollMargin}px)`, gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}
        >
          {items.slice(row.index * columns, (row.index + 1) * columns).map((item, j) => {
            const index = row.index * columns + j;
            return (
              <div key={props.itemKey(item)} className="grid-cell" role="listitem" aria-posinset={index + 1} aria-setsize={items.length}>
                {props.renderTile(item, index, { cell, tabIndex: nav.tabIndex(index) })}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

/**
 * The element's top in the document (the virtualizer's scroll margin), kept up to date as the page above it changes.
 * Measured when the page's size changes (a ResizeObserver, after layout), never while rendering: a measure there
 * forced a layout in every render and commit while scrolling (profiled: getBoundingClientRect in the snapshot).
 */
function useDocumentTop(ref: RefObject<HTMLElement | null>): number {
  const [top, setTop] = useState(0);
  useLayoutEffect(() => {
    const measure = () => {
      if (ref.current) setTop(Math.round(ref.current.getBoundingClientRect().top + window.scrollY));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(document.body);
    window.addEventListener('resize', measure);
    return () => {
      ro.disconnect();
      window.removeEventListener('resize', measure);
    };
  }, [ref]);
  return top;
}

/**
 * Keyboard navigation over a virtual grid (roving tabindex): one item is in the tab order; arrow keys, Home and End
 * move the focus, Up/Down by a row. The item to focus may not be rendered yet: it is scrolled to, then focused.
 */
function useVirtualNavigation(
  count: number,
  columns: number,
  listRef: RefObject<HTMLElement | null>,
  scrollTo: (index: number) => void,
  onItemKey?: (e: KeyboardEvent<HTMLElement>, index: number, movedTo: number | null) => void,
) {
  const [active, setActive] = useState(0);
  const current = Math.min(active, Math.max(0, count - 1));
  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    const target = (e.target as HTMLElement).closest<HTMLElement>('[data-grid-index]');
    if (!target || !count) return;
    const index = Number(target.dataset.gridIndex);
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, ArrowDown: index + columns, ArrowUp: index - columns, Home: 0, End: count - 1 };
    if (!(e.key in moves)) {
      onItemKey?.(e, index, null);
      return;
    }
    e.preventDefault();
    const next = Math.max(0, Math.min(count - 1, moves[e.key]));
    setActive(next);
    scrollTo(next);
    focusWhenRendered(listRef.current, next);
    onItemKey?.(e, index, next);
  };

  const onFocus = (e: FocusEvent<HTMLElement>) => {
    const target = (e.target as HTMLElement).closest<HTMLElement>('[data-grid-index]');
    if (target) setActive(Number(target.dataset.gridIndex));
  };
  const tabIndex = (i: number) => (i === current ? 0 : -1);
  return { onKeyDown, onFocus, tabIndex };
}

/** Focuses item `index` of the grid as soon as it is rendered (after a scroll to it), trying for about half a second. */
function focusWhenRendered(list: HTMLElement | null, index: number, frames = 30): void {
  const el = list?.querySelector<HTMLElement>(`[data-grid-index="${index}"]`);
  if (el) el.focus();
  else if (list && frames > 0) requestAnimationFrame(() => focusWhenRendered(list, index, frames - 1));
}
