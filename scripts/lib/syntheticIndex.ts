/**
 * A synthetic indexed collection of N photos, as an exported index (src/index/exportFormat.ts) that the app's
 * Import index reads: no forward pass, deterministic for a seed, generated a chunk at a time while it is written.
 *
 * Plausible rather than real: photos fall in clusters (about 50 photos each). A photo's maps (a 3 x 4 grid by default, 15%
 * non-zero values, uint8-sparse) are active in its cluster's channels with random values; its OfA descriptor is
 * their sum-pooling, l2-normalised (non-negative like CW descriptors), so offline and online aggregation and
 * re-ranking all find its cluster; its class probabilities put most of the mass on its cluster's few classes;
 * its thumbnail is one of a few small JPEGs in its cluster's colour. No copy of the photo (the app shows the
 * thumbnail, and a query of it uses its stored maps).
 */
import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';
import { BLOCK_ROWS } from '../../src/index/blocks';
import type { IndexSource, PhotoMeta } from '../../src/index/exportFormat';
import type { EncodedMaps } from '../../src/index/mapCodec';
import { INDEX_NC } from '../../src/index/settings';
import { modelAdapter } from '../../src/model/adapters';
import { prng } from '../../src/util/prng';

export interface SyntheticOptions {
  photos: number;
  model: string;
  longSide: number;
  seed: number;
  /** Feature-map grid H x W (default 3 x 4: small files; 12 x 16 is what a 512 px photo gives at stride 32). */
  grid?: [number, number];
}

const CELL = 128;
const NONZERO = 0.15;
const CLASSES_PER_CLUSTER = 5;
const THUMB_VARIANTS = 4;



/** The collection as an IndexSource for writeIndex. */
/** A --grid value, "HxW". */
export const parseGrid = (g: string): [number, number] => {
  const m = /^(\d+)x(\d+)$/.exec(g);
  if (!m || +m[1] < 1 || +m[2] < 1) throw new Error(`--grid must be HxW, e.g. 12x16 (got "${g}")`);
  return [+m[1], +m[2]];
};

