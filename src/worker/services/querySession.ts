/**
 * Query session: the query photo (one of the collection, or a dropped file that is never added), its forward pass
 * (run once, on the first search), the classes of its box (a pass on the crop), the search itself, and class
 * heatmaps of the query and of collection photos.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CollectionStore } from '../../index/db';
import { sha256Hex } from '../../index/hash';
import { decodeMaps } from '../../index/mapCodec';
import type { CwNetwork } from '../../model/network';
import { queryCrop } from '../../model/preprocess';
import { clampPixelBox, validateSearchControls } from '../../search/controls';
import { cellsToPixelBox, classHeatmap, pixelBoxToCells, type Grid } from '../../search/describe';
import { search, topIndices } from '../../search/search';
import { DEFAULT_SEARCH, type SearchParams } from '../../search/types';
import type { ClassScore, Heatmap, HeatmapTarget, PixelRect, QueryImage, QuerySource, SearchRequest, SearchResponse, SearchScope } from '../api';
import { bitmapRgb, decodeUpright, preparePhoto } from '../images';
import { sniffImage } from '../imageSniff';
import type { Lock } from '../lock';
import type { CollectionState } from './collectionState';
import type { NetworkManager, Rgb } from './networkManager';

const TOP_CLASSES = 5;
/**
 * Results sent to the page per search. The page shows 48 at a time ('Show more' pages through what it got, with no
 * new search), so 1000 is far more than anyone pages through; the search then orders only these (plus what
 * re-ranking and QE need) instead of all N, and a 100k collection does not send 100k results to the page.
 */
const RESULT_LIMIT = 1000;

interface QueryState {
  image: QueryImage;
  rgb: Rgb;
  /** Whole-image forward pass, run on the first search. */
  X: tf.Tensor3D | null;
  grid: Grid | null;
  probabilities: Float32Array | null;
  /** Class probabilities of crops, by box. */
  crops: Map<string, Float32Array>;
}

const rect = (b: { x1: number; y1: number; x2: number; y2: number }): PixelRect => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
const shortLabel = (label: string) => label.split(',')[0].trim();

/** The top classes of a probability vector, named. */
export function topClasses(probabilities: Float32Array, net: CwNetwork, n = TOP_CLASSES): ClassScore[] {
  return topIndices(probabilities, n).map((index) => ({ index, name: shortLabel(net.labels[index] ?? `class ${index}`), probability: probabilities[index] }));
}

export class QuerySession {
  private query: QueryState | null = null;

  constructor(
    private readonly store: CollectionStore,
    private readonly state: CollectionState,
    private readonly network: NetworkManager,
    private readonly lock: Lock,
    /** The photo ids a search scope stands for (groups and classes live in other services). */
    private readonly resolveScope: (scope: SearchScope) => string[] = (scope) => ('ids' in scope ? scope.ids : []),
  ) {}

  /** The query photo's id when the query is a photo of the collection. */
  get photoId(): string | null {
    return this.isCollectionPhoto ? this.query!.image.key : null;
  }

  /** The stored copy of a collection photo. */
  async photoBlob(id: string): Promise<Blob> {
    const blob = await this.store.getBlob(id);
    if (!blob) throw new Error('this photo is no longer in the collection');
    return blob;
  }

  async photoClasses(id: string): Promise<ClassScore[]> {
    const record = this.state.index.record(id);
    if (!record) return [];
    return topClasses(record.probabilities, await this.network.get());
  }

  /** Decodes the query image (no network yet); the same image again keeps its forward pass. */
  async open(source: QuerySource): Promise<QueryImage> {
    let key: string;
    let blob: Blob;
    let name: string;
    if (source.kind === 'photo') {
      key = source.id;
      if (this.query?.image.key === key) return this.query.image;
      blob = await this.photoBlob(source.id);
      name = this.state.names.get(source.id) ?? '';
    } else {
      key = `file:${await sha256Hex(source.file)}`;
      if (this.query?.image.key === key) return this.query.image;
      // The same stored-copy rule as for imported photos (large photos downscaled), so a photo gives the same
      // features whether it is dropped here or picked from the collection.
      blob = (await preparePhoto(source.file, sniffImage(new Uint8Array(await source.file.arrayBuffer())))).blob;
      name = source.name;
    }
    const bitmap = await decodeUpright(blob);
    const rgb = bitmapRgb(bitmap);
    bitmap.close();
    await this.lock.run(async () => this.dispose());
    const image: QueryImage = { key, name, width: rgb.width, height: rgb.height, blob };
    this.query = { image, rgb, X: null, grid: null, probabilities: null, crops: new Map() };
    return image;
  }

