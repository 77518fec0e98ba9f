import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { classProbabilities } from '../cw/classifier';
import type { Grid } from '../cw/boxes';
import type { ClassifierHead } from '../cw/descriptor';
import { loadModelArtifacts, type ReadModelFile } from './artifacts';
import type { ModelAdapter } from './adapters';
import { inspectCamHead } from './camHead';
import { toNetworkInput, inputSize } from './preprocess';

/** What ONE forward pass gives for one image. Tensors stay on the backend's device; the caller disposes them. */
export interface ForwardResult {
  /** Feature maps X = CAM maps A: [H, W, K]. */
  X: tf.Tensor3D;
  /** Softmax class probabilities [C]. */
  probabilities: tf.Tensor1D;
  /** Grid geometry, for mapping pixel boxes to cells and back. */
  grid: Grid;
}

export interface LoadOptions {
  /** Long side the image is resized to before the network (paper: 1024). */
  longSide: number;
}

export interface CwNetwork {
  adapter: ModelAdapter;
  head: ClassifierHead;
  labels: string[];
  longSide: number;
  /**
   * One forward pass on RGB pixels [height, width, 3] (0..255, any numeric dtype): resized so the long side
   * is `longSide` (the network is fully convolutional up to GAP), then X and class probabilities. `imageSize`: the
   * size of the image the pixels were decoded from when it is not theirs (pixels decoded at the input size already);
   * the input size and the grid follow it.
   */
  forward(pixels: tf.Tensor3D, longSide?: number, imageSize?: { width: number; height: number }): ForwardResult;
  dispose(): void;
}

/** A loaded network up to its feature layer, and its classifier: what loadNetwork wraps as a CwNetwork. */
export interface NetworkBody {
  head: ClassifierHead;
  /** The preprocessed input [1, h, w, 3] -> feature maps X [H, W, K] and the class probabilities [C]. */
  run(input: tf.Tensor4D): { X: tf.Tensor3D; probabilities: tf.Tensor1D };
  dispose(): void;
}

/**
 * Loads an adapter's network from its folder (a tfjs layers model, or a graph model: ./graphNetwork.ts), checks it
 * has a CAM-capable head (GAP + one linear classifier), and warms it up so the first real image does not pay for
 * kernel compilation.
 */
export async function loadNetwork(adapter: ModelAdapter, read: ReadModelFile, options: LoadOptions): Promise<CwNetwork> {
  if (!(Number.isInteger(options.longSide) && options.longSide >= adapter.stride)) {
    throw new Error(`long side must be an integer >= ${adapter.stride} pixels (one feature cell), got ${options.longSide}`);
  }
  // The graph-model runtime (tfjs-converter) is only fetched by the pages that run a graph model.
  const body = adapter.format === 'graph-model' ? await (await import('./graphNetwork')).loadGraphBody(adapter, read) : await loadLayersBody(adapter, read);
  try {
    const labels = parseLabels(await read('labels.json'), adapter.classes);
    const network: CwNetwork = {
      adapter,
      head: body.head,
      labels,
      longSide: options.longSide,
      forward(pixels, longSide = options.longSide, imageSize) {
        const { width, height } = imageSize ?? { width: pixels.shape[1], height: pixels.shape[0] };
        const size = inputSize(width, height, longSide, adapter.stride);
        const { X, probabilities } = tf.tidy(() => body.run(toNetworkInput(pixels, size, adapter.preprocessing)));
        const grid: Grid = {
          H: X.shape[0],
          W: X.shape[1],
          cellWidth: (adapter.stride * width) / size.width,
          cellHeight: (adapter.stride * height) / size.height,
          imageWidth: width,
          imageHeight: height,
        };
        return { X, probabilities, grid };
      },
      dispose: () => body.dispose(),
    };
    const zeros = tf.zeros([64, 64, 3]) as tf.Tensor3D;
    const warm = network.forward(zeros);
    tf.dispose([zeros, warm.X, warm.probabilities]);
    return network;
  } catch (e) {
    body.dispose();
    throw e;
  }
}

/** A tfjs layers model cut at its feature layer, after checking its head is the one the adapter declares. */
async function loadLayersBody(adapter: ModelAdapter, read: ReadModelFile): Promise<NetworkBody> {
  const model = await tfl.loadLayersModel(tf.io.fromMemory(await loadModelArtifacts(read)));
  let head: ClassifierHead | undefined;
  try {
    const found = inspectCamHead(model);
    head = found.head;
    if (found.featureLayer !== adapter.featureLayer || found.classifierLayer !== adapter.classifierLayer) {
      throw new Error(
        `${adapter.id}: expected feature layer ${adapter.featureLayer} and classifier ${adapter.classifierLayer}, ` +
          `found ${found.featureLayer} and ${found.classifierLayer}`,
      );
    }
    if (found.channels !== adapter.channels || found.classes !== adapter.classes) {
      throw new Error(`${adapter.id}: expected ${adapter.channels} channels and ${adapter.classes} classes, found ${found.channels} and ${found.classes}`);
    }
    const { w, b } = found.head;
    const backbone = tfl.model({ inputs: model.inputs, outputs: model.getLayer(adapter.featureLayer).output as tfl.SymbolicTensor });
    return {
      head: found.head,
      run(input) {
        const X = tf.squeeze(backbone.predict(input) as tf.Tensor4D, [0]) as tf.Tensor3D;
        return { X, probabilities: classProbabilities(X, w, b) };
      },
      dispose() {
        model.dispose();
        tf.dispose([w, b]);
      },
    };
  } catch (e) {
    model.dispose();
    if (head) tf.dispose([head.w, head.b]);
    throw e;
  }
}

/** labels.json: an array of one name per class of the classifier. */
export function parseLabels(bytes: ArrayBuffer, classes: number): string[] {
  let labels: unknown;
  try {
    labels = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('labels.json is not valid JSON');
  }
  if (!Array.isArray(labels) || labels.length !== classes || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`labels.json must be an array of ${classes} strings, one per class of the classifier`);
  }
  return labels;
}
