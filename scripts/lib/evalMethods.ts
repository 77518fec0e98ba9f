/**
 * The CW methods of the evaluation, each a name, the stored descriptors it searches and its search parameters: every
 * one runs through the app's search() (src/search/search.ts) with exactly these parameters. To add a method, add a
 * line to beyondMethods (scripts/lib/evalBeyond.ts) or give it on the command line (`--method 'NAME={...}'`).
 */
import { APP_DEFAULT_CONTROLS, searchParamsOf } from '../../src/search/defaults';
import type { SearchParams } from '../../src/search/types';

export interface MethodSpec {
  name: string;
  /** Descriptors searched (and shortlisted from): OfA at the method's NC, OfA after alpha-DBA, or multi-scale OfA. */
  db: 'ofa' | 'dba' | 'ms';
  /** Over the run's defaults: offline aggregation at the run's NC, no QE or re-ranking, the run's NC_re. */
  params: Partial<SearchParams>;
  /** Also run with the run's PCA-whitening (name + '+pca'), when it whitens: the paper's rows. */
  whitened?: boolean;
  /** The query as the app builds it: a photo of the collection from its stored maps where queryFromStored() says so. */
  appQuery?: boolean;
}

/** The run's values the method names and defaults use. */
export interface MethodRun {
  nc: number;
  ncRerank: number;
  qe: number;
  rerank: number;
  qeAfterRerank: number;
}

/** The full search parameters of a method in a run. */
export const paramsOf = (m: MethodSpec, run: Pick<MethodRun, 'nc' | 'ncRerank'>): SearchParams => ({
  aggregation: 'offline',
  nc: run.nc,
  qe: 0,
  rerank: 0,
  ncRerank: run.ncRerank,
  ...m.params,
});

/** The name of a method's whitened variant: `cw-ofa+qe10` -> `cw-ofa+pca+qe10` (the names the paper's table uses). */
export const whitenedName = (name: string): string => name.replace(/^(cw-o[fn]a(?:-nc\d+)?)/, '$1+pca');

export const APP_DEFAULT = 'app-default';

/**
 * What the app ships: APP_DEFAULT_CONTROLS (src/search/defaults.ts, the constant the worker gives the page) turned
 * into search parameters as the worker does (searchParamsOf), its query built as the worker builds it.
 */
export function appDefaultMethod(): MethodSpec {
  return { name: APP_DEFAULT, db: 'ofa', params: searchParamsOf({ ...APP_DEFAULT_CONTROLS }), appQuery: true };
}

/**
 * The paper's CW rows at NC `nc`: OfA / OnA, each + QE n, + CAM re-ranking of the top R in the paper's order
 * (`region`), + R then QE averaging image descriptors (no re-ranking rows for OfA at another NC than the run's).
 */
export function paperMethods(run: MethodRun, nc: number): MethodSpec[] {
  const tag = nc === run.nc ? '' : `-nc${nc}`;
  const out: MethodSpec[] = [];
  for (const agg of ['ofa', 'ona'] as const) {
    const base: Partial<SearchParams> = { nc, ...(agg === 'ona' ? { aggregation: 'online' } : {}) };
    const m = (extra: string, params: Partial<SearchParams>) => out.push({ name: `cw-${agg}${tag}${extra}`, db: 'ofa', params: { ...base, ...params }, whitened: true });
    m('', {});
    m(`+qe${run.qe}`, { qe: run.qe });
    if (nc === run.nc || agg === 'ona') {
      m(`+r${run.rerank}`, { rerank: run.rerank, rerankScore: 'region' });
      m(`+r${run.rerank}+qe${run.qeAfterRerank}`, { rerank: run.rerank, rerankScore: 'region', qe: run.qeAfterRerank, qeSource: 'global' });
    }
  }
  return out;
}

/**
 * A method from the command line: `NAME={json}`, the JSON being search parameters plus optional "db" ("ofa", "dba",
 * "ms"), e.g. `cw-ofa+sg50={"superGlobal":50}`.
 */
