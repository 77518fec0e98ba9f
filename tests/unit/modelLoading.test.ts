/**
 * Model loading with bad input: missing, truncated or wrong files and networks without a CAM-capable head
 * all give a clear error. Small layers models are built here and served from memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadModelArtifacts, type ReadModelFile } from '../../src/model/artifacts';
import { inspectCamHead } from '../../src/model/camHead';
import { loadNetwork } from '../../src/model/network';
import type { ModelAdapter } from '../../src/model/adapters';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Serialises a model the way the tfjs converter does: model.json plus one weight file. */
async function files(model: tfl.LayersModel, labels = 10): Promise<Map<string, ArrayBuffer>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const json = { modelTopology: saved!.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: saved!.weightSpecs }], format: 'layers-model' };
  const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
  return new Map([
    ['model.json', enc(JSON.stringify(json))],
    ['group1-shard1of1.bin', saved!.weightData as ArrayBuffer],
    ['labels.json', enc(JSON.stringify(Array.from({ length: labels }, (_, i) => `class ${i}`)))],
  ]);
}
const reader = (m: Map<string, ArrayBuffer>): ReadModelFile => async (p) => {
  const f = m.get(p);
  if (!f) throw new Error(`HTTP 404 for ${p}`);
  return f;
};

function camNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 4, padding: 'same', activation: 'relu', name: 'last_conv' }).apply(input);
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(conv);
  const fc = tfl.layers.dense({ units: 10, activation: 'softmax', name: 'fc' }).apply(gap) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: fc });
}
const adapter: ModelAdapter = {
  id: 'resnet50',
  name: 'tiny test net',
  folder: 'unused',
  preprocessing: 'inception',
  featureLayer: 'last_conv',
  classifierLayer: 'fc',
  channels: 4,
  classes: 10,
  stride: 4,
};

describe('a CAM-capable network', () => {
  it('loads at any input size, and one forward pass gives maps and probabilities matching the full model', async () => {
    const model = camNet();
    const net = await loadNetwork(adapter, reader(await files(model)), { longSide: 16 });
    const pixels = tf.randomUniform([16, 16, 3], 0, 255) as tf.Tensor3D;
    const r = net.forward(pixels);
    expect(r.X.shape).toEqual([4, 4, 4]);
    const direct = model.predict(tf.sub(tf.div(tf.expandDims(pixels, 0), 127.5), 1)) as tf.Tensor;
    const [a, b] = [await r.probabilities.data(), await direct.data()];
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    // Fully convolutional: a 40 x 24 image works too.
    const r2 = net.forward(tf.zeros([24, 40, 3]) as tf.Tensor3D, 40);
    expect(r2.X.shape).toEqual([6, 10, 4]);
    net.dispose();
  });
});

describe('bad model files give clear errors', () => {
  it('a missing weight file', async () => {
    const f = await files(camNet());
    f.delete('group1-shard1of1.bin');
    await expect(loadModelArtifacts(reader(f))).rejects.toThrow(/weight file group1-shard1of1.bin could not be loaded: HTTP 404/);
  });

  it('a truncated weight file', async () => {
    const f = await files(camNet());
    f.set('group1-shard1of1.bin', f.get('group1-shard1of1.bin')!.slice(0, 100));
    await expect(loadModelArtifacts(reader(f))).rejects.toThrow(/hold 100 bytes but the manifest needs \d+: truncated/);
  });

  it('model.json that is not JSON, or not a layers model', async () => {
    const f = await files(camNet());
    f.set('model.json', new TextEncoder().encode('<html>not found</html>').buffer as ArrayBuffer);
    await expect(loadModelArtifacts(reader(f))).rejects.toThrow(/model.json could not be read as JSON/);
    f.set('model.json', new TextEncoder().encode('{"format":"graph-model"}').buffer as ArrayBuffer);
    await expect(loadModelArtifacts(reader(f))).rejects.toThrow(/not a TensorFlow.js layers model/);
  });

  it('labels that do not match the classes', async () => {
    await expect(loadNetwork(adapter, reader(await files(camNet(), 7)), { longSide: 16 })).rejects.toThrow(/array of 10 strings/);
  });

  it('a network other than the adapter declares', async () => {
    await expect(loadNetwork({ ...adapter, featureLayer: 'conv5' }, reader(await files(camNet())), { longSide: 16 })).rejects.toThrow(
      /expected feature layer conv5 and classifier fc, found last_conv and fc/,
    );
  });

  it('a long side that is not a usable size', async () => {
    await expect(loadNetwork(adapter, reader(await files(camNet())), { longSide: 3 })).rejects.toThrow(/long side must be an integer >= 4/);
  });
});

describe('networks without a CAM-capable head are rejected', () => {
  const build = (head: (x: tfl.SymbolicTensor) => tfl.SymbolicTensor) => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: head(conv) });
  };

  it('no global average pooling (flatten + dense)', () => {
    const m = build((x) => tfl.layers.dense({ units: 5 }).apply(tfl.layers.flatten().apply(x)) as tfl.SymbolicTensor);
    expect(() => inspectCamHead(m)).toThrow(/exactly one GlobalAveragePooling2D layer, found 0/);
  });

  it('a hidden layer between GAP and the classifier', () => {
    const m = build((x) => {
      const g = tfl.layers.globalAveragePooling2d({}).apply(x);
      const hidden = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(g);
      return tfl.layers.dense({ units: 5 }).apply(hidden) as tfl.SymbolicTensor;
    });
    expect(() => inspectCamHead(m)).toThrow(/relu activation/);
  });

  it('two dense layers after GAP', () => {
    const m = build((x) => {
      const g = tfl.layers.globalAveragePooling2d({}).apply(x);
      return tfl.layers.dense({ units: 5 }).apply(tfl.layers.dense({ units: 6 }).apply(g)) as tfl.SymbolicTensor;
    });
    expect(() => inspectCamHead(m)).toThrow(/no hidden layer/);
  });

  it('a classifier without bias', () => {
    const m = build((x) => tfl.layers.dense({ units: 5, useBias: false }).apply(tfl.layers.globalAveragePooling2d({}).apply(x)) as tfl.SymbolicTensor);
    expect(() => inspectCamHead(m)).toThrow(/no bias/);
  });

  it('accepts GAP -> reshape -> dropout -> 1x1 conv -> softmax -> reshape (MobileNet v1 head)', () => {
    const m = build((x) => {
      let y = tfl.layers.globalAveragePooling2d({}).apply(x);
      y = tfl.layers.reshape({ targetShape: [1, 1, 4] }).apply(y);
      y = tfl.layers.dropout({ rate: 0.001 }).apply(y);
      y = tfl.layers.conv2d({ filters: 5, kernelSize: 1, name: 'conv_preds' }).apply(y);
      y = tfl.layers.activation({ activation: 'softmax' }).apply(y);
      return tfl.layers.reshape({ targetShape: [5] }).apply(y) as tfl.SymbolicTensor;
    });
    const head = inspectCamHead(m);
    expect(head.classifierLayer).toBe('conv_preds');
    expect(head.head.w.shape).toEqual([4, 5]);
    expect(head.channels).toBe(4);
  });
});
