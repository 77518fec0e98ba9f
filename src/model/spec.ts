/**
 * One definition of "a network the CW method can run on", shared by the shipped models (./adapters.ts), the
 * models users bring (their stored record, src/index/schema.ts) and what inspecting a network finds (./camHead.ts).
 */

export type Preprocessing =
  /** Keras "caffe": BGR, 0..255 minus the ImageNet mean, no scaling (ResNet-50). */
  | 'caffe'
  /** Keras "tf"/inception: RGB scaled to [-1, 1] (MobileNet). */
  | 'inception'
  /** RGB scaled to [0, 1]; the network normalises it itself (EfficientNet-B0 from TF Hub). */
  | 'unit';

/** The layers Class Activation Maps need, as found in a network: GAP's input, then ONE linear classifier. */
export interface CamLayers {
  /** Last conv layer = the layer feeding global average pooling: feature maps X and CAM maps A. */
  featureLayer: string;
  /** The linear classifier after GAP: a Dense [K, C] or a 1x1 Conv2D [1, 1, K, C], with bias. */
  classifierLayer: string;
  /** Channels K of the feature layer and classes C. */
  channels: number;
  classes: number;
}

/** A network as the app runs it: its layers, how to feed it, and its geometry. */
export interface ModelSpec extends CamLayers {
  id: string;
  name: string;
  preprocessing: Preprocessing;
  /** Input pixels per feature cell. */
  stride: number;
}