export function parseMethod(text: string): MethodSpec {
  const eq = text.indexOf('=');
  if (eq < 1) throw new Error(`--method ${text}: expected NAME={json search parameters}`);
  let json: Partial<SearchParams> & { db?: MethodSpec['db'] };
  try {
    json = JSON.parse(text.slice(eq + 1));
  } catch (e) {
    throw new Error(`--method ${text}: the parameters are not JSON (${(e as Error).message})`, { cause: e });
  }
  const { db = 'ofa', ...params } = json;
  if (!['ofa', 'dba', 'ms'].includes(db)) throw new Error(`--method ${text}: db must be ofa, dba or ms`);
  return { name: text.slice(0, eq), db, params };
}

/**
 * A CW method from its name alone, for names no list holds (`--methods` takes them): `cw-ofa` or `cw-ona`, then
 * `-ncN` (NC), `-sM` (OnA over the top M of OfA at the run's NC, the collection's), and steps, each `+`: `dba10` (alpha-DBA descriptors), `sgM` (SuperGlobal
 * over the top M; then `kK`, `bBETA`, `rec` / `gap` for its query side), `rR` (re-ranking, the paper's region order;
 * `rRmax` the max key), `qeN` / `aqeN` (QE / alpha-QE, alpha 3 unless `aALPHA`; then `reg` for the best regions,
 * `rec` or `recK` / `gap` for the neighbours, `minT` a minimum score), `diffMkK` (diffusion). Steps run in search()'s
 * order whatever the name's. Returns null when the name does not follow this.
 */
export function methodFromName(name: string): MethodSpec | null {
  const head = /^cw-(ofa|ona)(?:-nc(\d+))?(?:-s(\d+))?((?:\+[a-z0-9.]+)*)$/.exec(name);
  if (!head) return null;
  const [, agg, nc, shortlist, steps] = head;
  const params: Partial<SearchParams> = {
    ...(agg === 'ona' ? { aggregation: 'online' as const } : {}),
    ...(nc ? { nc: Number(nc) } : {}),
    ...(shortlist ? { onlineShortlist: Number(shortlist) } : {}),
  };
  if (shortlist && agg !== 'ona') return null;
  let db: MethodSpec['db'] = 'ofa';
  const num = '(\\d+(?:\\.\\d+)?)';
  const rule = (s: string | undefined): 'reciprocal' | 'gap' | undefined => (s === 'rec' ? 'reciprocal' : s === 'gap' ? 'gap' : undefined);
  for (const step of steps.split('+').filter(Boolean)) {
    let m: RegExpExecArray | null;
    if (step === 'dba10') db = 'dba';
    else if ((m = new RegExp(`^sg(\\d+)(?:k(\\d+))?(?:b${num})?(rec|gap)?(\\d+)?$`).exec(step))) {
      Object.assign(params, { superGlobal: Number(m[1]) }, m[2] && { superGlobalK: Number(m[2]) }, m[3] && { superGlobalBeta: Number(m[3]) }, m[4] && { superGlobalNeighbours: rule(m[4]) }, m[5] && { reciprocalK: Number(m[5]) });
    } else if ((m = /^r(\d+)(max)?$/.exec(step))) Object.assign(params, { rerank: Number(m[1]), rerankScore: m[2] ? 'max' : 'region' });
    else if ((m = new RegExp(`^(a?)qe(\\d+)(?:a${num})?(reg)?(?:(rec|gap)(\\d+)?)?(?:min${num})?$`).exec(step))) {
      Object.assign(params, { qe: Number(m[2]), qeSource: m[4] ? 'region' : 'global' }, m[1] && { qeAlpha: m[3] ? Number(m[3]) : 3 }, m[5] && { qeNeighbours: rule(m[5]) }, m[6] && { reciprocalK: Number(m[6]) }, m[7] && { qeMinScore: Number(m[7]) });
      if (m[3] && !m[1]) return null;
    } else if ((m = /^diff(\d+)k(\d+)$/.exec(step))) Object.assign(params, { diffusion: Number(m[1]), diffusionK: Number(m[2]) });
    else return null;
  }
  return { name, db, params };
}
