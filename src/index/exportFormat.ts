/**
 * The exported index: one `.npz` file (a zip of NumPy `.npy` arrays, as `numpy.savez` writes), readable without
 * custom code by NumPy (`np.load(path)`), and so by FAISS or a Qdrant client:
 *
 *   descriptors.npy     float32 [N, D]  OfA descriptors, l2-normalised, one row per photo (cosine = dot product)
 *   probabilities.npy   float32 [N, C]  all class probabilities of each photo (NC can change without the network)
 *   maps.npy            uint8 | float16 | float32 [total]  the encoded feature maps of all photos, concatenated
 *                       (online aggregation and re-ranking need them; optional)
 *   whitening_*.npy     mean [D], components [d, D], variance [d] (only when the index is whitened)
 *   index.json          what the rows are: format, version, model id and parameters, and per photo its id
 *                       (SHA-256 of the file), name, path, size, feature grid and where its maps are in maps.npy
 *   photos/<id>         the stored copy of each photo, thumbs/<id>.jpg its thumbnail (optional)
 *
 * `np.load('x.npz')['descriptors']` gives the vectors; `json.loads(np.load('x.npz')['index.json'])` the rest.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Grid } from '../cw/boxes';
import type { Whitening } from '../cw/types';
import type { EncodedMaps, MapCodec } from './mapCodec';
import type { ImageRecord } from './schema';

export const EXPORT_FORMAT = 'cw-instance-search-index';
export const EXPORT_VERSION = 1;

export interface ExportedPhoto {
  id: string;
  name: string;
  path: string;
  width: number;
  height: number;
  grid: Grid;
  /** NC of its OfA descriptor. */
  nc: number;
  descriptor: Float32Array;
  probabilities: Float32Array;
  maps?: EncodedMaps;
  /** The stored copy and the thumbnail, when exported with photos. */
  photo?: { bytes: Uint8Array; type: string };
  thumb?: { bytes: Uint8Array; type: string };
  /** What the app knows about the original file, so an import shows the same collection (optional). */
  details?: PhotoDetails;
}

export type PhotoDetails = Pick<ImageRecord, 'addedAt' | 'originalBytes' | 'originalType' | 'originalWidth' | 'originalHeight' | 'stored' | 'thumbWidth' | 'thumbHeight'>;

export interface ExportedIndex {
  model: { id: string; longSide: number; nc: number; codec: MapCodec };
  whitening: Whitening | null;
  photos: ExportedPhoto[];
}

interface IndexJson {
  format: typeof EXPORT_FORMAT;
  version: number;
  createdAt: string;
  model: ExportedIndex['model'];
  descriptorDim: number;
  classes: number;
  whitening: { inputDim: number; outputDim: number; shrinkage: number; trainedOn: number } | null;
  photos: {
    id: string;
    name: string;
    path: string;
    width: number;
    height: number;
    grid: Grid;
    nc: number;
    maps: { codec: MapCodec; H: number; W: number; K: number; scale: number; offset: number; length: number } | null;
    photo: { file: string; type: string } | null;
    thumb: { file: string; type: string } | null;
    details?: PhotoDetails | null;
  }[];
}

type NpyArray = Float32Array | Uint8Array | Uint16Array;
const DESCR: Record<string, string> = { Float32Array: '<f4', Uint8Array: '|u1', Uint16Array: '<f2' };

/** A `.npy` file (format 1.0): magic, header dict padded to 64 bytes, little-endian C-order data. */
export function encodeNpy(data: NpyArray, shape: number[], descr = DESCR[data.constructor.name]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`npy: shape [${shape}] does not match ${data.length} values`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Reads a `.npy` written by encodeNpy or NumPy (v1/v2/v3, little-endian, C order; f4, f2, u1). */
export function decodeNpy(bytes: Uint8Array): { descr: string; shape: number[]; data: NpyArray } {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('npy: Fortran order is not supported');
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = bytes.slice(start + headerLen).buffer; // copy: aligned for the typed array
  const data = descr === '<f4' ? new Float32Array(raw, 0, n) : descr === '|u1' ? new Uint8Array(raw, 0, n) : descr === '<f2' ? new Uint16Array(raw, 0, n) : null;
  if (!data) throw new Error(`npy: unsupported dtype ${descr}`);
  return { descr: descr!, shape, data };
}

const MAP_ARRAY: Record<MapCodec, (b: ArrayBuffer) => NpyArray> = {
  uint8: (b) => new Uint8Array(b),
  float16: (b) => new Uint16Array(b),
  float32: (b) => new Float32Array(b),
};
const MAP_DESCR: Record<MapCodec, string> = { uint8: '|u1', float16: '<f2', float32: '<f4' };

function stack(rows: Float32Array[], width: number, what: string): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    if (r.length !== width) throw new Error(`${what} of photo ${i} has ${r.length} values, expected ${width}`);
    out.set(r, i * width);
  });
  return out;
}

