import { useEffect, useState } from 'react';
import type { ScopeView } from '../hooks/useSearchSession';

/** A slider move is searched once it rests this long. */
const SETTLE_MS = 300;

/** Above the results: the active scope (group or class, removable) and the minimum score with how many it cut. */
export function ResultFilters(props: { scope: ScopeView | null; onClearScope: () => void; minScore: number; onMinScore: (v: number) => void; belowMinScore: number }) {
  const [value, setValue] = useState(props.minScore);
  const { minScore, onMinScore } = props;
  // The slider's own value while it moves; searched when it rests.
  useEffect(() => {
    if (value === minScore) return;
    const timer = setTimeout(() => onMinScore(value), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [value, minScore, onMinScore]);
  return (
    <div className="result-filters">
      {props.scope && (
        <span className="scope-chip" data-testid="search-scope" data-kind={props.scope.kind}>
          Within {props.scope.label}
          <button type="button" className="scope-remove" onClick={props.onClearScope} aria-label={`Search the whole collection again (remove "${props.scope.label}")`} data-testid="search-scope-clear">
            ×
          </button>
        </span>
      )}
      <label className="min-score">
        <span>Min score</span>
        <input type="range" min={0} max={1} step={0.01} value={value} onChange={(e) => setValue(Number(e.target.value))} data-testid="min-score" />
        <output className="min-score-value">{value > 0 ? value.toFixed(2) : 'off'}</output>
      </label>
      {minScore > 0 && (
        <span className="muted" data-testid="below-min-score" data-count={props.belowMinScore}>
          {props.belowMinScore} {props.belowMinScore === 1 ? 'result' : 'results'} below {minScore.toFixed(2)} left out
        </span>
      )}
    </div>
  );
}
