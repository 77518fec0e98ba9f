/** The "turbo" colour map (Google, polynomial fit): 0 = dark blue, 0.5 = green, 1 = dark red. Returns 0..255 RGB. */
export function turbo(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = 0.13572138 + x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b = 0.1066733 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  const c = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(r), c(g), c(b)];
}

/** CSS gradient of the colour map, for the legend. */
export function turboGradient(steps = 11): string {
  const stops = Array.from({ length: steps }, (_, i) => {
    const [r, g, b] = turbo(i / (steps - 1));
    return `rgb(${r} ${g} ${b}) ${((100 * i) / (steps - 1)).toFixed(0)}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Opacity of a heat value before the global opacity slider: faint where the class is absent. */
export const heatAlpha = (v: number): number => 0.15 + 0.85 * Math.min(1, Math.max(0, v));
