import type { KeyboardEvent } from 'react';

export type CollectionView = 'collection' | 'duplicates' | 'groups';

const VIEWS: { id: CollectionView; label: string }[] = [
  { id: 'collection', label: 'Collection' },
  { id: 'duplicates', label: 'Duplicates' },
  { id: 'groups', label: 'Groups' },
];

/** Switches the content column between the collection grid, the near-duplicate review and the groups. */
export function ViewTabs(props: { view: CollectionView; onView: (v: CollectionView) => void; photoCount: number; disabled: boolean }) {
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern); only the current tab is in the tab order.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = VIEWS[(VIEWS.findIndex((v) => v.id === props.view) + step + VIEWS.length) % VIEWS.length];
    props.onView(next.id);
    e.currentTarget.querySelector<HTMLElement>(`[data-view="${next.id}"]`)?.focus();
  };
  return (
    <div className="view-tabs" role="tablist" aria-label="Collection views" onKeyDown={onKeyDown}>
      {VIEWS.map((v) => {
        const on = v.id === props.view;
        return (
          <button
            key={v.id}
            type="button"
            role="tab"
            id={`view-tab-${v.id}`}
            aria-selected={on}
            tabIndex={on ? 0 : -1}
            className={`view-tab ${on ? 'is-active' : ''}`}
            onClick={() => props.onView(v.id)}
            disabled={v.id !== 'collection' && props.disabled}
            data-view={v.id}
            data-testid={`view-tab-${v.id}`}
          >
            {v.label}
            {v.id === 'collection' && props.photoCount > 0 && <span className="view-tab-count">{props.photoCount}</span>}
          </button>
        );
      })}
    </div>
  );
}
