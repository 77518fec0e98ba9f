/**
 * The two ImageNet CNNs the app ships with, each declared in one place: where it is, how to feed it, and
 * which layers the CW method reads. Both are "GAP + one linear classifier" networks, so the layer that
 * feeds GAP gives the CAMs and is also the feature layer X (METHOD.md).
 */
import type { ModelSpec } from './spec';

export type ModelId = 'resnet50' | 'mobilenet_v1_0.75';

/** A model the app can load: its spec and the folder (URL in the browser, under public/ on disk) of its files. */
export interface ModelAdapter extends ModelSpec {
  /** Holds model.json, the weight files and labels.json. */
  folder: string;
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
};

export const DEFAULT_MODEL: ModelId = 'resnet50';

export function modelAdapter(id: string): ModelAdapter & { id: ModelId } {
  const adapter = (MODELS as Record<string, (ModelAdapter & { id: ModelId }) | undefined>)[id];
  if (!adapter) throw new Error(`unknown model "${id}"; choose one of: ${Object.keys(MODELS).join(', ')}`);
  return adapter;
}
