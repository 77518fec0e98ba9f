/**
 * The exported index: one `.npz` file (a zip of NumPy `.npy` arrays, as `numpy.savez` writes), readable without
 * custom code by NumPy (`np.load(path)`), and so by FAISS or a Qdrant client:
 *
 *   descriptors.npy     float32 [N, D]  OfA descriptors, l2-normalised, one row per photo (cosine = dot product)
 *   probabilities.npy   float32 [N, C]  all class probabilities of each photo (NC can change without the network)
 *   maps.npy            uint8 [bytes]   the encoded feature maps of all photos, concatenated (online aggregation and
 *                                       re-ranking need them); each photo's codec, shape, scale and byte range are in
 *                                       index.json ('uint8-sparse': a bit mask of the non-zero values, then those)
 *   thumbs/<id>.jpg     each photo's thumbnail; photos/<id> its stored copy, where the collection keeps one
 *   index.json          what the rows are: format, version, model id and parameters, and per photo its id
 *                       (SHA-256 of the file), name, path, size, feature grid and where its maps are in maps.npy
 *
 * Written as a stream (writeIndex: members stored, not compressed, Zip64 past 4 GB or 65,535 members) and read
 * without loading the file (readIndex: the zip's directory, then rows a batch at a time), so 50,000 photos never
 * sit in memory at once. Version 1 files (maps.npy in elements of the codec's dtype) are still read.
 */
import { makeZip } from 'client-zip';
import type { Grid } from '../cw/boxes';
import { sparsify, type EncodedMaps, type MapCodec } from './mapCodec';
import { npyHeader, parseNpyHeader, type NpyInfo } from './npy';
import type { ImageRecord } from './schema';
import { ZipFile } from './zipReader';

const EXPORT_FORMAT = 'cw-instance-search-index';
const EXPORT_VERSION = 2;

export interface ExportModel {
  id: string;
  longSide: number;
  nc: number;
  codec: MapCodec;
}

type PhotoDetails = Pick<ImageRecord, 'addedAt' | 'originalBytes' | 'originalType' | 'originalWidth' | 'originalHeight' | 'stored' | 'thumbWidth' | 'thumbHeight' | 'source'>;

/** A photo's own fields (everything but its arrays). */
export interface PhotoMeta {
  id: string;
  name: string;
  path: string;
  width: number;
  height: number;
  grid: Grid;
  /** NC of its OfA descriptor. */
  nc: number;
  details?: PhotoDetails | null;
}

/** One photo of an exported index, as read back. */
export interface ExportedPhoto extends PhotoMeta {
  descriptor: Float32Array;
  probabilities: Float32Array;
  maps?: EncodedMaps;
  thumb?: Blob;
  photo?: Blob;
}

type MapsInfo = { codec: MapCodec; H: number; W: number; K: number; scale: number; offset: number; length: number };

interface IndexJson {
  format: typeof EXPORT_FORMAT;
  version: number;
  createdAt: string;
  model: ExportModel;
  descriptorDim: number;
  classes: number;
  whitening: unknown;
  photos: (PhotoMeta & { maps: MapsInfo | null; photo: { file: string; type: string } | null; thumb: { file: string; type: string } | null })[];
}

