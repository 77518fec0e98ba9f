/**
 * Per-image benchmarks on a loaded network: the bare forward pass against forward + CW descriptor (the
 * CAM-weighting overhead), what the app does per indexed image, peak tensor memory and leaks across many images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { topClasses } from '../cw/classifier';
import { cwDescriptor } from '../cw/descriptor';
import { encodeMaps } from '../index/mapCodec';
import type { CwNetwork } from '../model/network';
import { inputSize } from '../model/preprocess';
import { topIndices } from '../search/search';
import { memorySnapshot, peakMemory, ratio, summarize, timeInterleaved, timeRuns, type MemorySnapshot, type PeakMemory, type Summary } from './benchCore';

/** Lets a page repaint and other tasks run between measurements (setTimeout exists in Node and browsers). */
export const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export interface ForwardBenchOptions {
  longSide: number;
  ncs: number[];
  /** Interleaved rounds of the end-to-end variants (each variant once per round), after `warmup` rounds. */
  repeats: number;
  warmup: number;
  /** Timed runs of the CW step alone, on one forward pass's outputs. */
  cwRepeats: number;
  log?: (line: string) => void;
}

export interface ForwardBenchResult {
  /** Model id (src/model/adapters.ts). */
  model: string;
  longSide: number;
  /** Network input [height, width] and feature maps [H, W, K]. */
  input: [number, number];
  maps: [number, number, number];
  /** Forward pass + awaiting X and the probabilities. */
  bare: Summary;
  /** Forward + top-NC classes on the backend + cwDescriptor + awaiting it, per NC. */
  withCw: Record<string, Summary>;
  /** Top-NC classes + cwDescriptor (the product's, src/cw) + awaiting it, on one forward pass's X (no forward), per NC. */
  cwOnly: Record<string, Summary>;
  /**
   * What the app's indexing does per photo today (src/worker/services/indexer.ts): forward, await the probabilities,
   * top-NC in JS, cwDescriptor, await X and the descriptor, encode X as uint8. NC = the largest of `ncs`.
   */
  app: Summary;
  /** The same with the top-NC classes picked on the backend (no read between the forward pass and the descriptor). */
  appDeviceTopk: Summary;
  /** encodeMaps(X, 'uint8') alone (JavaScript), part of `app`. */
  encodeUint8: Summary;
  /** median(withCw) / median(bare), per NC: the CAM-weighting overhead as measured end to end. */
  ratio: Record<string, number>;
  /** 1 + median(cwOnly) / median(bare), per NC: the same overhead from the isolated CW step (less noisy). */
  ratioFromCwOnly: Record<string, number>;
  /** median(app) / median(bare). */
  appRatio: number;
}

/** Forward pass + awaiting both outputs. */
async function bareForward(net: CwNetwork, pixels: tf.Tensor3D, longSide: number): Promise<void> {
  const r = net.forward(pixels, longSide);
  try {
    await Promise.all([r.X.data(), r.probabilities.data()]);
  } finally {
    tf.dispose([r.X, r.probabilities]);
  }
}

/** Forward + top-NC on the backend + CW descriptor, awaiting only the descriptor. */
async function forwardWithCw(net: CwNetwork, pixels: tf.Tensor3D, longSide: number, nc: number): Promise<void> {
  const r = net.forward(pixels, longSide);
  const d = tf.tidy(() => cwDescriptor(r.X, net.head.w, topClasses(r.probabilities, nc)));
  tf.dispose([r.X, r.probabilities]);
  try {
    await d.data();
  } finally {
    d.dispose();
  }
}

/**
 * One photo's indexing as the app does it. `deviceTopk`: the classes come from tf.topk on the backend instead of a
 * read of the probabilities first. Returns what the app would store: the encoded maps' bytes and the descriptor and
 * probabilities lengths.
 */
async function appIndexOnce(
  net: CwNetwork,
  pixels: tf.Tensor3D,
  longSide: number,
  nc: number,
  deviceTopk = false,
): Promise<{ mapsBytes: number; descriptor: number; probabilities: number }> {
  const r = net.forward(pixels, longSide);
  let d: tf.Tensor1D | null = null;
  try {
    let probabilities: Float32Array;
    if (deviceTopk) {
      d = tf.tidy(() => cwDescriptor(r.X, net.head.w, topClasses(r.probabilities, nc)));
      probabilities = (await r.probabilities.data()) as Float32Array;
    } else {
      probabilities = (await r.probabilities.data()) as Float32Array;
      const classes = tf.tensor1d(topIndices(probabilities, nc), 'int32');
      d = cwDescriptor(r.X, net.head.w, classes);
      classes.dispose();
    }
    const [X, descriptor] = (await Promise.all([r.X.data(), d.data()])) as Float32Array[];
    const [H, W, K] = r.X.shape;
    const mapsBytes = encodeMaps(X, H, W, K, 'uint8').data.byteLength;
    return { mapsBytes, descriptor: descriptor.length, probabilities: probabilities.length };
  } finally {
    tf.dispose([r.X, r.probabilities]);
    d?.dispose();
  }
}

