/**
 * The whole benchmark run, the same code in Node (scripts/bench.ts) and in the browser (src/bench/page.ts): the
 * caller supplies a BenchEnv (how to load a network, which photos, where progress goes) and a BenchConfig.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MODELS, type ModelId } from '../model/adapters';
import type { CwNetwork } from '../model/network';
import { topIndices } from '../search/search';
import { preferredBatchSize } from '../cw/tensorMath';
import { DEFAULT_MAP_STATISTICS, mapStatistics, storageSizes, syntheticImage, type MapStatistics, type StorageSizes } from './benchCore';
import { benchForward, benchMemory, breathe, type ForwardBenchResult, type MemoryBenchResult } from './forwardBench';
import { benchOfa, benchOna, type OfaBenchRow, type OnaBenchRow, type OnaCheck } from './searchBench';

const SECTIONS = ['forward', 'memory', 'storage', 'ofa', 'ona'] as const;
export type BenchSection = (typeof SECTIONS)[number];

export interface BenchConfig {
  quick: boolean;
  sections: BenchSection[];
  /** Models for the forward, memory and storage sections. */
  models: ModelId[];
  longSides: number[];
  ncs: number[];
  /** Interleaved rounds of the end-to-end forward variants, after `warmup` rounds. */
  repeats: number;
  warmup: number;
  /** Timed runs of the CW step alone. */
  cwRepeats: number;
  /** Photos indexed one after the other for the leak check (per model, at the first long side). */
  memoryImages: number;
  ofaSizes: number[];
  ofaDims: number[];
  ofaRepeats: number;
  /** Top-k read back per query (the app shows the best 100). */
  k: number;
  onaModels: ModelId[];
  /** Collection sizes for OnA, per model. */
  onaSizes: Partial<Record<ModelId, number[]>>;
  /** OfA shortlist sizes M for the shortlist variant. */
  shortlist: number[];
  onaNc: number;
  onaRepeats: number;
  /** Long side whose feature-map grid the synthetic OnA maps get. */
  onaLongSide: number;
}

export function defaultConfig(quick: boolean): BenchConfig {
  const mobilenet: ModelId = 'mobilenet_v1_0.75';
  return quick
    ? {
        quick,
        sections: [...SECTIONS],
        models: [mobilenet],
        longSides: [512],
        ncs: [1, 8, 64],
        repeats: 3,
        warmup: 1,
        cwRepeats: 7,
        memoryImages: 20,
        ofaSizes: [1000, 10000],
        ofaDims: [512],
        ofaRepeats: 7,
        k: 100,
        onaModels: [mobilenet],
        onaSizes: { [mobilenet]: [200] },
        shortlist: [100],
        onaNc: 64,
        onaRepeats: 3,
        onaLongSide: 512,
      }
    : {
        quick,
        sections: [...SECTIONS],
        models: ['resnet50', mobilenet],
        longSides: [512, 1024],
        ncs: [1, 8, 64],
        repeats: 5,
        warmup: 1,
        cwRepeats: 15,
        memoryImages: 100,
        ofaSizes: [1000, 10000, 100000],
        ofaDims: [512, 768, 2048],
        ofaRepeats: 15,
        k: 100,
        onaModels: ['resnet50', mobilenet],
        onaSizes: { resnet50: [1000], [mobilenet]: [1000, 10000] },
        shortlist: [100, 1000],
        onaNc: 64,
        onaRepeats: 3,
        onaLongSide: 512,
      };
}

/**
 * Applies overrides given as strings (URL query or command-line flags, same keys): models, longSides, ncs, repeats,
 * warmup, cwRepeats, memoryImages, ofaSizes, ofaDims, ofaRepeats, k, onaModels, onaSizes (applies to every OnA model),
 * shortlist, onaNc, onaRepeats, onaLongSide, sections. Unknown keys are ignored; bad values throw.
 */
