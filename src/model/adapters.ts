/**
 * The two ImageNet CNNs the app ships with, each declared in one place: where it is, how to feed it, and
 * which layers the CW method reads. Both are "GAP + one linear classifier" networks, so the layer that
 * feeds GAP gives the CAMs and is also the feature layer X (METHOD.md).
 */
export type Preprocessing =
  /** Keras "caffe": BGR, 0..255 minus the ImageNet mean, no scaling (ResNet-50). */
  | 'caffe'
  /** Keras "tf"/inception: RGB scaled to [-1, 1] (MobileNet). */
  | 'inception';

export type ModelId = 'resnet50' | 'mobilenet_v1_0.75';

export interface ModelAdapter {
  id: ModelId;
  name: string;
  /** Folder (URL in the browser, under public/ on disk) holding model.json, weights and labels.json. */
  folder: string;
  preprocessing: Preprocessing;
  /** Last conv layer = the layer feeding global average pooling: feature maps X and CAM maps A. */
  featureLayer: string;
  /** The linear classifier after GAP: a Dense [K, C] or a 1x1 Conv2D [1, 1, K, C], with bias. */
  classifierLayer: string;
  /** Channels K of the feature layer and classes C. */
  channels: number;
  classes: number;
  /** Input pixels per feature cell. */
  stride: number;
}

export const MODELS: Record<ModelId, ModelAdapter> = {
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

export function modelAdapter(id: string): ModelAdapter {
  const adapter = (MODELS as Record<string, ModelAdapter | undefined>)[id];
  if (!adapter) throw new Error(`unknown model "${id}"; choose one of: ${Object.keys(MODELS).join(', ')}`);
  return adapter;
}