export async function benchForward(net: CwNetwork, pixels: tf.Tensor3D, o: ForwardBenchOptions): Promise<ForwardBenchResult> {
  const { longSide } = o;
  const ncMax = Math.max(...o.ncs);
  const log = o.log ?? (() => undefined);

  // The CW step alone, on one forward pass's outputs.
  const r = net.forward(pixels, longSide);
  const [H, W, K] = r.X.shape;
  const cwOnly: Record<string, Summary> = {};
  const encodeSamples: number[] = [];
  try {
    for (const nc of o.ncs) {
      const product = async () => {
        const d = tf.tidy(() => cwDescriptor(r.X, net.head.w, topClasses(r.probabilities, nc)));
        await d.data();
        d.dispose();
      };
      cwOnly[nc] = summarize(await timeRuns(product, { warmup: 2, repeats: o.cwRepeats }));
      await breathe();
    }
    const X = (await r.X.data()) as Float32Array;
    encodeSamples.push(...(await timeRuns(async () => void encodeMaps(X, H, W, K, 'uint8'), { warmup: 1, repeats: o.cwRepeats })));
  } finally {
    tf.dispose([r.X, r.probabilities]);
  }
  const inputShape = inputOf(net, pixels, longSide);

  // End to end, interleaved.
  const variants: Record<string, () => Promise<unknown>> = { bare: () => bareForward(net, pixels, longSide) };
  for (const nc of o.ncs) variants[`cw${nc}`] = () => forwardWithCw(net, pixels, longSide, nc);
  variants.app = () => appIndexOnce(net, pixels, longSide, ncMax, false);
  variants.appDeviceTopk = () => appIndexOnce(net, pixels, longSide, ncMax, true);
  const samples = await timeInterleaved(variants, { warmup: o.warmup, repeats: o.repeats }, (round) => log(`${net.adapter.id} @${longSide}: round ${round}/${o.repeats}`));

  const bare = summarize(samples.bare);
  const withCw: Record<string, Summary> = {};
  const ratios: Record<string, number> = {};
  const fromCwOnly: Record<string, number> = {};
  for (const nc of o.ncs) {
    withCw[nc] = summarize(samples[`cw${nc}`]);
    ratios[nc] = ratio(withCw[nc].median, bare.median);
    fromCwOnly[nc] = 1 + ratio(cwOnly[nc].median, bare.median);
  }
  const app = summarize(samples.app);
  return {
    model: net.adapter.id,
    longSide,
    input: inputShape,
    maps: [H, W, K],
    bare,
    withCw,
    cwOnly,
    app,
    appDeviceTopk: summarize(samples.appDeviceTopk),
    encodeUint8: summarize(encodeSamples),
    ratio: ratios,
    ratioFromCwOnly: fromCwOnly,
    appRatio: ratio(app.median, bare.median),
  };
}

/** The network input [height, width] for these pixels at this long side (as CwNetwork.forward resizes them). */
function inputOf(net: CwNetwork, pixels: tf.Tensor3D, longSide: number): [number, number] {
  const [h, w] = pixels.shape;
  const size = inputSize(w, h, longSide, net.adapter.stride);
  return [size.height, size.width];
}

export interface MemoryBenchResult {
  /** Model id (src/model/adapters.ts). */
  model: string;
  longSide: number;
  /** tf.profile of one photo's indexing (the app's path). */
  peak: PeakMemory;
  /** tf.memory() before and after `images` photos indexed one after the other. */
  images: number;
  before: MemorySnapshot;
  after: MemorySnapshot;
  leakedTensors: number;
  leakedBytes: number;
}

export async function benchMemory(net: CwNetwork, photos: tf.Tensor3D[], longSide: number, nc: number, images: number, log?: (line: string) => void): Promise<MemoryBenchResult> {
  // One untracked run first, so lazily created state (XNNPACK operators, shader programs) is not counted as a leak.
  await appIndexOnce(net, photos[0], longSide, nc);
  const peak = await peakMemory(async () => void (await appIndexOnce(net, photos[0], longSide, nc)));
  const before = memorySnapshot();
  for (let i = 0; i < images; i++) {
    await appIndexOnce(net, photos[i % photos.length], longSide, nc);
    if ((i + 1) % 10 === 0) {
      log?.(`${net.adapter.id} @${longSide}: memory ${i + 1}/${images} images`);
      await breathe();
    }
  }
  const after = memorySnapshot();
  return {
    model: net.adapter.id,
    longSide,
    peak,
    images,
    before,
    after,
    leakedTensors: after.numTensors - before.numTensors,
    leakedBytes: after.numBytes - before.numBytes,
  };
}