export function applyOverrides(base: BenchConfig, overrides: Record<string, string | undefined>): BenchConfig {
  const c: BenchConfig = structuredClone(base);
  const ints = (key: string, v: string, min = 1): number[] => {
    const list = v.split(',').map((x) => Number(x.trim()));
    if (!list.length || !list.every((n) => Number.isInteger(n) && n >= min)) throw new Error(`${key}: expected integers >= ${min}, got "${v}"`);
    return list;
  };
  const int = (key: string, v: string, min = 1) => {
    const l = ints(key, v, min);
    if (l.length !== 1) throw new Error(`${key}: expected one integer, got "${v}"`);
    return l[0];
  };
  const models = (key: string, v: string): ModelId[] => {
    const list = v.split(',').map((x) => x.trim());
    for (const m of list) if (!(m in MODELS)) throw new Error(`${key}: unknown model "${m}" (${Object.keys(MODELS).join(', ')})`);
    return list as ModelId[];
  };
  for (const [key, v] of Object.entries(overrides)) {
    if (v === undefined || v === '') continue;
    switch (key) {
      case 'models': c.models = models(key, v); break;
      case 'longSides': c.longSides = ints(key, v, 32); break;
      case 'ncs': c.ncs = ints(key, v); break;
      case 'repeats': c.repeats = int(key, v); break;
      case 'warmup': c.warmup = int(key, v, 0); break;
      case 'cwRepeats': c.cwRepeats = int(key, v); break;
      case 'memoryImages': c.memoryImages = int(key, v); break;
      case 'ofaSizes': c.ofaSizes = ints(key, v); break;
      case 'ofaDims': c.ofaDims = ints(key, v); break;
      case 'ofaRepeats': c.ofaRepeats = int(key, v); break;
      case 'k': c.k = int(key, v); break;
      case 'onaModels': c.onaModels = models(key, v); break;
      case 'onaSizes': c.onaSizes = Object.fromEntries(c.onaModels.map((m) => [m, ints(key, v)])); break;
      case 'shortlist': c.shortlist = ints(key, v); break;
      case 'onaNc': c.onaNc = int(key, v); break;
      case 'onaRepeats': c.onaRepeats = int(key, v); break;
      case 'onaLongSide': c.onaLongSide = int(key, v, 32); break;
      case 'sections': {
        const list = v.split(',').map((x) => x.trim());
        for (const s of list) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`sections: unknown "${s}" (${SECTIONS.join(', ')})`);
        c.sections = list as BenchSection[];
        break;
      }
      default:
        break;
    }
  }
  return c;
}

export interface BenchPhotos {
  /** Where the pixels came from (file names, or "synthetic ..."). */
  source: string;
  real: boolean;
  pixels: tf.Tensor3D[];
}

export interface BenchEnv {
  platform: 'node' | 'browser';
  /** Runtime in words (Node version, user agent, WebGPU adapter). */
  runtime: string;
  loadNetwork(id: ModelId, longSide: number): Promise<CwNetwork>;
  /** Real photos, or null for deterministic synthetic images. */
  photos: BenchPhotos | null;
  log(line: string): void;
}

interface StorageRow extends StorageSizes {
  model: ModelId;
  longSide: number;
  maps: [number, number, number];
  D: number;
}

export interface BenchReport {
  meta: {
    date: string;
    platform: 'node' | 'browser';
    backend: string;
    runtime: string;
    images: string;
    realPhotos: boolean;
    /** Images per chunk the search code uses on this backend (src/cw preferredBatchSize). */
    chunk: number;
    config: BenchConfig;
    seconds: number;
  };
  forward: ForwardBenchResult[];
  memory: MemoryBenchResult[];
  storage: StorageRow[];
  ofa: OfaBenchRow[];
  ona: OnaBenchRow[];
  onaChecks: OnaCheck[];
  onaMapStatistics: Partial<Record<ModelId, MapStatistics & { fromRealPhoto: boolean }>>;
  /** Tensors each section left allocated (tf.memory().numTensors after - before; 0 = no leak). */
  tensorsLeft: Partial<Record<BenchSection, number>>;
}

/** Deterministic stand-ins for photos: landscape and portrait, 1024 px long side like the dev set. */
function syntheticPhotos(): BenchPhotos {
  return {
    source: 'synthetic 768 x 1024 and 1024 x 768 images (deterministic, src/bench/benchCore.ts syntheticImage)',
    real: false,
    pixels: [syntheticImage(768, 1024, 1), syntheticImage(1024, 768, 2), syntheticImage(768, 1024, 3)],
  };
}