export function syntheticCollection(o: SyntheticOptions): IndexSource {
  const [H, W] = o.grid ?? [3, 4];
  const adapter = modelAdapter(o.model);
  const [D, C, K, N] = [adapter.channels, adapter.classes, adapter.channels, o.photos];
  if (!Number.isInteger(N) || N < 1) throw new Error(`--photos must be a positive integer, got ${N}`);
  const clusters = Math.max(2, Math.round(N / 50));
  const seedOf = (what: number, i: number) => (o.seed * 1_000_003 + what * 7_919 + i * 104_729) >>> 0;
  const clusterOf = (i: number) => Math.floor(prng(seedOf(1, i))() * clusters);

  // Per cluster: a centre, its classes and its active channels (a permutation, the first m of it).
  const m = Math.round(NONZERO * K);
  const classesOf = (c: number) => {
    const r = prng(seedOf(3, c));
    return Array.from({ length: CLASSES_PER_CLUSTER }, () => Math.floor(r() * C));
  };
  const channelsOf = (c: number) => {
    const r = prng(seedOf(4, c));
    const perm = Uint16Array.from({ length: K }, (_, k) => k);
    for (let k = K - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [perm[k], perm[j]] = [perm[j], perm[k]];
    }
    return perm;
  };
  const channels = new Map<number, Uint16Array>();
  const channelsFor = (c: number) => channels.get(c) ?? (channels.set(c, channelsOf(c)), channels.get(c)!);
  const thumbs = Array.from({ length: Math.min(clusters, 64) * THUMB_VARIANTS }, (_, t) => thumbnail(t));
  const mapsBytes = Math.ceil((H * W * K) / 8) + H * W * m;
  /**
   * A photo's maps: per cell, m channels (its cluster's first m, shifted a little per cell; ascending, so the
   * values are in the order uint8-sparse keeps them) and their companded values q (1..255); the same every call.
   */
  const mapsOf = (i: number) => {
    const r = prng(seedOf(7, i));
    const perm = channelsFor(clusterOf(i));
    const active = new Uint16Array(H * W * m);
    const values = new Uint8Array(H * W * m);
    for (let cell = 0; cell < H * W; cell++) {
      const shift = Math.floor(r() * (m / 10 + 1));
      active.set(Uint16Array.from({ length: m }, (_, j) => perm[(j + shift) % K]).sort(), cell * m);
    }
    for (let j = 0; j < values.length; j++) values[j] = 1 + Math.floor(r() * 255);
    return { active, values, scale: 4 + 4 * r() };
  };

  const chunks = <T>(make: (i: number) => T) =>
    (async function* () {
      for (let s = 0; s < N; s += BLOCK_ROWS) yield Array.from({ length: Math.min(BLOCK_ROWS, N - s) }, (_, j) => make(s + j));
    })();
  const rows = (width: number, fill: (i: number, out: Float32Array) => void) =>
    (async function* () {
      for (let s = 0; s < N; s += BLOCK_ROWS) {
        const n = Math.min(BLOCK_ROWS, N - s);
        const out = new Float32Array(n * width);
        for (let j = 0; j < n; j++) fill(s + j, out.subarray(j * width, (j + 1) * width));
        yield out;
      }
    })();

  return {
    model: { id: adapter.id, longSide: o.longSide, nc: INDEX_NC, codec: 'uint8-sparse' },
    count: N,
    D,
    C,
    mapsBytes: () => mapsBytes,
    descriptors: () =>
      rows(D, (i, out) => {
        // Sum-pooling of its maps, l2-normalised: what its maps say, so OfA and OnA agree on the clusters.
        const { active, values, scale } = mapsOf(i);
        for (let j = 0; j < active.length; j++) out[active[j]] += (values[j] / 255) ** 2 * scale;
        let norm = 0;
        for (let k = 0; k < D; k++) norm += out[k] * out[k];
        norm = Math.sqrt(norm) || 1;
        for (let k = 0; k < D; k++) out[k] /= norm;
      }),
    probabilities: () =>
      rows(C, (i, out) => {
        const r = prng(seedOf(6, i));
        const top = classesOf(clusterOf(i));
        let sum = 0;
        for (let k = 0; k < C; k++) sum += out[k] = 0.02 * r();
        top.forEach((k, j) => (sum += out[k] += (0.5 / (j + 1)) * (0.5 + r())));
        for (let k = 0; k < C; k++) out[k] /= sum;
      }),
    maps: () =>
      chunks((i): EncodedMaps => {
        const { active, values, scale } = mapsOf(i);
        const maskBytes = Math.ceil((H * W * K) / 8);
        const data = new Uint8Array(maskBytes + active.length);
        for (let j = 0; j < active.length; j++) {
          const at = Math.floor(j / m) * K + active[j];
          data[at >> 3] |= 1 << (at & 7);
        }
        data.set(values, maskBytes);
        return { codec: 'uint8-sparse', H, W, K, scale, data: data.buffer };
      }),
    photos: () =>
      chunks((i): PhotoMeta & { thumb: Blob } => {
        const c = clusterOf(i);
        const thumb = thumbs[((c % 64) * THUMB_VARIANTS + (i % THUMB_VARIANTS)) % thumbs.length];
        return {
          id: createHash('sha256').update(`cw-synthetic:${o.seed}:${o.model}:${i}`).digest('hex'),
          name: `synthetic-${String(i).padStart(6, '0')}.jpg`,
          path: `cluster-${c}`,
          width: W * CELL,
          height: H * CELL,
          grid: { H, W, cellWidth: CELL, cellHeight: CELL, imageWidth: W * CELL, imageHeight: H * CELL },
          nc: INDEX_NC,
          details: {
            addedAt: 1_700_000_000_000 + i,
            originalBytes: 0,
            originalType: 'image/jpeg',
            originalWidth: W * CELL,
            originalHeight: H * CELL,
            stored: 'original',
            thumbWidth: THUMB.width,
            thumbHeight: THUMB.height,
            source: 'none',
          },
          thumb,
        };
      }),
  };
}

const THUMB = { width: 64, height: 48 };

/** A small JPEG: a colour of its own with a diagonal stripe pattern (variant t). */
function thumbnail(t: number): Blob {
  const { width, height } = THUMB;
  const hue = ((t / THUMB_VARIANTS) * 137.5) % 360;
  const [r, g, b] = [0, 120, 240].map((o) => Math.round(127.5 + 127.5 * Math.cos(((hue + o) * Math.PI) / 180)));
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const stripe = ((x + y + 4 * (t % THUMB_VARIANTS)) >> 3) % 2 ? 0.75 : 1;
      data.set([r * stripe, g * stripe, b * stripe, 255], (y * width + x) * 4);
    }
  }
  return new Blob([new Uint8Array(jpeg.encode({ data, width, height }, 80).data)], { type: 'image/jpeg' });
}
