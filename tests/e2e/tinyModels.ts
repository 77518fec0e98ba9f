/**
 * Small TensorFlow.js layers models made in the test (Node, cpu backend) and serialised the way the tfjs converter
 * writes them (model.json + one weight file): a CAM-capable one (convolutions, global average pooling, one dense
 * softmax classifier) and one with a hidden layer after the pooling (no CAMs).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

export const TINY_CLASSES = 5;

/** model.json, tiny.bin and (given labels) labels.json. */
export async function tinyModelFiles(options: { cam: boolean; labels?: string[] }): Promise<Map<string, Buffer>> {
  await tf.setBackend('cpu');
  const input = tfl.input({ shape: [null, null, 3] as unknown as number[] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv1' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'features' }).apply(x) as tfl.SymbolicTensor;
  let y = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tfl.SymbolicTensor;
  if (!options.cam) y = tfl.layers.dense({ units: 12, activation: 'relu', name: 'hidden' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: TINY_CLASSES, activation: 'softmax', name: 'classifier' }).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: y });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  model.dispose();
  const json = { format: 'layers-model', modelTopology: saved!.modelTopology, weightsManifest: [{ paths: ['tiny.bin'], weights: saved!.weightSpecs }] };
  const files = new Map<string, Buffer>([
    ['model.json', Buffer.from(JSON.stringify(json))],
    ['tiny.bin', Buffer.from(saved!.weightData as ArrayBuffer)],
  ]);
  if (options.labels) files.set('labels.json', Buffer.from(JSON.stringify(options.labels)));
  return files;
}
