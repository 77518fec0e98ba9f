import type { ClassScore } from '../../worker-api/api';
import { turboGradient } from '../colormap';
import { percent } from '../format';

export interface HeatSettings {
  show: boolean;
  opacity: number;
  allBoxes: boolean;
}

const GRADIENT = turboGradient();

/** The query's top-5 classes (names and probabilities), which one the heatmaps show, opacity, legend, boxes. */
export function HeatmapControls(props: {
  classes: ClassScore[];
  selected: number | null;
  onSelect: (index: number) => void;
  settings: HeatSettings;
  onSettings: (s: HeatSettings) => void;
  title?: string;
}) {
  const { settings: s } = props;
  return (
    <div className="heat-controls">
      <fieldset className="class-list">
        <legend>{props.title ?? 'Classes of the query box'}</legend>
        {props.classes.map((c) => (
          <label key={c.index} className={`class-row ${props.selected === c.index ? 'on' : ''}`}>
            <input type="radio" name="heat-class" value={c.index} checked={props.selected === c.index} onChange={() => props.onSelect(c.index)} />
            <span className="class-name" title={c.name}>
              {c.name}
            </span>
            <span className="class-bar" aria-hidden="true">
              <span style={{ width: `${Math.max(2, c.probability * 100)}%` }} />
            </span>
            <span className="class-prob">{percent(c.probability)}</span>
          </label>
        ))}
      </fieldset>
      <div className="heat-options">
        <label className="check">
          <input type="checkbox" checked={s.show} onChange={(e) => props.onSettings({ ...s, show: e.target.checked })} data-testid="show-heatmaps" />
          Heatmaps
        </label>
        <label className="slider">
          <span>Opacity</span>
          <input
            type="range"
            min={0}
            max={100}
            step={5}
            value={Math.round(s.opacity * 100)}
            disabled={!s.show}
            onChange={(e) => props.onSettings({ ...s, opacity: Number(e.target.value) / 100 })}
            aria-valuetext={`${Math.round(s.opacity * 100)}%`}
          />
          <span className="slider-value">{Math.round(s.opacity * 100)}%</span>
        </label>
        <label className="check">
          <input type="checkbox" checked={s.allBoxes} onChange={(e) => props.onSettings({ ...s, allBoxes: e.target.checked })} data-testid="all-boxes" />
          All 5 re-ranking boxes
        </label>
      </div>
      <div className="legend" aria-label="Heatmap colour scale: class activation from 0 (blue) to the photo's maximum (red)">
        <span className="legend-bar" style={{ background: GRADIENT }} />
        <span className="legend-labels">
          <span>0</span>
          <span>class activation (per photo)</span>
          <span>max</span>
        </span>
        <span className="legend-boxes">
          <span className="swatch best" /> chosen re-ranking box
          {s.allBoxes && (
            <>
              <span className="swatch other" /> other thresholds
            </>
          )}
        </span>
      </div>
    </div>
  );
}
