/**
 * Beyond the paper: training-free steps on the same features, evaluated with the app's search code (src/search) on
 * the same queries as the paper's methods. Names extend the paper's: `+aqe10` alpha-QE (alpha 3, n 10), `+dba10`
 * alpha-DBA (n 10, alpha 3), `+sgM` SuperGlobal over the top M (`all`: the whole collection), `+diffMkK` diffusion
 * over the top M with K graph neighbours, `norm`: SuperGlobal with l2-normalised refined descriptors, `+rRmax`
 * re-ranking keyed by the previous score raised by the region's gain over the cosine (plain `+rR` is the paper's
 * region order), `+qe5reg` QE averaging the best regions (the authors' code), `-ms` multi-scale descriptors,
 * `cw-ona-sM` online aggregation over the OfA top M. Steps run in search()'s order whatever the name's: SuperGlobal,
 * re-ranking, QE, diffusion.
 */
import type { SearchParams } from '../../src/search/types';
import type { MethodSpec } from './evalMethods';

/**
 * The methods, for R (re-ranking), n (QE after re-ranking), N (collection size: `all`) and whether multi-scale
 * descriptors are on.
 */
export function beyondMethods(R: number, n: number, N: number, multiScale: boolean): MethodSpec[] {
  const m = (name: string, db: MethodSpec['db'], params: Partial<SearchParams>): MethodSpec => ({ name, db, params });
  const ona = { aggregation: 'online' as const };
  const aqe = { qe: 10, qeAlpha: 3 };
  const rmax = { rerank: R, rerankScore: 'max' as const };
  const sg = { superGlobal: 100 };
  const list: MethodSpec[] = [
    m('cw-ofa+aqe10', 'ofa', aqe),
    m('cw-ofa+aqe5', 'ofa', { qe: 5, qeAlpha: 3 }),
    m('cw-ofa+aqe20', 'ofa', { qe: 20, qeAlpha: 3 }),
    m('cw-ofa+aqe10a1', 'ofa', { qe: 10, qeAlpha: 1 }),
    m('cw-ofa+dba10', 'dba', {}),
    m('cw-ofa+dba10+aqe10', 'dba', aqe),
    m('cw-ofa+dba10+sg100', 'dba', sg),
    m(`cw-ofa+dba10+r${R}max`, 'dba', rmax),
    ...[50, 100].map((M) => m(`cw-ofa+sg${M}`, 'ofa', { superGlobal: M })),
    m('cw-ofa+sgall', 'ofa', { superGlobal: N }),
    m('cw-ofa+sg100norm', 'ofa', { ...sg, superGlobalNormalize: true }),
    ...([[100, '100'], [N, 'all']] as const).flatMap(([M, tag]) => [10, 20, 50].map((k) => m(`cw-ofa+diff${tag}k${k}`, 'ofa', { diffusion: M, diffusionK: k }))),
    ...[10, 25, 50, R].map((r) => m(`cw-ofa+r${r}max`, 'ofa', { rerank: r, rerankScore: 'max' })),
    m(`cw-ofa+r${R}+qe${n}reg`, 'ofa', { rerank: R, rerankScore: 'region', qe: n, qeSource: 'region' }),
    m(`cw-ofa+r${R}max+qe${n}`, 'ofa', { ...rmax, qe: n }),
    m(`cw-ofa+r${R}max+qe${n}reg`, 'ofa', { ...rmax, qe: n, qeSource: 'region' }),
    m(`cw-ofa+r${R}max+aqe10`, 'ofa', { ...rmax, ...aqe }),
    m(`cw-ofa+r${R}max+aqe10reg`, 'ofa', { ...rmax, ...aqe, qeSource: 'region' }),
    m(`cw-ofa+r${R}max+diff100k10`, 'ofa', { ...rmax, diffusion: 100, diffusionK: 10 }),
    m('cw-ofa+sg100+aqe10', 'ofa', { ...sg, ...aqe }),
    ...[10, 25, R].map((r) => m(`cw-ofa+sg100+r${r}max`, 'ofa', { ...sg, rerank: r, rerankScore: 'max' })),
    m(`cw-ofa+sg100+r25max+qe${n}reg`, 'ofa', { ...sg, rerank: 25, rerankScore: 'max', qe: n, qeSource: 'region' }),
    m(`cw-ofa+sg100+r${R}max+qe${n}reg`, 'ofa', { ...sg, ...rmax, qe: n, qeSource: 'region' }),
    m('cw-ona+aqe10', 'ofa', { ...ona, ...aqe }),
    m('cw-ona+sg100', 'ofa', { ...ona, ...sg }),
    m('cw-ona+diff100k10', 'ofa', { ...ona, diffusion: 100, diffusionK: 10 }),
    m(`cw-ona+r${R}max`, 'ofa', { ...ona, ...rmax }),
    m(`cw-ona+r${R}max+qe${n}`, 'ofa', { ...ona, ...rmax, qe: n }),
    m(`cw-ona+r${R}max+qe${n}reg`, 'ofa', { ...ona, ...rmax, qe: n, qeSource: 'region' }),
    m(`cw-ona+r${R}max+aqe10`, 'ofa', { ...ona, ...rmax, ...aqe }),
    m(`cw-ona+sg100+r${R}max+qe${n}reg`, 'ofa', { ...ona, ...sg, ...rmax, qe: n, qeSource: 'region' }),
    ...[10, 25, 50, 100, 150, 200].map((M) => m(`cw-ona-s${M}`, 'ofa', { ...ona, onlineShortlist: M })),
    ...[25, 100].map((M) => m(`cw-ona-s${M}+r${R}max+qe${n}`, 'ofa', { ...ona, onlineShortlist: M, ...rmax, qe: n })),
    // What the app can afford at 10k photos: OnA over an OfA shortlist, then the other steps.
    ...[50, 100].flatMap((M) => {
      const s = { ...ona, onlineShortlist: M };
      return [
        m(`cw-ona-s${M}+qe10`, 'ofa', { ...s, qe: 10 }),
        m(`cw-ona-s${M}+aqe10`, 'ofa', { ...s, ...aqe }),
        m(`cw-ona-s${M}+sg100`, 'ofa', { ...s, ...sg }),
        m(`cw-ona-s${M}+r${R}max+qe${n}reg`, 'ofa', { ...s, ...rmax, qe: n, qeSource: 'region' }),
        m(`cw-ona-s${M}+sg100+r${R}max+qe${n}reg`, 'ofa', { ...s, ...sg, ...rmax, qe: n, qeSource: 'region' }),
      ];
    }),
  ];
  if (multiScale) {
    list.push(
      m('cw-ofa-ms', 'ms', {}),
      m('cw-ofa-ms+aqe10', 'ms', aqe),
      m('cw-ofa-ms+sg100', 'ms', sg),
      m(`cw-ofa-ms+r${R}max`, 'ms', rmax),
      m(`cw-ofa-ms+r${R}max+qe${n}`, 'ms', { ...rmax, qe: n }),
    );
  }
  return list;
}
