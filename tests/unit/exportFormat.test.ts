/**
 * The exported index (.npz): exact round trip, readable by NumPy without custom code, and clear errors for
 * files that are not an exported index.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { decodeNpy, encodeNpy, exportIndex, importIndex, type ExportedIndex } from '../../src/index/exportFormat';
import { encodeMaps } from '../../src/index/mapCodec';
import { seededValues } from '../helpers/random';
import { needs } from '../helpers/requirements';

const rand = (n: number, seed: number, sparsity = 0.4) => seededValues(n, seed, sparsity);

function sample(): ExportedIndex {
  const K = 16;
  const D = K;
  const C = 10;
  const sizes = [[3, 4], [4, 3], [2, 2]];
  return {
    model: { id: 'resnet50', longSide: 512, nc: 64, codec: 'uint8' },
    whitening: { inputDim: D, outputDim: 4, mean: rand(D, 1), components: rand(4 * D, 2), variance: rand(4, 3), shrinkage: 0.1, trainedOn: 30 },
    photos: sizes.map(([H, W], i) => ({
      id: `${i}`.repeat(64),
      name: i === 0 ? '<img src=x onerror=alert(1)> "été".jpg' : `photo-${i}.jpg`,
      path: i === 1 ? 'holiday/day 1' : '',
      width: W * 100,
      height: H * 100,
      grid: { H, W, cellWidth: 100, cellHeight: 100, imageWidth: W * 100, imageHeight: H * 100 },
      nc: 64,
      descriptor: rand(D, 10 + i),
      probabilities: rand(C, 20 + i),
      maps: encodeMaps(rand(H * W * K, 30 + i), H, W, K, 'uint8'),
      photo: { bytes: Uint8Array.from(rand(50, 40 + i), (v) => Math.floor(v * 255)), type: 'image/jpeg' },
      thumb: { bytes: Uint8Array.from(rand(20, 50 + i), (v) => Math.floor(v * 255)), type: 'image/jpeg' },
      ...(i < 2 && {
        details: { addedAt: 1_700_000_000_000 + i, originalBytes: 1234 + i, originalType: 'image/png', originalWidth: 4000, originalHeight: 3000, stored: 'downscaled' as const, thumbWidth: 320, thumbHeight: 240 },
      }),
    })),
  };
}

describe('exported index', () => {
  it('round-trips exactly: descriptors, probabilities, maps, whitening, names, photos', () => {
    const original = sample();
    const back = importIndex(exportIndex(original));
    expect(back.model).toEqual(original.model);
    expect(back.whitening).toEqual(original.whitening);
    expect(back.photos).toHaveLength(original.photos.length);
    back.photos.forEach((p, i) => {
      const o = original.photos[i];
      expect({ ...p, maps: undefined }).toEqual({ ...o, maps: undefined });
      expect(p.maps && { ...p.maps, data: new Uint8Array(p.maps.data) }).toEqual(o.maps && { ...o.maps, data: new Uint8Array(o.maps.data) });
    });
  });

  it('exports without maps or photos (vectors only) and reads that back', () => {
    const original = sample();
    original.photos.forEach((p) => {
      delete p.maps;
      delete p.photo;
      delete p.thumb;
    });
    const back = importIndex(exportIndex(original));
    expect(back.photos.map((p) => [p.maps, p.photo])).toEqual(original.photos.map(() => [undefined, undefined]));
    expect(back.photos[2].descriptor).toEqual(original.photos[2].descriptor);
  });

  it('.npy encoding follows the NumPy format (64-byte aligned header, shape, dtype)', () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(10, 10 + headerLen))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect(decodeNpy(bytes)).toEqual({ descr: '<f4', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  });

  it('gives clear errors for files that are not an exported index', () => {
    expect(() => importIndex(new Uint8Array([1, 2, 3, 4]))).toThrow(/not a zip/);
    expect(() => importIndex(zipSync({ 'a.npy': encodeNpy(new Float32Array(2), [2]) }))).toThrow(/index.json is missing/);
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(() => importIndex(zipSync({ 'index.json': enc({ format: 'other' }) }))).toThrow(/format is other/);
    expect(() => importIndex(zipSync({ 'index.json': enc({ format: 'cw-instance-search-index', version: 99, photos: [] }) }))).toThrow(/newer/);
    expect(() => importIndex(zipSync({ 'index.json': enc({ format: 'cw-instance-search-index', version: 1, photos: [] }) }))).toThrow(/descriptors.npy is missing/);
  });
});

/** python3 with numpy, if this machine has one (.ci/run installs Debian's python3-numpy when missing). */
function numpyPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import numpy'], { stdio: 'ignore' });
      return py;
    } catch {
      /* try the next */
    }
  }
  return null;
}
const python = numpyPython();
const hasNumpy = needs('python3 with NumPy', python !== null, 'neither python3 nor /usr/bin/python3 can `import numpy` (.ci/run installs Debian\'s python3-numpy)');

describe.skipIf(!hasNumpy)('a plain reader (NumPy) loads the export without custom code', () => {
  it('np.load gives the descriptors, probabilities and maps; index.json is plain JSON inside', () => {
    const original = sample();
    const file = join(mkdtempSync(join(tmpdir(), 'cw-export-')), 'collection.npz');
    writeFileSync(file, exportIndex(original));
    const script = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
d, p, m = z['descriptors'], z['probabilities'], z['maps']
meta = json.loads(z['index.json'])
print(json.dumps({'keys': sorted(z.files), 'dshape': d.shape, 'ddtype': str(d.dtype), 'd0': d[0].tolist(),
  'pshape': p.shape, 'mdtype': str(m.dtype), 'msum': int(m.astype(np.int64).sum()), 'names': [x['name'] for x in meta['photos']],
  'wc': z['whitening_components'].shape}))
`;
    const out = JSON.parse(execFileSync(python!, ['-c', script, file], { encoding: 'utf8' }));
    expect(out.keys).toEqual(['descriptors', 'index.json', 'maps', 'probabilities', 'whitening_components', 'whitening_mean', 'whitening_variance'].concat(
      original.photos.flatMap((p) => [`photos/${p.id}`, `thumbs/${p.id}.jpg`]),
    ).sort());
    expect(out.dshape).toEqual([3, 16]);
    expect(out.ddtype).toBe('float32');
    out.d0.forEach((v: number, k: number) => expect(v).toBeCloseTo(original.photos[0].descriptor[k], 6));
    expect(out.pshape).toEqual([3, 10]);
    expect(out.mdtype).toBe('uint8');
    const mapSum = original.photos.reduce((s, p) => s + new Uint8Array(p.maps!.data).reduce((a, b) => a + b, 0), 0);
    expect(out.msum).toBe(mapSum);
    expect(out.names).toEqual(original.photos.map((p) => p.name));
    expect(out.wc).toEqual([4, 16]);
  });
});
