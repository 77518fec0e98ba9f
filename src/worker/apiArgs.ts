/**
 * The checks of EngineApi's own methods' arguments (src/worker-api/api.ts; the collection tools' are in ./collectionToolsArgs.ts),
 * applied by ./boundary.ts before a call reaches the engine. Shapes and types are checked here; what depends on the
 * collection (an id that is not in it, a class beyond the model's) is checked by the engine, with its own message.
 */
import * as z from 'zod';
import { validateSearchControls } from '../search/controls';
import type { CollectionToolsApi } from '../worker-api/collectionToolsApi';
import type { EngineApi, EngineEvent, SearchControls } from '../worker-api/api';
import { blob, callback, file, finite, none, params, photoId, photoIds, whole, type ArgChecks } from './args';

type Handle = FileSystemDirectoryHandle | FileSystemFileHandle;
const handle = z.custom<Handle>((v) => typeof FileSystemHandle !== 'undefined' && v instanceof FileSystemHandle, { error: 'expected a FileSystemHandle' });

const startOptions = z.object(
  {
    backend: z.enum(['auto', 'webgpu', 'webgl', 'wasm', 'cpu']),
    model: z.string().optional(),
    longSide: whole(64, 2048).optional(),
    thumbnails: z.enum(['with-photos', 'on-demand']).optional(),
    threads: whole(1, 64).optional(),
  },
  { error: 'expected { backend, model?, longSide?, thumbnails?, threads? }' },
);

const importFile = z.object(
  {
    file,
    /** '' for single files. */
    path: z.string().default(''),
    handle: z.object({ root: handle, path: z.array(z.string()) }).optional(),
  },
  { error: 'expected { file: File, path?: string, handle? }' },
);

const box = z.object({ x1: finite, y1: finite, x2: finite, y2: finite }, { error: 'expected a box { x1, y1, x2, y2 } in pixels' });

const querySource = z.discriminatedUnion('kind', [z.object({ kind: z.literal('photo'), id: photoId }), z.object({ kind: z.literal('file'), file: blob, name: z.string() })], {
  error: 'expected { kind: "photo", id } or { kind: "file", file: Blob, name }',
});

/** The search controls: their one check (search/controls.ts), with its own messages. */
const controls = z.custom<SearchControls>((v) => typeof v === 'object' && v !== null, { error: 'expected the search controls { aggregation, nc, qe, rerank, ... } (or nothing: the app\'s defaults)' }).transform((c, ctx) => {
  try {
    return validateSearchControls(c);
  } catch (e) {
    ctx.issues.push({ code: 'custom', message: (e as Error).message, input: c });
    return z.NEVER;
  }
});

const scope = z.union([z.object({ group: z.string() }), z.object({ class: whole(), topK: whole(1).optional() }), z.object({ ids: photoIds })], {
  error: 'expected a scope { group: id }, { class: index, topK? } or { ids: [...] }',
});

const searchRequest = z.object(
  {
    query: querySource,
    box: box.optional(),
    controls: controls.optional(),
    within: scope.optional(),
    offset: whole().optional(),
    limit: whole(1).optional(),
    minScore: finite.optional(),
  },
  { error: 'expected a search request { query, box?, controls?, within?, offset?, limit?, minScore? }' },
);

const heatmapTarget = z.discriminatedUnion('kind', [z.object({ kind: z.literal('query') }), z.object({ kind: z.literal('photo'), id: photoId })], {
  error: 'expected { kind: "query" } or { kind: "photo", id }',
});

const customModelSource = z.discriminatedUnion('kind', [z.object({ kind: z.literal('files'), files: z.array(file) }), z.object({ kind: z.literal('url'), url: z.string() })], {
  error: 'expected { kind: "files", files: File[] } or { kind: "url", url }',
});

/** Every EngineApi method but the collection tools'. */
export const ENGINE_ARGS: ArgChecks<Omit<EngineApi, keyof CollectionToolsApi>> = {
  start: params(['options', startOptions], ['onEvent', callback<(event: EngineEvent) => void>('the event listener')]),
  importFiles: params(['files', z.array(importFile, { error: 'expected an array of { file, path }' })]),
  cancelIndexing: none,
  resumeIndexing: none,
  removeUnindexed: none,
  clearCollection: none,
  exportIndex: params(['options', z.object({ photos: z.boolean() }, { error: 'expected { photos: boolean }' })]),
  importIndex: params(['file', blob]),
  setModel: params(['model', z.string({ error: 'expected a model id (a string)' })]),
  photoBlob: params(['id', photoId]),
  photoFile: params(['id', photoId]),
  thumbnails: params(['ids', photoIds]),
  thumbnailUrls: params(['ids', photoIds]),
  releaseThumbnailUrls: params(['urls', z.array(z.string(), { error: 'expected an array of URLs that thumbnailUrls gave' })]),
  setStorageMode: params(['mode', z.enum(['link', 'copy', 'none'])]),
  storageReport: none,
  linkedFolders: none,
  foldersGranted: none,
  photoClasses: params(['id', photoId]),
  openQuery: params(['source', querySource]),
  search: params(['request', searchRequest]),
  heatmaps: params(['targets', z.array(heatmapTarget)], ['classIndex', whole()]),
  retryModel: none,
  addCustomModel: params(['source', customModelSource], ['options', z.object({ name: z.string().optional(), preprocessing: z.enum(['inception', 'caffe']) }, { error: 'expected { name?, preprocessing }' })]),
};