/** Writes the index as one .npz file. */
export function exportIndex(index: ExportedIndex): Uint8Array {
  const { photos, model, whitening } = index;
  const D = photos[0]?.descriptor.length ?? 0;
  const C = photos[0]?.probabilities.length ?? 0;
  const files: Zippable = {};
  files['descriptors.npy'] = encodeNpy(stack(photos.map((p) => p.descriptor), D, 'descriptor'), [photos.length, D]);
  files['probabilities.npy'] = encodeNpy(stack(photos.map((p) => p.probabilities), C, 'probabilities'), [photos.length, C]);

  const withMaps = photos.filter((p) => p.maps);
  const mapBytes = withMaps.reduce((s, p) => s + p.maps!.data.byteLength, 0);
  const concatenated = new Uint8Array(mapBytes);
  let offset = 0; // in elements of the codec's type
  const mapsInfo = new Map<string, IndexJson['photos'][number]['maps']>();
  for (const p of withMaps) {
    const m = p.maps!;
    if (m.codec !== model.codec) throw new Error(`photo ${p.name}: maps codec ${m.codec} differs from the index's ${model.codec}`);
    const arr = MAP_ARRAY[m.codec](m.data);
    concatenated.set(new Uint8Array(m.data), offset * arr.BYTES_PER_ELEMENT);
    mapsInfo.set(p.id, { codec: m.codec, H: m.H, W: m.W, K: m.K, scale: m.scale, offset, length: arr.length });
    offset += arr.length;
  }
  if (withMaps.length) files['maps.npy'] = encodeNpy(MAP_ARRAY[model.codec](concatenated.buffer), [offset], MAP_DESCR[model.codec]);

  if (whitening) {
    files['whitening_mean.npy'] = encodeNpy(whitening.mean, [whitening.inputDim]);
    files['whitening_components.npy'] = encodeNpy(whitening.components, [whitening.outputDim, whitening.inputDim]);
    files['whitening_variance.npy'] = encodeNpy(whitening.variance, [whitening.outputDim]);
  }
  const json: IndexJson = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    createdAt: new Date().toISOString(),
    model,
    descriptorDim: D,
    classes: C,
    whitening: whitening && { inputDim: whitening.inputDim, outputDim: whitening.outputDim, shrinkage: whitening.shrinkage, trainedOn: whitening.trainedOn },
    photos: photos.map((p) => {
      const photoFile = p.photo && `photos/${p.id}`;
      const thumbFile = p.thumb && `thumbs/${p.id}.jpg`;
      if (photoFile) files[photoFile] = [p.photo!.bytes, { level: 0 }];
      if (thumbFile) files[thumbFile] = [p.thumb!.bytes, { level: 0 }];
      return {
        id: p.id,
        name: p.name,
        path: p.path,
        width: p.width,
        height: p.height,
        grid: p.grid,
        nc: p.nc,
        maps: mapsInfo.get(p.id) ?? null,
        photo: photoFile ? { file: photoFile, type: p.photo!.type } : null,
        thumb: thumbFile ? { file: thumbFile, type: p.thumb!.type } : null,
        details: p.details ?? null,
      };
    }),
  };
  files['index.json'] = new TextEncoder().encode(JSON.stringify(json, null, 1));
  // Level 1: the maps (about half zeros) shrink well; photos are already compressed and stored as they are.
  return zipSync(files, { level: 1 });
}

/** Reads an exported index back; throws a clear error for anything that is not one. */
export function importIndex(bytes: Uint8Array): ExportedIndex & { createdAt: string } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new Error(`not an exported index (not a zip/.npz file): ${(e as Error).message}`, { cause: e });
  }
  if (!files['index.json']) throw new Error('not an exported index: index.json is missing');
  let json: IndexJson;
  try {
    json = JSON.parse(new TextDecoder().decode(files['index.json']));
  } catch (e) {
    throw new Error('exported index: index.json is not valid JSON', { cause: e });
  }
  if (json.format !== EXPORT_FORMAT) throw new Error(`not an exported index: format is ${String(json.format)}`);
  if (json.version > EXPORT_VERSION) throw new Error(`exported index version ${json.version} is newer than this app understands (${EXPORT_VERSION})`);
  const need = (name: string) => {
    if (!files[name]) throw new Error(`exported index: ${name} is missing`);
    return decodeNpy(files[name]);
  };
  const descriptors = need('descriptors.npy');
  const probabilities = need('probabilities.npy');
  const N = json.photos.length;
  if (descriptors.shape[0] !== N || probabilities.shape[0] !== N) {
    throw new Error(`exported index: ${N} photos but ${descriptors.shape[0]} descriptors and ${probabilities.shape[0]} probability rows`);
  }
  const D = descriptors.shape[1];
  const C = probabilities.shape[1];
  const maps = files['maps.npy'] ? decodeNpy(files['maps.npy']).data : null;

  let whitening: Whitening | null = null;
  if (json.whitening) {
    const w = json.whitening;
    whitening = {
      ...w,
      mean: need('whitening_mean.npy').data as Float32Array,
      components: need('whitening_components.npy').data as Float32Array,
      variance: need('whitening_variance.npy').data as Float32Array,
    };
  }
  const photos = json.photos.map((p, i): ExportedPhoto => {
    const m = p.maps;
    if (m && !maps) throw new Error('exported index: maps.npy is missing');
    const file = (f: { file: string; type: string } | null) => {
      if (!f) return undefined;
      if (!files[f.file]) throw new Error(`exported index: ${f.file} is missing`);
      return { bytes: files[f.file], type: f.type };
    };
    return {
      id: p.id,
      name: p.name,
      path: p.path,
      width: p.width,
      height: p.height,
      grid: p.grid,
      nc: p.nc,
      descriptor: (descriptors.data as Float32Array).slice(i * D, (i + 1) * D),
      probabilities: (probabilities.data as Float32Array).slice(i * C, (i + 1) * C),
      maps: m ? { codec: m.codec, H: m.H, W: m.W, K: m.K, scale: m.scale, data: maps!.slice(m.offset, m.offset + m.length).buffer as ArrayBuffer } : undefined,
      photo: file(p.photo),
      thumb: file(p.thumb),
      ...(p.details ? { details: p.details } : {}),
    };
  });
  return { model: json.model, whitening, photos, createdAt: json.createdAt };
}
