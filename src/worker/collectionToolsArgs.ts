/**
 * The checks of the collection tools' arguments (src/worker-api/collectionToolsApi.ts), applied by ./boundary.ts. Ranges that
 * depend on the collection or the model (thresholds, k, class indices) are checked by the services themselves.
 */
import * as z from 'zod';
import { finite, none, optionsOf, params, photoIds, whole, type ArgChecks } from './args';
import type { CollectionToolsApi } from '../worker-api/collectionToolsApi';

const topK = whole(1).optional();

export const COLLECTION_TOOLS_ARGS: ArgChecks<CollectionToolsApi> = {
  deletePhotos: params(['ids', photoIds]),
  undoDelete: params(['undoToken', z.string({ error: 'expected the undoToken of a deletePhotos result (a string)' })]),
  duplicates: params(['options', optionsOf({ threshold: finite.optional(), wait: z.boolean().optional() })]),
  groups: params(['options', optionsOf({ k: whole(1).optional(), minSim: finite.optional(), wait: z.boolean().optional() })]),
  rebuildGroups: none,
  cancelGrouping: none,
  classCounts: params(['options', optionsOf({ topK, limit: whole(1).optional() })]),
  photosWithClass: params(['classIndex', whole()], ['options', optionsOf({ topK })]),
  photoFacts: params(['ids', photoIds]),
};