/** What writeIndex reads, in row order; each iterable gives consecutive rows (any chunking). */
export interface IndexSource {
  model: ExportModel;
  count: number;
  D: number;
  C: number;
  /** Byte length of each photo's encoded maps (for the maps.npy header, written before the maps). */
  mapsBytes(row: number): number;
  descriptors(): AsyncIterable<Float32Array>;
  probabilities(): AsyncIterable<Float32Array>;
  maps(): AsyncIterable<EncodedMaps[]>;
  /** Names and files of the photos; thumb and photo are written as members when present. */
  photos(): AsyncIterable<(PhotoMeta & { thumb?: Blob; photo?: Blob })[]>;
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The index as a stream of .npz bytes (pipe it to a file, or `new Response(stream).blob()`). */
export function writeIndex(src: IndexSource): ReadableStream<Uint8Array> {
  const { count: N, D, C } = src;
  const mapsInfo: (MapsInfo | null)[] = new Array(N).fill(null);
  const photos: IndexJson['photos'] = [];
  let totalMaps = 0;
  for (let i = 0; i < N; i++) totalMaps += src.mapsBytes(i);

  async function* rows(header: Uint8Array, what: string, width: number, chunks: AsyncIterable<Float32Array>) {
    yield header;
    let n = 0;
    for await (const c of chunks) {
      if (c.length % width) throw new Error(`${what}: a chunk of ${c.length} values is not whole rows of ${width}`);
      n += c.length / width;
      yield bytesOf(c);
    }
    if (n !== N) throw new Error(`${what}: ${n} rows written, ${N} expected (the collection changed during the export: export again)`);
  }
  async function* maps() {
    yield npyHeader('|u1', [totalMaps]);
    let row = 0;
    let offset = 0;
    for await (const chunk of src.maps()) {
      for (const m of chunk) {
        const length = m.data.byteLength;
        if (length !== src.mapsBytes(row)) throw new Error('maps.npy: a photo\'s maps changed during the export: export again');
        mapsInfo[row++] = { codec: m.codec, H: m.H, W: m.W, K: m.K, scale: m.scale, offset, length };
        offset += length;
        yield new Uint8Array(m.data);
      }
    }
    if (row !== N) throw new Error(`maps.npy: ${row} photos written, ${N} expected (the collection changed during the export: export again)`);
  }
  async function* members() {
    yield { name: 'descriptors.npy', input: rows(npyHeader('<f4', [N, D]), 'descriptors.npy', D, src.descriptors()) };
    yield { name: 'probabilities.npy', input: rows(npyHeader('<f4', [N, C]), 'probabilities.npy', C, src.probabilities()) };
    yield { name: 'maps.npy', input: maps() };
    for await (const chunk of src.photos()) {
      for (const p of chunk) {
        const { thumb, photo, ...meta } = p;
        const thumbFile = thumb && `thumbs/${p.id}.jpg`;
        const photoFile = photo && `photos/${p.id}`;
        if (thumb) yield { name: thumbFile, input: thumb };
        if (photo) yield { name: photoFile, input: photo };
        photos.push({
          ...meta,
          maps: mapsInfo[photos.length],
          thumb: thumb ? { file: thumbFile!, type: thumb.type || 'image/jpeg' } : null,
          photo: photo ? { file: photoFile!, type: photo.type } : null,
        });
      }
    }
    if (photos.length !== N) throw new Error(`index.json: ${photos.length} photos, ${N} expected (the collection changed during the export: export again)`);
    yield { name: 'index.json', input: indexJson(src, photos) };
  }
  return makeZip(members());
}

/** index.json, a piece at a time (photo list included). */
async function* indexJson(src: IndexSource, photos: IndexJson['photos']) {
  const head: Omit<IndexJson, 'photos'> = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    createdAt: new Date().toISOString(),
    model: src.model,
    descriptorDim: src.D,
    classes: src.C,
    whitening: null,
  };
  yield `${JSON.stringify(head).slice(0, -1)},"photos":[\n`;
  for (let i = 0; i < photos.length; i += 1000) yield photos.slice(i, i + 1000).map((p) => JSON.stringify(p)).join(',\n') + (i + 1000 < photos.length ? ',\n' : '');
  yield '\n]}\n';
}

/** An exported index opened for reading: its model and photo list, and its rows a batch at a time. */
export interface IndexReader {
  version: number;
  createdAt: string;
  model: ExportModel;
  whitened: boolean;
  D: number;
  C: number;
  photos: readonly IndexJson['photos'][number][];
  /** Photos start .. end - 1 with their arrays (maps as stored; dense uint8 of older files as uint8-sparse when `sparse`). */
  batch(start: number, end: number, sparse?: boolean): Promise<ExportedPhoto[]>;
}

