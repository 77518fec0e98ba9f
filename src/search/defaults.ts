/**
 * What the app searches with unless the user changes a control: one constant read by the worker (the page's initial
 * controls) and by the evaluation (its `app-default` row, scripts/lib/evalMethods.ts), so what ships is what is
 * measured. Choose these by evidence on every evaluation set (docs/EVALUATION.md, "Defaults by evidence").
 */
import { INDEX_NC } from '../index/settings';
import type { SearchControls } from './controls';
import { DEFAULT_SEARCH, type SearchParams } from './types';

/**
 * Chosen across the validation sets (README "Numbers", docs/RANKING.md): never more than 0.005 mAP below plain CW-OfA
 * on any set and any of the three models, and higher overall. Online aggregation with the query's top 8 classes (NC
 * 8: the best CW setting where a query has a few matches among many photos of the same kind) over the stored OfA top
 * 100 (its cost does not grow with the collection), then query expansion with the top 5 that are k-reciprocal
 * neighbours of the query: an expansion that only trusts photos which have the query among their own 10 nearest, so
 * a query whose top results are wrong is left as it is. QE n, k and the shortlist were chosen on the landmark-
 * distractor sets (sparse-lm, MobileNet); plain QE, SuperGlobal, DBA and diffusion lose up to 0.3 on UKBench and on
 * landmark sets with a few matches per query: they stay one control away.
 */
export const APP_DEFAULT_CONTROLS: Readonly<SearchControls> = Object.freeze({
  aggregation: 'online',
  nc: 8,
  qe: 5,
  rerank: 0,
  onlineShortlist: 100,
  qeNeighbours: 'reciprocal',
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
