/**
 * A network shipped as a tfjs GRAPH model (a frozen TensorFlow graph, e.g. EfficientNet-B0 from TF Hub): executed up
 * to the adapter's feature node, with the classifier read out of the graph's weights (graph constants, not layers).
 * The CAM head is proven on real weights at load: logits = GAP(feature node) . w + b must reproduce the graph's own
 * classifier node, so a wrong node name or a head that is not "GAP + one linear classifier" fails with a clear error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { classLogits, classProbabilities } from '../cw/classifier';
import type { ClassifierHead } from '../cw/descriptor';
import type { ModelAdapter } from './adapters';
import { loadGraphArtifacts, type ReadModelFile } from './artifacts';
import type { NetworkBody } from './network';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

/** Largest |logit| difference accepted between the graph's classifier node and GAP . w + b (float32 sums over K). */
const LOGITS_TOLERANCE = 1e-3;

export async function loadGraphBody(adapter: ModelAdapter, read: ReadModelFile): Promise<NetworkBody> {
  const artifacts = await loadGraphArtifacts(read);
  let model: GraphModel;
  try {
    model = await loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new Error(`${adapter.id}: model.json and its weights do not make a TensorFlow.js graph model: ${(e as Error).message}`, { cause: e });
  }
  let head: ClassifierHead | undefined;
  try {
    head = readClassifier(adapter, (artifacts.modelTopology as { node: GraphNode[] }).node, model);
    await checkLogits(adapter, model, head);
    const { w, b } = head;
    return {
      head,
      run(input) {
        const A = tf.squeeze(model.execute(input, adapter.featureLayer) as tf.Tensor4D, [0]) as tf.Tensor3D;
        return { X: featureMaps(adapter, A), probabilities: classProbabilities(A, w, b) };
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

/** X from the layer feeding GAP (A): A itself, or max(A, 0) where the adapter says so (see ModelAdapter.nonNegativeX). */
function featureMaps(adapter: ModelAdapter, A: tf.Tensor3D): tf.Tensor3D {
  return adapter.nonNegativeX ? tf.relu(A) : A;
}

/** The classifier node's weight inputs w [K, C] and b [C], copied out of the graph's weights. */
function readClassifier(adapter: ModelAdapter, nodes: GraphNode[], model: GraphModel): ClassifierHead {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (!byName.has(adapter.featureLayer)) throw new Error(`${adapter.id}: the graph has no feature node ${adapter.featureLayer}`);
  const classifier = byName.get(adapter.classifierLayer);
  if (!classifier) throw new Error(`${adapter.id}: the graph has no classifier node ${adapter.classifierLayer}`);
  const [, wName, bName] = classifier.input ?? [];
  const [w, b] = [model.weights[wName ?? '']?.[0], model.weights[bName ?? '']?.[0]];
  const { channels: K, classes: C } = adapter;
  if (!w || !b || w.shape.join() !== `${K},${C}` || b.shape.join() !== `${C}`) {
    throw new Error(
      `${adapter.id}: classifier node ${adapter.classifierLayer} (${classifier.op}) does not read weights [${K}, ${C}] and a bias [${C}] ` +
        `(its inputs: ${(classifier.input ?? []).join(', ')})`,
    );
  }
  return { w: tf.clone(w) as tf.Tensor2D, b: tf.clone(b) as tf.Tensor1D };
}

/** Runs the graph once to the feature node AND its classifier node: GAP(A) . w + b must give the graph's logits. */
async function checkLogits(adapter: ModelAdapter, model: GraphModel, head: ClassifierHead): Promise<void> {
  const [A, logits, mine] = tf.tidy(() => {
    // A smooth colour ramp in [0, 1] (not zeros: every class would score alike); 2 x 3 feature cells.
    const ramp = tf.linspace(0, 1, 3 * 64 * 96);
    const input = tf.reshape(ramp, [1, 64, 96, 3]);
    const [maps, graphLogits] = model.execute(input, [adapter.featureLayer, adapter.classifierLayer]) as tf.Tensor[];
    const A = tf.squeeze(maps, [0]) as tf.Tensor3D;
    return [A, tf.reshape(graphLogits, [-1]), classLogits(A, head.w, head.b)];
  });
  try {
    if (A.shape[2] !== adapter.channels) throw new Error(`${adapter.id}: feature node ${adapter.featureLayer} has ${A.shape[2]} channels, expected ${adapter.channels}`);
    const [g, m] = await Promise.all([logits.data(), mine.data()]);
    let worst = g.length === m.length ? 0 : Infinity;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - m[i])); // NaN stays NaN: fails below
    if (!(worst <= LOGITS_TOLERANCE)) {
      throw new Error(
        `${adapter.id}: GAP(${adapter.featureLayer}) . w + b differs from the graph's classifier ${adapter.classifierLayer} by ${worst} ` +
          `(the feature node does not feed global average pooling and then that ONE linear classifier)`,
      );
    }
  } finally {
    tf.dispose([A, logits, mine]);
  }
}
