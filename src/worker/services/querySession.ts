/**
 * Query session: the query photo (one of the collection, or a dropped file that is never added), its maps — a
 * forward pass (run once, on the first search that needs it), or for an indexed photo of the collection its stored
 * maps (no network, no reading of the photo: queryFromStored, and always when the photo is not at hand) — the
 * classes of its box (a pass on the crop, or the classifier on the box's stored maps), the search with its pages,
 * and class heatmaps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../../index/db';
import { sha256Hex } from '../../index/hash';
import { decodeMaps } from '../../index/mapCodec';
import { INDEX_NC } from '../../index/settings';
import type { CwNetwork } from '../../model/network';
import { queryCrop } from '../../model/preprocess';
import { clampPixelBox, validateSearchControls } from '../../search/controls';
import { cellsToPixelBox, classHeatmap, pixelBoxToCells, storedBoxProbabilities, type CellBox, type Grid } from '../../search/cwForWorker';
import { search, topIndices } from '../../search/search';
import { APP_DEFAULT_CONTROLS, queryFromStored, searchParamsOf } from '../../search/defaults';
import type { SearchParams } from '../../search/types';
import type { ClassScore, Heatmap, HeatmapTarget, PhotoFile, PixelRect, QueryImage, QuerySource, ResultItem, ScoreKind, SearchRequest, SearchResponse, SearchScope } from '../../worker-api/api';
import { bitmapRgb, decodeUpright, preparePhoto } from '../images';
import { sniffImage } from '../imageSniff';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { NetworkManager, Rgb } from './networkManager';
import { isUnavailable, type Photos } from './photos';

const TOP_CLASSES = 5;
/**
 * Results sent to the page per search. The page shows 48 at a time ('Show more' pages through what it got, with no
 * new search), so 1000 is far more than anyone pages through; the search then orders only these (plus what
 * re-ranking and QE need) instead of all N, and a 100k collection does not send 100k results to the page.
 */
const RESULT_LIMIT = 1000;


interface QueryState {
  image: QueryImage;
  /** A photo of the collection: its id (its stored maps can stand in for a forward pass). */
  photoId: string | null;
  /** Pixels for a forward pass (decoded when first needed); null when the photo is not at hand. */
  rgb: Rgb | null;
  /** Reads and decodes the photo for a forward pass; null when it cannot be had (thumbnail only, not on disk). */
  pixels: (() => Promise<Rgb | null>) | null;
  /** Where X came from. */
  from: 'forward' | 'stored' | null;
  /** Whole-image maps: the forward pass (run on the first search that needs it) or the stored maps. */
  X: tf.Tensor3D | null;
  grid: Grid | null;
  probabilities: Float32Array | null;
  /** Class probabilities of crops, by box. */
  crops: Map<string, Float32Array>;
}

/** The last ranking, kept so that its pages need no new search. */
interface Ranked {
  key: string;
  /** Positions ranked, best first: the top of the ranking, or all of the scope (`complete`), after minScore. */
  ranking: Int32Array;
  scores: Float32Array;
  /** What each score is (SearchResult.scoreKinds), by rank. */
  scoreKinds: readonly ScoreKind[];
  rerank: Map<number, { boxes: PixelRect[]; best: number; regionScores: number[] }>;
  ids: readonly string[];
  complete: boolean;
  response: Omit<SearchResponse, 'results' | 'offset' | 'total' | 'timings'>;
}

const rect = (b: { x1: number; y1: number; x2: number; y2: number }): PixelRect => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
const shortLabel = (label: string) => label.split(',')[0].trim();

/** The top classes of a probability vector, named. */
function topClasses(probabilities: Float32Array, net: CwNetwork, n = TOP_CLASSES): ClassScore[] {
  return topIndices(probabilities, n).map((index) => ({ index, name: shortLabel(net.labels[index] ?? `class ${index}`), probability: probabilities[index] }));
}

export class QuerySession {
  private query: QueryState | null = null;

  private ranked: Ranked | null = null;

  constructor(
    private readonly store: CollectionStore,
    private readonly state: CollectionState,
    private readonly network: NetworkManager,
    private readonly photos: Photos,
    private readonly lock: Lock,
    /** The photo ids a search scope stands for (groups and classes live in other services). */
    private readonly resolveScope: (scope: SearchScope) => string[] | Promise<string[]> = (scope) => ('ids' in scope ? scope.ids : []),
  ) {}

  /** A photo to show: the original or its copy, else its thumbnail with the reason. */
  photoFile(id: string): Promise<PhotoFile> {
    return this.photos.file(id);
  }

