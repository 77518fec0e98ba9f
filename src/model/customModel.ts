/**
 * A model the user brings (dropped files or a same-origin URL): checked BEFORE it is used, so a wrong file gives a
 * clear message and never reaches the index. It must be a TensorFlow.js layers model (model.json + weight files,
 * all present and complete: ./artifacts.ts), accept RGB images of any size, and end in global average pooling + ONE
 * linear classifier (./camHead.ts), the head that gives Class Activation Maps. Class names come from labels.json when
 * given (an array of one string per class), else the classes are numbered.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModelArtifacts, type ReadModelFile } from './artifacts';
import { inspectCamHead } from './camHead';
import { parseLabels } from './network';
import type { CamLayers } from './spec';

/** What inspecting a user's model finds. */
export interface CustomModelSpec extends CamLayers {
  /** Input pixels per feature cell, measured on a 256 x 256 input. */
  stride: number;
  /** From labels.json, or null when there is none (the app numbers the classes). */
  labels: string[] | null;
}

/** Size of the probe input used to measure the stride (and to check the network takes other sizes). */
const PROBE = 256;

/** Numbered class names, for a model without labels.json. */
/**
 * Validates a model folder read through `read` and returns what the app needs to run it. Throws an Error whose
 * message says what is wrong (missing or truncated files, not a layers model, no CAM head, bad labels).
 */
export async function inspectCustomModel(read: ReadModelFile): Promise<CustomModelSpec> {
  const artifacts = await loadModelArtifacts(read);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new Error(`model.json and its weights do not make a TensorFlow.js layers model that takes RGB images: ${(e as Error).message}`, { cause: e });
  }
  try {
    const head = inspectCamHead(model);
    tf.dispose([head.head.w, head.head.b]);
    let H: number;
    try {
      const backbone = tfl.model({ inputs: model.inputs, outputs: model.getLayer(head.featureLayer).output as tfl.SymbolicTensor });
      const out = tf.tidy(() => backbone.predict(tf.zeros([1, PROBE, PROBE, 3])) as tf.Tensor);
      H = out.shape[1] ?? 0;
      out.dispose();
    } catch (e) {
      throw new Error(`the network does not take photos of any size (a ${PROBE} x ${PROBE} test input failed: ${(e as Error).message})`, { cause: e });
    }
    if (!(H >= 1)) throw new Error(`the feature layer ${head.featureLayer} gives no feature map for a ${PROBE} x ${PROBE} input`);
    return {
      featureLayer: head.featureLayer,
      classifierLayer: head.classifierLayer,
      channels: head.channels,
      classes: head.classes,
      stride: Math.max(1, Math.round(PROBE / H)),
      labels: await readLabels(read, head.classes),
    };
  } finally {
    model.dispose();
  }
}

async function readLabels(read: ReadModelFile, classes: number): Promise<string[] | null> {
  let bytes: ArrayBuffer;
  try {
    bytes = await read('labels.json');
  } catch {
    return null; // optional
  }
  return parseLabels(bytes, classes);
}
