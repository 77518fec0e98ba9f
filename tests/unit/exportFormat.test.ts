/**
 * The exported index (.npz), written as a stream and read without loading it: exact round trip, Zip64 past
 * 65,535 members, version 1 files and deflated members still read, NumPy reads it without custom code, FAISS gives
 * the same top-k as the app's OfA ranking, and clear errors for files that are not an exported index.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readIndex, writeIndex, type ExportModel, type IndexSource, type PhotoMeta } from '../../src/index/exportFormat';
import { decodeMaps, encodeMaps, type EncodedMaps } from '../../src/index/mapCodec';
import { encodeNpy, npyHeader, parseNpyHeader } from '../../src/index/npy';
import { BlockedDescriptors } from '../../src/search/descriptorBlocks';
import { rankTop } from '../../src/search/search';
import { syntheticCollection } from '../../scripts/lib/syntheticIndex';
import { seededValues } from '../../scripts/lib/random';
import { needs } from '../helpers/requirements';

const rand = (n: number, seed: number, sparsity = 0.4) => seededValues(n, seed, sparsity);

interface Photo extends PhotoMeta {
  descriptor: Float32Array;
  probabilities: Float32Array;
  maps: EncodedMaps;
  thumb?: Blob;
  photo?: Blob;
}

const MODEL: ExportModel = { id: 'resnet50', longSide: 512, nc: 64, codec: 'uint8-sparse' };
const [K, C] = [16, 10];

function sample(): Photo[] {
  const sizes = [[3, 4], [4, 3], [2, 2]];
  return sizes.map(([H, W], i) => ({
    id: `${i}`.repeat(64),
    name: i === 0 ? '<img src=x onerror=alert(1)> "été".jpg' : `photo-${i}.jpg`,
    path: i === 1 ? 'holiday/day 1' : '',
    width: W * 100,
    height: H * 100,
    grid: { H, W, cellWidth: 100, cellHeight: 100, imageWidth: W * 100, imageHeight: H * 100 },
    nc: 64,
    descriptor: rand(K, 10 + i),
    probabilities: rand(C, 20 + i),
    maps: encodeMaps(rand(H * W * K, 30 + i), H, W, K, i === 2 ? 'uint8' : 'uint8-sparse'),
    thumb: new Blob([Uint8Array.from(rand(20, 50 + i), (v) => Math.floor(v * 255))], { type: 'image/jpeg' }),
    ...(i !== 1 ? { photo: new Blob([Uint8Array.from(rand(50, 40 + i), (v) => Math.floor(v * 255))], { type: 'image/png' }) } : {}),
    details:
      i < 2
        ? { addedAt: 1_700_000_000_000 + i, originalBytes: 1234 + i, originalType: 'image/png', originalWidth: 4000, originalHeight: 3000, stored: 'downscaled' as const, thumbWidth: 320, thumbHeight: 240, source: 'copy' as const }
        : null,
  }));
}

/** An IndexSource over photos in memory, in chunks of `chunk`. */
function sourceOf(photos: Photo[], chunk = 2, model = MODEL): IndexSource {
  async function* chunks<T>(f: (p: Photo) => T) {
    for (let s = 0; s < photos.length; s += chunk) yield photos.slice(s, s + chunk).map(f);
  }
  const flat = (rows: Float32Array[]) => Float32Array.from(rows.flatMap((r) => Array.from(r)));
  return {
    model,
    count: photos.length,
    D: photos[0].descriptor.length,
    C: photos[0].probabilities.length,
    mapsBytes: (i) => photos[i].maps.data.byteLength,
    descriptors: () => (async function* () { for await (const c of chunks((p) => p.descriptor)) yield flat(c); })(),
    probabilities: () => (async function* () { for await (const c of chunks((p) => p.probabilities)) yield flat(c); })(),
    maps: () => chunks((p) => p.maps),
    photos: () => chunks(({ descriptor: _d, probabilities: _p, maps: _m, ...meta }) => meta),
  };
}

const toBlob = (stream: ReadableStream<Uint8Array>) => new Response(stream).blob();
const bytes = async (b: Blob | undefined) => (b ? Array.from(new Uint8Array(await b.arrayBuffer())) : undefined);

