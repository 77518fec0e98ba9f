/**
 * What the page asks a search for, checked and made safe before the search runs: the search controls (whole
 * numbers in range, a known aggregation; a specific message otherwise) and the query box (clipped to the photo).
 */
import type { PixelBox } from '../cw/types';
import type { SearchParams } from './types';

/**
 * The knobs the page sets (the worker API's SearchControls has exactly these fields): the paper's four, and the
 * steps beyond it (docs/RANKING.md), each optional (absent = off / the paper's behaviour).
 */
export type SearchControls = Pick<SearchParams, 'aggregation' | 'nc' | 'qe' | 'rerank'> &
  Partial<Pick<SearchParams, 'onlineShortlist' | 'superGlobal' | 'qeAlpha' | 'qeSource' | 'qeNeighbours' | 'diffusion' | 'diffusionK'>>;

const OPTIONAL_CONTROLS = ['onlineShortlist', 'superGlobal', 'qeAlpha', 'qeSource', 'qeNeighbours', 'diffusion', 'diffusionK'] as const;

/** Whole-number parameters: [min, max, the name a message uses]. */
const WHOLE: Partial<Record<keyof SearchParams, [number, number, string]>> = {
  nc: [1, 1000, 'NC'],
  qe: [0, 1000, 'QE n'],
  rerank: [0, 100000, 'Re-ranking R'],
  ncRerank: [1, 1000, 'Re-ranking classes NC_re'],
  limit: [1, Number.MAX_SAFE_INTEGER, 'Result limit'],
  onlineShortlist: [0, 100000, 'Online shortlist M'],
  superGlobal: [0, 100000, 'SuperGlobal M'],
  diffusion: [0, 100000, 'Diffusion M'],
  diffusionK: [1, 1000, 'Diffusion neighbours k'],
  superGlobalK: [1, 1000, 'SuperGlobal neighbours K'],
  reciprocalK: [1, 100000, 'Reciprocal neighbours k'],
};
const RULES = ['top', 'reciprocal', 'gap'];

/**
 * The one check of search parameters, for search() and for the page's controls: whole numbers in range, known
 * choices, a Uint8Array scope; throws a specific message otherwise. Optional parameters are checked when present.
 */
export function validateSearchParams(p: Partial<SearchParams>): void {
  if (p.aggregation !== 'offline' && p.aggregation !== 'online') throw new Error(`aggregation must be offline or online, got ${p.aggregation}`);
  for (const [key, [min, max, name]] of Object.entries(WHOLE) as [keyof SearchParams, [number, number, string]][]) {
    const v = p[key] as unknown;
    if (v === undefined && key !== 'nc' && key !== 'qe' && key !== 'rerank' && key !== 'ncRerank') continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${String(v)}`);
  }
  if (p.qeAlpha !== undefined && !(typeof p.qeAlpha === 'number' && p.qeAlpha >= 0 && p.qeAlpha <= 10)) throw new Error(`QE alpha must be a number from 0 to 10, got ${p.qeAlpha}`);
  if (p.qeSource !== undefined && p.qeSource !== 'global' && p.qeSource !== 'region') throw new Error(`QE source must be global or region, got ${p.qeSource}`);
  if (p.rerankScore !== undefined && p.rerankScore !== 'max' && p.rerankScore !== 'region') throw new Error(`re-ranking score must be max or region, got ${p.rerankScore}`);
  if (p.superGlobalBeta !== undefined && !(typeof p.superGlobalBeta === 'number' && p.superGlobalBeta >= 0 && p.superGlobalBeta <= 10)) throw new Error(`SuperGlobal beta must be a number from 0 to 10, got ${p.superGlobalBeta}`);
  if (p.qeMinScore !== undefined && !(typeof p.qeMinScore === 'number' && Number.isFinite(p.qeMinScore))) throw new Error(`QE minimum score must be a finite number, got ${p.qeMinScore}`);
  for (const key of ['qeNeighbours', 'superGlobalNeighbours'] as const) {
    if (p[key] !== undefined && !RULES.includes(p[key])) throw new Error(`${key === 'qeNeighbours' ? 'QE' : 'SuperGlobal'} neighbours must be ${RULES.join(', ')}, got ${p[key]}`);
  }
  if (p.within !== undefined && !(p.within instanceof Uint8Array)) throw new Error('the search scope must be a Uint8Array mask');
}

/** The page's controls checked (validateSearchParams) and copied: only the known fields, absent ones left out. */
export function validateSearchControls(c: SearchControls): SearchControls {
  const out: SearchControls = { aggregation: c.aggregation, nc: c.nc, qe: c.qe, rerank: c.rerank };
  for (const key of OPTIONAL_CONTROLS) if (c[key] !== undefined) (out as Record<string, unknown>)[key] = c[key];
  validateSearchParams({ ...out, ncRerank: 6 });
  return out;
}

/** The box clipped to the image; a box with no area inside it becomes the whole image. */
export function clampPixelBox(b: PixelBox, width: number, height: number): PixelBox {
  const x1 = Math.max(0, Math.min(b.x1, b.x2)), y1 = Math.max(0, Math.min(b.y1, b.y2));
  const x2 = Math.min(width, Math.max(b.x1, b.x2)), y2 = Math.min(height, Math.max(b.y1, b.y2));
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 - x1 < 1 || y2 - y1 < 1) return { x1: 0, y1: 0, x2: width, y2: height };
  return { x1, y1, x2, y2 };
}
