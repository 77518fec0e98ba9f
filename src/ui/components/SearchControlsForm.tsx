import type { SearchControls } from '../../worker/api';

const NC_CHOICES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const QE_CHOICES = [0, 1, 2, 3, 5, 10, 20];
const R_CHOICES = [0, 10, 25, 50, 100, 250, 1000];

/** OfA / OnA, NC, QE n and re-ranking R. Every change re-ranks at once (no network pass over the collection). */
export function SearchControlsForm({ value, onChange, disabled }: { value: SearchControls; onChange: (c: SearchControls) => void; disabled?: boolean }) {
  const set = (patch: Partial<SearchControls>) => onChange({ ...value, ...patch });
  const withCurrent = (choices: number[], v: number) => (choices.includes(v) ? choices : [...choices, v].sort((a, b) => a - b));
  return (
    <fieldset className="controls" disabled={disabled}>
      <legend>Search settings</legend>
      <div className="segmented" role="radiogroup" aria-label="Aggregation">
        {(['offline', 'online'] as const).map((a) => (
          <label key={a} className={value.aggregation === a ? 'on' : ''} title={a === 'offline' ? "Each photo's own top classes: stored descriptors, instant" : "The query's classes for every photo: reads the stored maps, better on small collections"}>
            <input type="radio" name="aggregation" value={a} checked={value.aggregation === a} onChange={() => set({ aggregation: a })} data-testid={`aggregation-${a}`} />
            {a === 'offline' ? 'Offline (OfA)' : 'Online (OnA)'}
          </label>
        ))}
      </div>
      <div className="control-row">
        <label>
          <span>Classes NC</span>
          <select value={value.nc} onChange={(e) => set({ nc: Number(e.target.value) })} data-testid="control-nc">
            {withCurrent(NC_CHOICES, value.nc).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Query expansion</span>
          <select value={value.qe} onChange={(e) => set({ qe: Number(e.target.value) })} data-testid="control-qe">
            {withCurrent(QE_CHOICES, value.qe).map((n) => (
              <option key={n} value={n}>
                {n === 0 ? 'Off' : `Top ${n}`}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Re-ranking R</span>
          <select value={value.rerank} onChange={(e) => set({ rerank: Number(e.target.value) })} data-testid="control-rerank">
            {withCurrent(R_CHOICES, value.rerank).map((n) => (
              <option key={n} value={n}>
                {n === 0 ? 'Off' : `Top ${n}`}
              </option>
            ))}
          </select>
        </label>
      </div>
    </fieldset>
  );
}