describe('exported index', () => {
  it('round-trips exactly: descriptors, probabilities, maps (sparse and dense), names, details, thumbnails and copies', async () => {
    const original = sample();
    const file = await toBlob(writeIndex(sourceOf(original)));
    const back = await readIndex(file);
    expect([back.version, back.model, back.D, back.C, back.whitened]).toEqual([2, MODEL, K, C, false]);
    const photos = await back.batch(0, 3);
    for (const [i, p] of photos.entries()) {
      const o = original[i];
      expect({ ...p, maps: undefined, thumb: undefined, photo: undefined }).toEqual({ ...o, maps: undefined, thumb: undefined, photo: undefined });
      expect({ ...p.maps!, data: new Uint8Array(p.maps!.data) }).toEqual({ ...o.maps, data: new Uint8Array(o.maps.data) });
      expect(await bytes(p.thumb)).toEqual(await bytes(o.thumb));
      expect(await bytes(p.photo)).toEqual(await bytes(o.photo));
      expect(p.photo?.type).toBe(o.photo?.type);
    }
    // Dense uint8 maps can be read as uint8-sparse: the same values, fewer bytes.
    const [dense] = await back.batch(2, 3, true);
    expect(dense.maps!.codec).toBe('uint8-sparse');
    expect(Array.from(decodeMaps(dense.maps!))).toEqual(Array.from(decodeMaps(original[2].maps)));
    expect(dense.maps!.data.byteLength).toBeLessThan(original[2].maps.data.byteLength);
  });

  it('reads version 1 files (maps offsets in elements) and deflated members (numpy.savez_compressed)', async () => {
    const original = sample();
    const maps = original.map((p) => encodeMaps(decodeMaps(p.maps), p.grid.H, p.grid.W, K, 'uint8'));
    let offset = 0;
    const json = {
      format: 'cw-instance-search-index',
      version: 1,
      createdAt: 'then',
      model: { ...MODEL, codec: 'uint8' },
      descriptorDim: K,
      classes: C,
      whitening: null,
      photos: original.map((p, i) => {
        const { descriptor: _d, probabilities: _p, maps: _m, thumb: _t, photo: _f, ...meta } = p;
        const m = { codec: 'uint8', H: p.grid.H, W: p.grid.W, K, scale: maps[i].scale, offset, length: maps[i].data.byteLength };
        offset += m.length;
        return { ...meta, maps: m, photo: null, thumb: null };
      }),
    };
    const all = new Uint8Array(offset);
    maps.reduce((at, m) => (all.set(new Uint8Array(m.data), at), at + m.data.byteLength), 0);
    const v1 = zipSync(
      {
        'descriptors.npy': encodeNpy(Float32Array.from(original.flatMap((p) => Array.from(p.descriptor))), [3, K]),
        'probabilities.npy': encodeNpy(Float32Array.from(original.flatMap((p) => Array.from(p.probabilities))), [3, C]),
        'maps.npy': encodeNpy(all, [offset]),
        'index.json': new TextEncoder().encode(JSON.stringify(json)),
      },
      { level: 6 },
    );
    const back = await readIndex(new Blob([v1]));
    expect(back.version).toBe(1);
    const photos = await back.batch(0, 3);
    photos.forEach((p, i) => {
      expect(Array.from(p.descriptor)).toEqual(Array.from(original[i].descriptor));
      expect(Array.from(decodeMaps(p.maps!))).toEqual(Array.from(decodeMaps(maps[i])));
    });
  });

  it('past 65,535 members (Zip64): every member is found', async () => {
    const three = sample();
    const many = Array.from({ length: 33_000 }, (_, i): Photo => {
      const p = three[i % 3];
      return { ...p, id: i.toString(16).padStart(64, '0'), thumb: new Blob([`t${i}`]), photo: new Blob([`p${i}`]) };
    });
    const back = await readIndex(await toBlob(writeIndex(sourceOf(many, 1000))));
    expect(back.photos).toHaveLength(33_000);
    const last = await back.batch(32_998, 33_000);
    expect(await Promise.all(last.map(async (p) => [await p.thumb!.text(), await p.photo!.text()]))).toEqual([['t32998', 'p32998'], ['t32999', 'p32999']]);
  }, 120_000);

  it('.npy headers follow the NumPy format (64-byte aligned, shape, dtype) and parse back', () => {
    const header = npyHeader('<f4', [2, 3]);
    expect(header.length % 64).toBe(0);
    expect(new TextDecoder().decode(header.subarray(10))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect(parseNpyHeader(encodeNpy(new Float32Array(6), [2, 3]))).toEqual({ descr: '<f4', shape: [2, 3], dataOffset: header.length, itemSize: 4 });
    expect(() => parseNpyHeader(new Uint8Array(12))).toThrow(/not a .npy file/);
  });

  it('gives clear errors for files that are not an exported index, and for an export that does not add up', async () => {
    const read = (b: Uint8Array) => readIndex(new Blob([b as Uint8Array<ArrayBuffer>]));
    await expect(read(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/not an exported index \(not a zip/);
    await expect(read(zipSync({ 'a.npy': encodeNpy(new Float32Array(2), [2]) }))).rejects.toThrow(/index.json is missing/);
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    await expect(read(zipSync({ 'index.json': enc({ format: 'other' }) }))).rejects.toThrow(/format is other/);
    await expect(read(zipSync({ 'index.json': enc({ format: 'cw-instance-search-index', version: 99, photos: [] }) }))).rejects.toThrow(/newer/);
    await expect(read(zipSync({ 'index.json': enc({ format: 'cw-instance-search-index', version: 2, photos: [] }) }))).rejects.toThrow(/descriptors.npy is missing/);
    // A source that gives fewer rows than it announced (the collection changed meanwhile): the export fails.
    const short = { ...sourceOf(sample()), count: 4, mapsBytes: () => 0 };
    await expect(toBlob(writeIndex(short))).rejects.toThrow(/changed during the export/);
  });
});

/** A python3 that can `import` these modules, if this machine has one (.ci/run installs Debian's python3-numpy and python3-faiss). */
function pythonWith(modules: string): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', `import ${modules}`], { stdio: 'ignore' });
      return py;
    } catch {
      /* try the next */
    }
  }
  return null;
}
const numpy = pythonWith('numpy');
const faiss = pythonWith('numpy, faiss');
const hasNumpy = needs('python3 with NumPy', numpy !== null, 'no python3 can `import numpy` (.ci/run installs Debian\'s python3-numpy)');
const hasFaiss = needs('python3 with FAISS', faiss !== null, 'no python3 can `import faiss` (.ci/run installs Debian\'s python3-faiss)');

