import type { SearchControls } from '../../worker-api/api';

const NC_CHOICES = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const QE_CHOICES = [0, 1, 2, 3, 5, 10, 20];
const R_CHOICES = [0, 10, 25, 50, 100, 250, 1000];
const SHORTLIST_CHOICES = [0, 25, 50, 100, 200, 500];
const SG_CHOICES = [0, 50, 100, 250];
const ALPHA_CHOICES = [0, 1, 3];
const DIFFUSION_CHOICES = [0, 100, 250, 1000];
const DIFFUSION_K_CHOICES = [10, 20, 50];

/** One step beyond the paper: a label, a select and a one-line explanation (docs/RANKING.md). */
function Step(props: { id: string; label: string; explain: string; value: number | string; choices: (number | string)[]; name: (v: number | string) => string; onChange: (v: string) => void }) {
  return (
    <label className="control-step">
      <span>{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} data-testid={`control-${props.id}`}>
        {props.choices.map((v) => (
          <option key={v} value={v}>
            {props.name(v)}
          </option>
        ))}
      </select>
      <small>{props.explain}</small>
    </label>
  );
}

/**
 * OfA / OnA, NC, QE n and re-ranking R, then the steps beyond the paper (each with a one-line explanation). Every
 * change re-ranks at once (no network pass over the collection).
 */
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
      <div className="control-steps">
        {value.aggregation === 'online' && (
          <Step
            id="shortlist"
            label="Online shortlist M"
            explain="Online aggregation for the stored offline top M only: its cost does not grow with the collection"
            value={value.onlineShortlist ?? 0}
            choices={withCurrent(SHORTLIST_CHOICES, value.onlineShortlist ?? 0)}
            name={(v) => (v === 0 ? 'All photos' : `Top ${v}`)}
            onChange={(v) => set({ onlineShortlist: Number(v) })}
          />
        )}
        <Step
          id="superglobal"
          label="SuperGlobal M"
          explain="Refines the top M descriptors by their nearest neighbours, then re-scores (Shao et al. 2023): helps when the collection holds many photos of the same thing, hurts a query with a few matches"
          value={value.superGlobal ?? 0}
          choices={withCurrent(SG_CHOICES, value.superGlobal ?? 0)}
          name={(v) => (v === 0 ? 'Off' : `Top ${v}`)}
          onChange={(v) => set({ superGlobal: Number(v) })}
        />
        <Step
          id="qe-alpha"
          label="QE weights"
          explain="Plain average of the top n, or alpha-QE: the query plus the top n weighted by score^alpha (softer when the top n hold wrong photos)"
          value={value.qeAlpha ?? 0}
          choices={withCurrent(ALPHA_CHOICES, value.qeAlpha ?? 0)}
          name={(v) => (v === 0 ? 'Average' : `alpha ${v}`)}
          onChange={(v) => set({ qeAlpha: Number(v) })}
        />
        <Step
          id="qe-neighbours"
          label="QE neighbours"
          explain="Which of the top n QE averages: all of them (helps when a query has many matches), or only those that have the query among their own 10 nearest (safe when it has a few among many similar photos)"
          value={value.qeNeighbours ?? 'top'}
          choices={['top', 'reciprocal', 'gap']}
          name={(v) => (v === 'reciprocal' ? 'Reciprocal' : v === 'gap' ? 'Before the largest gap' : 'All top n')}
          onChange={(v) => set({ qeNeighbours: v === 'reciprocal' || v === 'gap' ? v : 'top' })}
        />
        <Step
          id="qe-source"
          label="QE after re-ranking"
          explain="What QE averages for re-ranked photos: their descriptor, or the best region re-ranking found"
          value={value.qeSource ?? 'global'}
          choices={['global', 'region']}
          name={(v) => (v === 'region' ? 'Best regions' : 'Whole photos')}
          onChange={(v) => set({ qeSource: v === 'region' ? 'region' : 'global' })}
        />
        <Step
          id="diffusion"
          label="Diffusion M"
          explain="Spreads the top scores over a neighbour graph of the top M (Iscen et al. 2017); runs last. Only for many photos of the same thing: it can lose a query with a few matches"
          value={value.diffusion ?? 0}
          choices={withCurrent(DIFFUSION_CHOICES, value.diffusion ?? 0)}
          name={(v) => (v === 0 ? 'Off' : `Top ${v}`)}
          onChange={(v) => set({ diffusion: Number(v) })}
        />
        {(value.diffusion ?? 0) > 0 && (
          <Step
            id="diffusion-k"
            label="Diffusion neighbours k"
            explain="Graph neighbours per photo: fewer for small collections"
            value={value.diffusionK ?? 50}
            choices={withCurrent(DIFFUSION_K_CHOICES, value.diffusionK ?? 50)}
            name={(v) => String(v)}
            onChange={(v) => set({ diffusionK: Number(v) })}
          />
        )}
      </div>
    </fieldset>
  );
}