  /** The query photo's id when the query is a photo of the collection. */
  get photoId(): string | null {
    return this.query?.photoId ?? null;
  }

  async photoClasses(id: string): Promise<ClassScore[]> {
    if (!this.state.index.has(id)) return [];
    const [features] = await this.store.getFeatures([id]);
    return features ? topClasses(features.probabilities, await this.network.get()) : [];
  }

  /**
   * Opens the query image (no network yet): a dropped file is decoded; a photo of the collection is read and
   * decoded only when a search needs its forward pass (see queryFromStored). The same image again keeps its maps.
   */
  async open(source: QuerySource): Promise<QueryImage> {
    let image: QueryImage;
    let state: Pick<QueryState, 'photoId' | 'rgb' | 'pixels'>;
    if (source.kind === 'photo') {
      if (this.query?.image.key === source.id) return this.query.image;
      const record = await this.store.getImage(source.id);
      if (!record) throw new Error('this photo is no longer in the collection');
      const shown = await this.photos.file(source.id);
      image = { key: source.id, name: record.name, width: record.width, height: record.height, blob: shown.blob };
      const id = source.id;
      const pixels = async () => {
        const photo = await this.photos.read(id).catch((e: unknown) => (isUnavailable(e) ? null : Promise.reject(e)));
        return photo && decodeRgb(photo.blob, photo.size);
      };
      state = { photoId: id, rgb: null, pixels: shown.kind === 'thumbnail' ? null : pixels };
    } else {
      const key = `file:${await sha256Hex(source.file)}`;
      if (this.query?.image.key === key) return this.query.image;
      // The same copy rule as for imported photos (large photos downscaled), so a photo gives the same features
      // whether it is dropped here or picked from the collection.
      const blob = (await preparePhoto(source.file, sniffImage(new Uint8Array(await source.file.arrayBuffer())))).blob!;
      const rgb = await decodeRgb(blob);
      image = { key, name: source.name, width: rgb.width, height: rgb.height, blob };
      state = { photoId: null, rgb, pixels: null };
    }
    await this.lock.run(async () => this.dispose());
    this.query = { image, ...state, from: null, X: null, grid: null, probabilities: null, crops: new Map() };
    return image;
  }

  /** Drops the query (its tensors with it) and the kept ranking. Run it under the tfjs lock. */
  dispose(): void {
    this.query?.X?.dispose();
    this.query = null;
    this.ranked = null;
  }

  /** The collection changed (photos indexed, removed, cleared): a kept ranking is out of date. */
  forgetRanking(): void {
    this.ranked = null;
  }

  /** The backend was lost: the query's tensors went with it. */
  release(): void {
    try {
      this.dispose();
    } catch {
      this.query = null;
    }
  }

  /** True when the query is a photo of the collection (not a dropped file). */
  get isCollectionPhoto(): boolean {
    return !!this.query && !this.query.image.key.startsWith('file:');
  }

