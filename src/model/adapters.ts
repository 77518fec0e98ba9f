/**
 * The three ImageNet CNNs the app ships with, each declared in one place: where it is, how to feed it, and
 * which layers the CW method reads. All are "GAP + one linear classifier" networks, so the layer that
 * feeds GAP gives the CAMs and is also the feature layer X (METHOD.md; EfficientNet-B0: X = max(A, 0), below).
 */
import type { ModelSpec } from './spec';

export type ModelId = 'resnet50' | 'mobilenet_v1_0.75' | 'efficientnet_b0';

/** A model the app can load: its spec and the folder (URL in the browser, under public/ on disk) of its files. */
export interface ModelAdapter extends ModelSpec {
  /** Holds model.json, the weight files and labels.json. */
  folder: string;
  /**
   * 'graph-model': a tfjs graph model, run to the node `featureLayer`; `classifierLayer` is the node computing the
   * logits, whose weight inputs are w and b (./graphNetwork.ts). Absent: a tfjs layers model.
   */
  format?: 'graph-model';
  /**
   * X = max(A, 0) of the layer A feeding GAP, for a network whose A has negative values (swish): the CW features and
   * the stored maps. The class probabilities stay the network's own, from A. Graph models only.
   */
  nonNegativeX?: boolean;
}

/** The shipped models: an adapter whose id is one of ModelId. */
export const MODELS: Record<ModelId, ModelAdapter & { id: ModelId }> = {
  resnet50: {
    id: 'resnet50',
    name: 'ResNet-50 (ImageNet, Keras)',
    folder: 'models/resnet50',
    preprocessing: 'caffe',
    featureLayer: 'activation_48',
    classifierLayer: 'fc1000',
    channels: 2048,
    classes: 1000,
    stride: 32,
  },
  'mobilenet_v1_0.75': {
    id: 'mobilenet_v1_0.75',
    name: 'MobileNet v1 0.75 (ImageNet)',
    folder: 'models/mobilenet_v1_0.75',
    preprocessing: 'inception',
    featureLayer: 'conv_pw_13_relu',
    classifierLayer: 'conv_preds',
    channels: 768,
    classes: 1000,
    stride: 32,
  },
  efficientnet_b0: {
    id: 'efficientnet_b0',
    name: 'EfficientNet-B0 (ImageNet, TF Hub)',
    folder: 'models/efficientnet_b0',
    format: 'graph-model',
    preprocessing: 'unit',
    featureLayer: 'StatefulPartitionedCall/model/top_activation/mul',
    classifierLayer: 'StatefulPartitionedCall/model/logits/BiasAdd',
    channels: 1280,
    classes: 1000,
    stride: 32,
    // Swish leaves small negative values (down to -0.28; 81-89 % of the values): X = max(A, 0) keeps the stored maps
    // (their codec keeps only positive values) equal to X, so a collection photo searched from its stored maps finds
    // itself (self-score 0.9997, against 0.971 with X = A); mAP is level (docs/MODELS.md). The probabilities come from
    // A; CAMs from X stay within 0.12 of A's (normalised; same peak cell in 197 of 200, dev photos, top-8 classes).
    nonNegativeX: true,
  },
};

/**
 * The model a new collection gets, chosen by measurement (README "Numbers", docs/MODELS.md): EfficientNet-B0 ranks
 * best on every landmark set (plain CW-OfA at long side 512: dev 0.942 against MobileNet's 0.833 and ResNet-50's
 * 0.830; the landmark-distractor sets 0.866 against 0.707) and level on UKBench (0.994 against 0.996), and indexes
 * as fast as MobileNet v1 0.75 on wasm (1.78 against 1.56 photos/s in Chromium; ResNet-50 0.32).
 */
export const DEFAULT_MODEL: ModelId = 'efficientnet_b0';

export function modelAdapter(id: string): ModelAdapter & { id: ModelId } {
  const adapter = (MODELS as Record<string, (ModelAdapter & { id: ModelId }) | undefined>)[id];
  if (!adapter) throw new Error(`unknown model "${id}"; choose one of: ${Object.keys(MODELS).join(', ')}`);
  return adapter;
}
