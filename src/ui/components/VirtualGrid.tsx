// A grid of tiles that renders only the rows near the viewport (any number of items), with keyboard navigation.
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { gridCells, useElementWidth } from '../layout';

const GAP = 12;
/** Rows rendered beyond the viewport, above and below. */
const OVERSCAN = 3;

export interface TileProps {
  /** Image cell size, px. */
  cell: number;
  /** For the tile's button: roving tabindex and the grid's keyboard navigation. */
  itemProps: { 'data-grid-index': number; tabIndex: number; onFocus: () => void };
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

  const nav = useVirtualNavigation(items.length, columns, listRef, (index) => virtualizer.scrollToIndex(Math.floor(index / columns), { align: 'auto' }));

  return (
    <div
      ref={listRef}
      className={props.className}
      role="list"
      aria-label={props.label}
      onKeyDown={nav.onKeyDown}
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
                {props.renderTile(item, index, { cell, itemProps: nav.itemProps(index) })}
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

/** The element's top in the document (the virtualizer's scroll margin), kept up to date as the page above it changes. */
function useDocumentTop(ref: RefObject<HTMLElement | null>): number {
  const subscribe = useCallback((changed: () => void) => {
    const ro = new ResizeObserver(changed);
    ro.observe(document.body);
    window.addEventListener('resize', changed);
    return () => {
      ro.disconnect();
      window.removeEventListener('resize', changed);
    };
  }, []);
  return useSyncExternalStore(subscribe, () => (ref.current ? Math.round(ref.current.getBoundingClientRect().top + window.scrollY) : 0));
}

/**
 * Keyboard navigation over a virtual grid (roving tabindex): one item is in the tab order; arrow keys, Home and End
 * move the focus, Up/Down by a row. The item to focus may not be rendered yet: it is scrolled to, then focused.
 */
function useVirtualNavigation(count: number, columns: number, listRef: RefObject<HTMLElement | null>, scrollTo: (index: number) => void) {
  const [active, setActive] = useState(0);
  const current = Math.min(active, Math.max(0, count - 1));
  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    const target = (e.target as HTMLElement).closest<HTMLElement>('[data-grid-index]');
    if (!target || !count) return;
    const index = Number(target.dataset.gridIndex);
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, ArrowDown: index + columns, ArrowUp: index - columns, Home: 0, End: count - 1 };
    if (!(e.key in moves)) return;
    e.preventDefault();
    const next = Math.max(0, Math.min(count - 1, moves[e.key]));
    setActive(next);
    scrollTo(next);
    focusWhenRendered(listRef.current, next);
  };

  const itemProps = (i: number) => ({ 'data-grid-index': i, tabIndex: i === current ? 0 : -1, onFocus: () => setActive(i) });
  return { onKeyDown, itemProps };
}

/** Focuses item `index` of the grid as soon as it is rendered (after a scroll to it), trying for about half a second. */
function focusWhenRendered(list: HTMLElement | null, index: number, frames = 30): void {
  const el = list?.querySelector<HTMLElement>(`[data-grid-index="${index}"]`);
  if (el) el.focus();
  else if (list && frames > 0) requestAnimationFrame(() => focusWhenRendered(list, index, frames - 1));
}