  /** Searches the collection (or `within`) for the query; the app's default search when no controls are given. */
  async search(request: SearchRequest): Promise<SearchResponse> {
    const t0 = performance.now();
    const controls = validateSearchControls(request.controls ?? APP_DEFAULT_CONTROLS);
    const page = validatePage(request);
    const scope = request.within ? await this.scopeIds(request.within) : null;
    const image = await this.open(request.query);
    const net = await this.network.get();
    const { index } = this.state;
    return this.lock.run(async () => {
      const q = this.query;
      if (!q || q.image.key !== image.key) throw new Error('the query changed during the search');
      const tn = performance.now();
      const box = clampPixelBox(request.box ?? { x1: 0, y1: 0, x2: image.width, y2: image.height }, image.width, image.height);
      const ids = index.ids;
      const inScope = scope ? scope.size : ids.length;
      const key = JSON.stringify([image.key, box, controls, page.minScore, scope ? [scope.size, idsHash(scope)] : null, index.version]);
      const kept = this.ranked?.key === key ? this.ranked : null;
      // With a minimum score the whole scope is ranked (the cut may be anywhere); else what the page asks for.
      const want = page.minScore === undefined ? Math.max(RESULT_LIMIT, page.offset + page.limit) : Infinity;
      let ranked = kept && (kept.complete || kept.ranking.length >= want) ? kept : null;
      let networkMs = 0;
      if (!ranked) {
        await this.queryMaps(net, q, queryFromStored(controls));
        const grid = q.grid!;
        const cellBox = pixelBoxToCells(box, grid);
        const cropProbabilities = q.from === 'forward' ? await this.cropProbabilities(net, q, box) : await this.storedCropProbabilities(net, q, cellBox);
        networkMs = performance.now() - tn;
        const limit = Math.max(1, Math.min(inScope, want));
        const within = scope ? Uint8Array.from(ids, (id) => (scope.has(id) ? 1 : 0)) : undefined;
        const params: SearchParams = { ...searchParamsOf(controls), limit, ...(within ? { within } : {}) };
        // OfA descriptors: the ranking itself, or the shortlist that online aggregation re-scores, drawn from the
        // stored ones (the index's NC) whatever NC the online step uses: no recomputation over the whole collection.
        const online = controls.aggregation === 'online';
        const offline = (!online || (controls.onlineShortlist ?? 0) > 0) && index.size ? await index.offlineDescriptors(online ? INDEX_NC : controls.nc, net.head.w) : null;
        const result = await search({ X: q.X!, grid, box: cellBox, cropProbabilities }, index.collection(offline), params, { w: net.head.w, whitening: null });
        let { ranking, scores, scoreKinds } = result;
        const complete = ranking.length >= inScope;
        if (page.minScore !== undefined) {
          const keep = Array.from(ranking, (_, r) => r).filter((r) => scores[r] >= page.minScore!);
          ranking = Int32Array.from(keep, (r) => ranking[r]);
          scores = Float32Array.from(keep, (r) => scores[r]);
          scoreKinds = keep.map((r) => scoreKinds[r]);
        }
        const rerank = new Map<number, { boxes: PixelRect[]; best: number; regionScores: number[] }>();
        for (const [i, re] of result.rerank) {
          const g = index.record(ids[i])!.grid;
          rerank.set(i, { boxes: re.boxes.map((b) => rect(cellsToPixelBox(b, g))), best: re.best, regionScores: re.regionScores });
        }
        const response = {
          query: { key: image.key, width: image.width, height: image.height, box, cellBox: rect(cellsToPixelBox(cellBox, grid)), classes: topClasses(cropProbabilities, net), grid },
          controls,
          searched: inScope,
          belowMinScore: result.ranking.length - ranking.length,
          queryFrom: q.from!,
        };
        ranked = this.ranked = { key, ranking, scores, scoreKinds, rerank, ids, complete, response };
      }
      const end = Math.min(ranked.ranking.length, page.offset + page.limit);
      const results: ResultItem[] = [];
      for (let r = page.offset; r < end; r++) {
        const i = ranked.ranking[r];
        const re = ranked.rerank.get(i);
        results.push({ id: ranked.ids[i], rank: r + 1, score: ranked.scores[r], scoreKind: ranked.scoreKinds[r], ...(re ? { rerank: re } : {}) });
      }
      // Without a cut the ranking's length is the scope's even where only its top was ordered.
      const total = ranked.complete ? ranked.ranking.length : ranked.response.searched;
      return { ...ranked.response, results, offset: page.offset, total, timings: { networkMs, searchMs: performance.now() - tn - networkMs, totalMs: performance.now() - t0 } };
    });
  }