  /** Drops the query (its tensors with it). Run it under the tfjs lock. */
  dispose(): void {
    this.query?.X?.dispose();
    this.query = null;
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

  async search(request: SearchRequest): Promise<SearchResponse> {
    const t0 = performance.now();
    const controls = validateSearchControls(request.controls);
    const minScore = request.minScore;
    if (minScore !== undefined && !Number.isFinite(minScore)) throw new Error(`the minimum score must be a number, got ${minScore}`);
    const scope = request.within ? this.scopeIds(request.within) : null;
    const image = await this.open(request.query);
    const net = await this.network.get();
    const { index } = this.state;
    return this.lock.run(async () => {
      const q = this.query;
      if (!q || q.image.key !== image.key) throw new Error('the query changed during the search');
      const tn = performance.now();
      if (!q.X) {
        const r = this.network.forward(net, q.rgb);
        q.probabilities = (await r.probabilities.data()) as Float32Array;
        r.probabilities.dispose();
        q.X = r.X;
        q.grid = r.grid;
      }
      const grid = q.grid!;
      const box = clampPixelBox(request.box, q.rgb.width, q.rgb.height);
      const cellBox = pixelBoxToCells(box, grid);
      const cropProbabilities = await this.cropProbabilities(net, q, box);
      const networkMs = performance.now() - tn;

      const ts = performance.now();
      const ids = index.ids;
      const within = scope ? Uint8Array.from(ids, (id) => (scope.has(id) ? 1 : 0)) : undefined;
      const params: SearchParams = { ...DEFAULT_SEARCH, ...controls, limit: RESULT_LIMIT, ...(within ? { within } : {}) };
      // OfA descriptors: the ranking itself, or the shortlist that online aggregation re-scores.
      const offline = (controls.aggregation === 'offline' || (controls.onlineShortlist ?? 0) > 0) && index.size ? await index.offlineDescriptors(controls.nc, net.head.w) : null;
      const result = await search({ X: q.X!, grid, box: cellBox, cropProbabilities }, index.collection(offline), params, { w: net.head.w, whitening: null });
      const all = Array.from(result.ranking, (i, r) => {
        const id = ids[i];
        const re = result.rerank.get(i);
        const g = index.record(id)!.grid;
        return {
          id,
          rank: r + 1,
          score: result.scores[r],
          scoreKind: result.scoreKinds[r],
          ...(re ? { rerank: { boxes: re.boxes.map((b) => rect(cellsToPixelBox(b, g))), best: re.best, regionScores: re.regionScores } } : {}),
        };
      });
      const results = minScore === undefined ? all : all.filter((r) => r.score >= minScore);
      const searchMs = performance.now() - ts;
      return {
        query: {
          key: image.key,
          width: image.width,
          height: image.height,
          box,
          cellBox: rect(cellsToPixelBox(cellBox, grid)),
          classes: topClasses(cropProbabilities, net),
          grid,
        },
        controls,
        results,
        searched: within ? scope!.size : ids.length,
        belowMinScore: all.length - results.length,
        timings: { networkMs, searchMs, totalMs: performance.now() - t0 },
      };
    });
  }

  /** The indexed photos a scope stands for; a clear error for a scope that names nothing known. */
  private scopeIds(scope: SearchScope): Set<string> {
    if (!scope || typeof scope !== 'object' || !('group' in scope || 'class' in scope || 'ids' in scope)) {
      throw new Error('the search scope must be { group: id }, { class: index, topK? } or { ids: [...] }');
    }
    if ('ids' in scope && !(Array.isArray(scope.ids) && scope.ids.every((id) => typeof id === 'string'))) throw new Error('the search scope { ids } must be an array of photo ids');
    return new Set(this.resolveScope(scope).filter((id) => this.state.index.has(id)));
  }

  /** Class probabilities of the query box: a forward pass on its crop (see queryCrop); the whole image reuses its own. */
  private async cropProbabilities(net: CwNetwork, q: QueryState, box: PixelRect): Promise<Float32Array> {
    const { data, width: W, height: H } = q.rgb;
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
        const record = index.record(target.id);
        if (!record) continue;
        const [e] = await index.encodedMaps([target.id]);
        const X = tf.tensor3d(decodeMaps(e), [e.H, e.W, e.K]);
        try {
          out.push({ target, classIndex, grid: record.grid, values: await classHeatmap(X, net.head.w, classIndex) });
        } finally {
          X.dispose();
        }
      }
      return out;
    });
  }
}