/** Opens an exported index (reads only its directory, index.json and the arrays' headers); clear errors for anything else. */
export async function readIndex(file: Blob): Promise<IndexReader> {
  let zip: ZipFile;
  try {
    zip = await ZipFile.open(file);
  } catch (e) {
    throw new Error(`not an exported index (${(e as Error).message})`, { cause: e });
  }
  if (!zip.has('index.json')) throw new Error('not an exported index: index.json is missing');
  let json: IndexJson;
  try {
    json = JSON.parse(await (await zip.blob('index.json')).text());
  } catch (e) {
    throw new Error('exported index: index.json is not valid JSON', { cause: e });
  }
  if (json.format !== EXPORT_FORMAT) throw new Error(`not an exported index: format is ${String(json.format)}`);
  if (!(json.version >= 1)) throw new Error(`exported index: unknown version ${String(json.version)}`);
  if (json.version > EXPORT_VERSION) throw new Error(`exported index version ${json.version} is newer than this app understands (${EXPORT_VERSION})`);
  const array = async (name: string, required: boolean) => {
    if (!zip.has(name)) {
      if (required) throw new Error(`exported index: ${name} is missing`);
      return null;
    }
    const blob = await zip.blob(name);
    return { blob, info: parseNpyHeader(new Uint8Array(await blob.slice(0, 4096).arrayBuffer()), `exported index: ${name}`) };
  };
  const descriptors = (await array('descriptors.npy', true))!;
  const probabilities = (await array('probabilities.npy', true))!;
  const maps = await array('maps.npy', false);
  const N = json.photos.length;
  const [D, C] = [descriptors.info.shape[1], probabilities.info.shape[1]];
  if (descriptors.info.shape[0] !== N || probabilities.info.shape[0] !== N) {
    throw new Error(`exported index: ${N} photos but ${descriptors.info.shape[0]} descriptors and ${probabilities.info.shape[0]} probability rows`);
  }
  for (const [name, a] of [['descriptors.npy', descriptors], ['probabilities.npy', probabilities]] as const) {
    if (a.info.descr !== '<f4' || a.info.shape.length !== 2) throw new Error(`exported index: ${name} must be float32 [N, dims], got ${a.info.descr} [${a.info.shape}]`);
  }
  // Version 1 gave maps offsets in elements of maps.npy's dtype; version 2 in bytes.
  const mapsItem = json.version === 1 && maps ? maps.info.itemSize : 1;
  const rowsOf = async (a: { blob: Blob; info: NpyInfo }, width: number, start: number, end: number) => {
    const at = a.info.dataOffset + start * width * 4;
    return new Float32Array(await a.blob.slice(at, a.info.dataOffset + end * width * 4).arrayBuffer());
  };

  return {
    version: json.version,
    createdAt: json.createdAt,
    model: json.model,
    whitened: !!json.whitening,
    D,
    C,
    photos: json.photos,
    async batch(start, end, sparse = false) {
      const list = json.photos.slice(start, end);
      const [desc, prob] = await Promise.all([rowsOf(descriptors, D, start, end), rowsOf(probabilities, C, start, end)]);
      // The batch's maps in one read when they are contiguous (as written), else one read per photo.
      const ranges = list.map((p) => (p.maps ? { from: p.maps.offset * mapsItem, to: (p.maps.offset + p.maps.length) * mapsItem } : null));
      const known = ranges.filter((r) => r !== null);
      const lo = Math.min(...known.map((r) => r.from));
      const hi = Math.max(...known.map((r) => r.to));
      if (known.length && !maps) throw new Error('exported index: maps.npy is missing');
      const contiguous = known.length && hi - lo <= known.reduce((s, r) => s + r.to - r.from, 0);
      const block = contiguous ? await maps!.blob.slice(maps!.info.dataOffset + lo, maps!.info.dataOffset + hi).arrayBuffer() : null;
      const mapBytes = async (r: { from: number; to: number }) =>
        block ? block.slice(r.from - lo, r.to - lo) : maps!.blob.slice(maps!.info.dataOffset + r.from, maps!.info.dataOffset + r.to).arrayBuffer();
      const file = async (f: { file: string; type: string } | null) => {
        if (!f) return undefined;
        if (!zip.has(f.file)) throw new Error(`exported index: ${f.file} is missing`);
        return zip.blob(f.file, f.type);
      };
      return Promise.all(
        list.map(async (p, b): Promise<ExportedPhoto> => {
          const { maps: m, thumb, photo, ...meta } = p;
          let encoded: EncodedMaps | undefined;
          if (m) {
            const data = await mapBytes(ranges[b]!);
            encoded = { codec: m.codec, H: m.H, W: m.W, K: m.K, scale: m.scale, data };
            if (sparse && m.codec === 'uint8' && data.byteLength === m.H * m.W * m.K) encoded = { ...encoded, codec: 'uint8-sparse', data: sparsify(new Uint8Array(data)) };
          }
          return {
            ...meta,
            descriptor: desc.slice(b * D, (b + 1) * D),
            probabilities: prob.slice(b * C, (b + 1) * C),
            ...(encoded ? { maps: encoded } : {}),
            ...(thumb ? { thumb: await file(thumb) } : {}),
            ...(photo ? { photo: await file(photo) } : {}),
          };
        }),
      );
    },
  };
}
