import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ClassifierHead } from '../cw/descriptor';
import type { CamLayers } from './spec';

/** The CAM layers of a network and its classifier's weights. */
export interface CamHead extends CamLayers {
  head: ClassifierHead;
}

/** Layers that may sit between GAP and the classifier, or after it, without changing the maths. */
const PASS_THROUGH = new Set(['Reshape', 'Dropout', 'Flatten']);
const LINEAR_OR_SOFTMAX = new Set(['linear', 'softmax', undefined]);

const outbound = (layer: tfl.layers.Layer): tfl.layers.Layer[] => layer.outboundNodes.map((n) => n.outboundLayer);

/**
 * Checks that a layers model can give Class Activation Maps, that is: its last conv layer feeds a global
 * average pooling, followed by ONE linear classifier (Dense, or 1x1 Conv2D) with bias and nothing but
 * softmax/reshape after it. Returns the layer names and the classifier weights w [K, C] and b [C].
 * Throws an error saying what is missing otherwise.
 */
export function inspectCamHead(model: tfl.LayersModel): CamHead {
  const gaps = model.layers.filter((l) => l.getClassName() === 'GlobalAveragePooling2D');
  if (gaps.length !== 1) {
    throw new Error(`not usable for CAMs: needs exactly one GlobalAveragePooling2D layer, found ${gaps.length}`);
  }
  const gap = gaps[0];
  const feature = gap.inboundNodes[0]?.inboundLayers[0];
  if (!feature) throw new Error('not usable for CAMs: the global average pooling has no input layer');

  let layer = gap;
  let classifier: tfl.layers.Layer | undefined;
  for (;;) {
    const next = outbound(layer);
    if (next.length === 0) break;
    if (next.length > 1) throw new Error(`not usable for CAMs: layer ${layer.name} branches after global average pooling`);
    layer = next[0];
    const kind = layer.getClassName();
    const config = layer.getConfig() as { activation?: string; kernelSize?: number[]; useBias?: boolean };
    if (PASS_THROUGH.has(kind)) continue;
    if (kind === 'Activation' && config.activation === 'softmax') continue;
    if ((kind === 'Dense' || kind === 'Conv2D') && !classifier) {
      if (kind === 'Conv2D' && !(config.kernelSize ?? []).every((s) => s === 1)) {
        throw new Error(`not usable for CAMs: classifier ${layer.name} is a Conv2D with kernel ${config.kernelSize}, not 1x1`);
      }
      if (!LINEAR_OR_SOFTMAX.has(config.activation)) {
        throw new Error(`not usable for CAMs: classifier ${layer.name} has a ${config.activation} activation (needs linear or softmax)`);
      }
      if (config.useBias === false) throw new Error(`not usable for CAMs: classifier ${layer.name} has no bias`);
      classifier = layer;
      continue;
    }
    throw new Error(`not usable for CAMs: ${kind} layer ${layer.name} after global average pooling (needs ONE linear classifier, no hidden layer)`);
  }
  if (!classifier) throw new Error('not usable for CAMs: no Dense or 1x1 Conv2D classifier after global average pooling');

  const [kernel, bias] = classifier.getWeights();
  const channels = kernel.shape[kernel.rank - 2];
  const classes = kernel.shape[kernel.rank - 1];
  const featureChannels = (feature.outputShape as number[]).at(-1);
  if (featureChannels !== channels) {
    throw new Error(`not usable for CAMs: feature layer ${feature.name} has ${featureChannels} channels but the classifier reads ${channels}`);
  }
  const head: ClassifierHead = {
    w: tf.reshape(kernel, [channels, classes]) as tf.Tensor2D,
    b: tf.reshape(bias, [classes]) as tf.Tensor1D,
  };
  return { featureLayer: feature.name, classifierLayer: classifier.name, channels, classes, head };
}
