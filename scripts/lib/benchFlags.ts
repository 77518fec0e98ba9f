/** Command-line flags of the benchmark scripts (scripts/bench.ts, scripts/bench-gpu.ts) -> applyOverrides keys. */
const BENCH_FLAGS = {
  models: 'models', 'long-sides': 'longSides', ncs: 'ncs', sections: 'sections', repeats: 'repeats', warmup: 'warmup',
  'cw-repeats': 'cwRepeats', 'memory-images': 'memoryImages', 'ofa-sizes': 'ofaSizes', 'ofa-dims': 'ofaDims',
  'ofa-repeats': 'ofaRepeats', k: 'k', 'ona-models': 'onaModels', 'ona-sizes': 'onaSizes', shortlist: 'shortlist',
  'ona-nc': 'onaNc', 'ona-repeats': 'onaRepeats', 'ona-long-side': 'onaLongSide',
} as const;

/** parseArgs options for every flag of BENCH_FLAGS (all strings). */
export const benchFlagOptions = () => Object.fromEntries(Object.keys(BENCH_FLAGS).map((f) => [f, { type: 'string' as const }]));

/** The applyOverrides input from parsed flag values. */
export function benchOverrides(values: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [flag, key] of Object.entries(BENCH_FLAGS)) out[key] = values[flag] as string | undefined;
  return out;
}
