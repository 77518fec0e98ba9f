import { useCallback, useState, type KeyboardEvent } from 'react';

/**
 * Keyboard navigation over a grid of buttons (roving tabindex): one item is in the tab order; arrow keys, Home
 * and End move the focus, Up/Down by a row (columns measured from the layout). Items carry data-grid-index.
 */
export function useGridNavigation(count: number) {
  const [active, setActive] = useState(0);
  const current = Math.min(active, Math.max(0, count - 1));

  const onKeyDown = useCallback(
    (e: KeyboardEvent<HTMLElement>) => {
      const target = (e.target as HTMLElement).closest<HTMLElement>('[data-grid-index]');
      if (!target || !count) return;
      const items = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('[data-grid-index]'));
      const index = Number(target.dataset.gridIndex);
      const top = items[0]?.offsetTop ?? 0;
      const columns = Math.max(1, items.filter((el) => el.offsetTop === top).length);
      let next: number;
      switch (e.key) {
        case 'ArrowRight':
          next = index + 1;
          break;
        case 'ArrowLeft':
          next = index - 1;
          break;
        case 'ArrowDown':
          next = index + columns;
          break;
        case 'ArrowUp':
          next = index - columns;
          break;
        case 'Home':
          next = 0;
          break;
        case 'End':
          next = count - 1;
          break;
        default:
          return;
      }
      e.preventDefault();
      next = Math.max(0, Math.min(count - 1, next));
      setActive(next);
      items[next]?.focus();
    },
    [count],
  );

  /** Props for item i. */
  const itemProps = (i: number) => ({
    'data-grid-index': i,
    tabIndex: i === current ? 0 : -1,
    onFocus: () => setActive(i),
  });

  /** For memoised items: which item is in the tab order, and a stable focus callback taking the index. */
  return { onKeyDown, itemProps, current, setActive };
}
