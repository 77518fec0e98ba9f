import type { ClassCount } from '../../worker-api/api';

/** The collection's most frequent classes with their counts; one picked filters the grid and the results. */
export function ClassChips(props: { counts: ClassCount[]; active: ClassCount | null; onPick: (c: ClassCount | null) => void }) {
  const { counts, active } = props;
  if (!counts.length) return null;
  const chips = active && !counts.some((c) => c.index === active.index) ? [...counts, active] : counts;
  return (
    <div className="class-chips" role="group" aria-label="Filter by class (each photo's top class)" data-testid="class-chips">
      <span className="class-chips-label">Classes</span>
      {chips.map((c) => {
        const on = c.index === active?.index;
        return (
          <button
            key={c.index}
            type="button"
            className={`class-chip ${on ? 'is-active' : ''}`}
            aria-pressed={on}
            onClick={() => props.onPick(on ? null : c)}
            data-testid="class-chip"
            data-class-index={c.index}
            data-count={c.count}
            title={on ? 'Show every photo again' : `Show only the photos whose top class is ${c.name}`}
          >
            <span className="class-chip-name">{c.name}</span>
            <span className="class-chip-count">{c.count}</span>
          </button>
        );
      })}
      {active && (
        <button type="button" className="btn small ghost" onClick={() => props.onPick(null)} data-testid="class-filter-clear">
          Show all
        </button>
      )}
    </div>
  );
}
