/**
 * What the app searches with unless the user changes a control: one constant read by the worker (the page's initial
 * controls) and by the evaluation (its `app-default` row, scripts/lib/evalMethods.ts), so what ships is what is
 * measured. Choose these by evidence on every evaluation set (docs/EVALUATION.md, "Defaults by evidence").
 */
import { INDEX_NC } from '../index/settings';
import type { SearchControls } from './controls';
import { DEFAULT_SEARCH, type SearchParams } from './types';

/**
 * The best measured on paris6k-mini-dev (both models, box, crop and whole-photo queries) within 300 ms per query at
 * 10k photos on wasm (docs/RANKING.md, BENCHMARKS.md): offline descriptors and SuperGlobal re-ranking of the top 100.
 * CAM re-ranking (R) and online aggregation read stored maps per photo, which costs seconds with ResNet-50 at 10k;
 * they stay one control away. Online aggregation, when chosen, runs over the offline top 100 (the smallest shortlist
 * within 0.005 mAP of OnA over every photo, both models): its cost does not grow with the collection.
 */
export const APP_DEFAULT_CONTROLS: Readonly<SearchControls> = Object.freeze({
  aggregation: DEFAULT_SEARCH.aggregation,
  nc: DEFAULT_SEARCH.nc,
  qe: DEFAULT_SEARCH.qe,
  rerank: 0,
  superGlobal: 100,
  onlineShortlist: 100,
});

/** The search parameters of the page's controls: the paper's defaults (DEFAULT_SEARCH) with the controls over them. */
export const searchParamsOf = (controls: SearchControls): SearchParams => ({ ...DEFAULT_SEARCH, ...controls });

/**
 * Whether an indexed photo of the collection used as the query takes its maps from storage and its box classes from
 * the classifier on the box's stored maps (no forward pass, no reading of the photo) for these controls: where that
 * ranks as well as the pass, within 0.005 mAP on paris6k-mini-dev for both models (`npm run eval -- --query-from
 * stored`, docs/STORAGE.md "A collection photo as the query"): offline aggregation at the collection's NC (64), with or
 * without QE and re-ranking. Online aggregation loses up to 0.011 (0.078 with QE) and OfA at NC 8 with QE 0.0052
 * (ResNet-50): those keep the pass.
 */
export const queryFromStored = (c: Pick<SearchControls, 'aggregation' | 'nc'>): boolean => c.aggregation === 'offline' && c.nc === INDEX_NC;