export async function runBenchmarks(env: BenchEnv, config: BenchConfig): Promise<BenchReport> {
  const started = performance.now();
  const photos = env.photos ?? syntheticPhotos();
  const want = (s: BenchSection) => config.sections.includes(s);
  const report: BenchReport = {
    meta: {
      date: new Date().toISOString(),
      platform: env.platform,
      backend: tf.getBackend(),
      runtime: env.runtime,
      images: photos.source,
      realPhotos: photos.real,
      chunk: preferredBatchSize(),
      config,
      seconds: 0,
    },
    forward: [],
    memory: [],
    storage: [],
    ofa: [],
    ona: [],
    onaChecks: [],
    onaMapStatistics: {},
    tensorsLeft: {},
  };
  /** Runs one section's work and records the tensors it left behind. */
  const tracked = async <T>(section: BenchSection, work: () => Promise<T>): Promise<T> => {
    const before = tf.memory().numTensors;
    const out = await work();
    report.tensorsLeft[section] = (report.tensorsLeft[section] ?? 0) + tf.memory().numTensors - before;
    return out;
  };
  const ncMax = Math.max(...config.ncs);
  const netModels = [...new Set([...(['forward', 'memory', 'storage'].some((s) => want(s as BenchSection)) ? config.models : []), ...(want('ona') ? config.onaModels : [])])];
  try {
    for (const id of netModels) {
      env.log(`loading ${id}`);
      const net = await env.loadNetwork(id, config.longSides[0]);
      try {
        if (config.models.includes(id)) {
          for (const longSide of config.longSides) {
            if (want('forward')) {
              env.log(`forward: ${id} @${longSide}`);
              report.forward.push(
                await tracked('forward', () =>
                  benchForward(net, photos.pixels[0], {
                    longSide, ncs: config.ncs, repeats: config.repeats, warmup: config.warmup, cwRepeats: config.cwRepeats, log: env.log,
                  }),
                ),
              );
              await breathe();
            }
            if (want('storage')) {
              const r = net.forward(photos.pixels[0], longSide);
              const [H, W, K] = r.X.shape;
              tf.dispose([r.X, r.probabilities]);
              report.storage.push({ model: id, longSide, maps: [H, W, K], D: K, ...storageSizes(H, W, K, K, net.adapter.classes) });
            }
          }
          if (want('memory')) {
            env.log(`memory: ${id} @${config.longSides[0]}, ${config.memoryImages} images`);
            report.memory.push(await tracked('memory', () => benchMemory(net, photos.pixels, config.longSides[0], ncMax, config.memoryImages, env.log)));
          }
        }
        if (want('ona') && config.onaModels.includes(id)) {
          const r = net.forward(photos.pixels[0], config.onaLongSide);
          const [H, W] = r.X.shape;
          const [X, probabilities] = (await Promise.all([r.X.data(), r.probabilities.data()])) as Float32Array[];
          tf.dispose([r.X, r.probabilities]);
          const stats = X.length ? mapStatistics(X) : DEFAULT_MAP_STATISTICS;
          report.onaMapStatistics[id] = { ...stats, fromRealPhoto: photos.real };
          const { rows, check } = await tracked('ona', () => benchOna({
            model: id,
            w: net.head.w,
            H,
            W,
            classes: topIndices(probabilities, config.onaNc),
            sizes: config.onaSizes[id] ?? [],
            shortlist: config.shortlist,
            stats,
            chunk: preferredBatchSize(),
            repeats: config.onaRepeats,
            singleRunFrom: 5000,
            distinct: 256,
            k: config.k,
            log: env.log,
          }));
          report.ona.push(...rows);
          report.onaChecks.push(check);
        }
      } finally {
        net.dispose();
      }
    }
    if (want('ofa')) {
      report.ofa = await tracked('ofa', () => benchOfa({ sizes: config.ofaSizes, dims: config.ofaDims, k: config.k, warmup: 2, repeats: config.ofaRepeats, log: env.log }));
    }
  } finally {
    if (!env.photos) tf.dispose(photos.pixels);
  }
  report.meta.seconds = (performance.now() - started) / 1000;
  return report;
}