async function writeFile(stream: ReadableStream<Uint8Array>, name: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'cw-export-')), name);
  writeFileSync(file, new Uint8Array(await new Response(stream).arrayBuffer()));
  return file;
}

describe.skipIf(!hasNumpy)('a plain reader (NumPy) loads the export without custom code', () => {
  it('np.load gives the descriptors, probabilities and maps; index.json is plain JSON inside', async () => {
    const original = sample();
    const file = await writeFile(writeIndex(sourceOf(original)), 'collection.npz');
    const script = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
d, p, m = z['descriptors'], z['probabilities'], z['maps']
meta = json.loads(z['index.json'])
print(json.dumps({'keys': sorted(z.files), 'dshape': d.shape, 'ddtype': str(d.dtype), 'd0': d[0].tolist(),
  'pshape': p.shape, 'mdtype': str(m.dtype), 'msum': int(m.astype(np.int64).sum()), 'names': [x['name'] for x in meta['photos']]}))
`;
    const out = JSON.parse(execFileSync(numpy!, ['-c', script, file], { encoding: 'utf8' }));
    expect(out.keys).toEqual(
      ['descriptors', 'index.json', 'maps', 'probabilities', ...original.flatMap((p) => [...(p.photo ? [`photos/${p.id}`] : []), `thumbs/${p.id}.jpg`])].sort(),
    );
    expect([out.dshape, out.ddtype, out.pshape, out.mdtype]).toEqual([[3, K], 'float32', [3, C], 'uint8']);
    out.d0.forEach((v: number, k: number) => expect(v).toBeCloseTo(original[0].descriptor[k], 6));
    expect(out.msum).toBe(original.reduce((s, p) => s + new Uint8Array(p.maps.data).reduce((a, b) => a + b, 0), 0));
    expect(out.names).toEqual(original.map((p) => p.name));
  });
});

describe.skipIf(!hasFaiss)('past one browser: FAISS on the exported descriptors', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('an exact FAISS index (IndexFlatIP) gives the same top-k, with the same scores, as the app\'s OfA ranking', async () => {
    const N = 1000;
    const file = await writeFile(writeIndex(syntheticCollection({ photos: N, model: 'mobilenet_v1_0.75', longSide: 512, seed: 7 })), 'synthetic.npz');
    // The app's side: the descriptors as the import reads them, resident in blocks, ranked by rankTop.
    const reader = await readIndex(new Blob([new Uint8Array(readFileSync(file))]));
    const rows = await reader.batch(0, N);
    const D = reader.D;
    const blocks = new BlockedDescriptors(1024);
    blocks.sync(N, D, (i) => rows[i].descriptor);
    const queries = [0, 17, 512, 999];
    const k = 10;
    const app: { ids: number[]; scores: number[] }[] = [];
    for (const qi of queries) {
      // A query descriptor that is not a row itself: a row mixed with the next one.
      const q = rows[qi].descriptor.map((v, j) => v + 0.3 * rows[(qi + 1) % N].descriptor[j]);
      const norm = Math.hypot(...q);
      const t = tf.tensor1d(q.map((v) => v / norm));
      const r = await rankTop(blocks, t, k);
      t.dispose();
      app.push({ ids: Array.from(r.ranking), scores: Array.from(r.scores) });
    }
    blocks.dispose();
    const script = `
import json, sys, numpy as np, faiss
z = np.load(sys.argv[1])
X = z['descriptors']
index = faiss.IndexFlatIP(X.shape[1]); index.add(X)
qs = [int(q) for q in sys.argv[2].split(',')]
Q = np.stack([X[q] + 0.3 * X[(q + 1) % len(X)] for q in qs]).astype(np.float32)
Q /= np.linalg.norm(Q, axis=1, keepdims=True)
s, r = index.search(Q, ${k})
print(json.dumps({'ids': r.tolist(), 'scores': s.tolist()}))
`;
    const out = JSON.parse(execFileSync(faiss!, ['-c', script, file, queries.join(',')], { encoding: 'utf8' }));
    queries.forEach((_, j) => {
      expect(out.ids[j], `query ${j}: top ${k} ids`).toEqual(app[j].ids);
      out.scores[j].forEach((s: number, r: number) => expect(s).toBeCloseTo(app[j].scores[r], 5));
    });
  }, 120_000);
});