  /**
   * The query's whole-image maps: its stored maps (an indexed photo of the collection, where queryFromStored says
   * they are as good for these controls, or the photo is not at hand), else its forward pass (once). Under the lock.
   */
  private async queryMaps(net: CwNetwork, q: QueryState, storedIsAsGood: boolean): Promise<void> {
    const indexed = q.photoId !== null && this.state.index.has(q.photoId);
    if (!q.rgb && q.pixels && (!indexed || !storedIsAsGood)) {
      q.rgb = await q.pixels();
      if (!q.rgb) q.pixels = null; // gone from disk meanwhile: its stored maps from now on
    }
    const want = q.rgb && (!indexed || !storedIsAsGood) ? 'forward' : 'stored';
    if (q.X && q.from === want) return;
    q.X?.dispose();
    q.X = null;
    q.from = want;
    if (want === 'forward') {
      const r = this.network.forward(net, q.rgb!);
      q.probabilities = (await r.probabilities.data()) as Float32Array;
      r.probabilities.dispose();
      q.X = r.X;
      q.grid = r.grid;
      return;
    }
    if (!indexed) throw new Error('this photo cannot be searched with: it is not indexed yet and its original is not at hand');
    const row = this.state.index.record(q.photoId!)!;
    const grid = row.grid;
    const [e] = await this.state.index.encodedMaps([q.photoId!]);
    q.X = tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]);
    q.grid = grid;
  }

  /** Class probabilities of the query box from its stored maps (no forward pass). */
  private async storedCropProbabilities(net: CwNetwork, q: QueryState, cellBox: CellBox): Promise<Float32Array> {
    const key = `cells:${cellBox.x},${cellBox.y},${cellBox.w},${cellBox.h}`;
    const cached = q.crops.get(key);
    if (cached) return cached;
    const p = await storedBoxProbabilities(q.X!, cellBox, net.head.w, net.head.b);
    q.crops.set(key, p);
    return p;
  }

  /** The indexed photos a scope stands for; a clear error for a scope that names nothing known. */
  private async scopeIds(scope: SearchScope): Promise<Set<string>> {
    if (!scope || typeof scope !== 'object' || !('group' in scope || 'class' in scope || 'ids' in scope)) {
      throw new Error('the search scope must be { group: id }, { class: index, topK? } or { ids: [...] }');
    }
    if ('ids' in scope && !(Array.isArray(scope.ids) && scope.ids.every((id) => typeof id === 'string'))) throw new Error('the search scope { ids } must be an array of photo ids');
    return new Set((await this.resolveScope(scope)).filter((id) => this.state.index.has(id)));
  }

  /** Class probabilities of the query box: a forward pass on its crop (see queryCrop); the whole image reuses its own. */
  private async cropProbabilities(net: CwNetwork, q: QueryState, box: PixelRect): Promise<Float32Array> {
    const { data, width: W, height: H } = q.rgb!;
    const c = queryCrop(box, W, H, net.longSide);
    if (!c) return q.probabilities!;
    const key = `${c.x1},${c.y1},${c.x2},${c.y2}`;
    const cached = q.crops.get(key);
    if (cached) return cached;
    const cw = c.x2 - c.x1, ch = c.y2 - c.y1;
    const crop = new Int32Array(cw * ch * 3);
    for (let y = 0; y < ch; y++) crop.set(data.subarray(((c.y1 + y) * W + c.x1) * 3, ((c.y1 + y) * W + c.x2) * 3), y * cw * 3);
    const r = this.network.forward(net, { data: crop, width: cw, height: ch }, c.longSide);
    const p = (await r.probabilities.data()) as Float32Array;
    tf.dispose([r.X, r.probabilities]);
    q.crops.set(key, p);
    return p;
  }

  async heatmaps(targets: HeatmapTarget[], classIndex: number): Promise<Heatmap[]> {
    if (!Number.isInteger(classIndex) || classIndex < 0) throw new Error(`class index must be a non-negative integer, got ${classIndex}`);
    const net = await this.network.get();
    if (classIndex >= net.adapter.classes) throw new Error(`class index ${classIndex} is out of range (${net.adapter.classes} classes)`);
    const { index } = this.state;
    return this.lock.run(async () => {
      const out: Heatmap[] = [];
      for (const target of targets) {
        if (target.kind === 'query') {
          if (!this.query?.X || !this.query.grid) continue;
          out.push({ target, classIndex, grid: this.query.grid, values: await classHeatmap(this.query.X, net.head.w, classIndex) });
          continue;
        }
        const row = index.record(target.id);
        if (!row) continue;
        const grid = row.grid;
        const [e] = await index.encodedMaps([target.id]);
        const X = tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]);
        try {
          out.push({ target, classIndex, grid, values: await classHeatmap(X, net.head.w, classIndex) });
        } finally {
          X.dispose();
        }
      }
      return out;
    });
  }
}

/** Decodes a photo to RGB pixels (upright, at `size` when given). */
async function decodeRgb(blob: Blob, size?: { width: number; height: number }): Promise<Rgb> {
  const bitmap = await decodeUpright(blob, size);
  try {
    return bitmapRgb(bitmap);
  } finally {
    bitmap.close();
  }
}

/** The page asked for: offset, limit and score cut, checked. */
function validatePage(r: SearchRequest): { offset: number; limit: number; minScore?: number } {
  const offset = r.offset ?? 0;
  const limit = r.limit ?? RESULT_LIMIT;
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`offset must be an integer >= 0, got ${offset}`);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be an integer >= 1, got ${limit}`);
  if (r.minScore !== undefined && !Number.isFinite(r.minScore)) throw new Error(`minScore must be a finite number, got ${r.minScore}`);
  return { offset, limit, ...(r.minScore !== undefined ? { minScore: r.minScore } : {}) };
}

/** A short fingerprint of a scope's ids (FNV-1a), so a kept ranking is reused only for the same scope. */
function idsHash(ids: ReadonlySet<string>): number {
  let h = 0x811c9dc5;
  for (const id of ids) for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
