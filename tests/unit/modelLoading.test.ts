/**
 * Model loading with bad input: missing, truncated or wrong files and networks without a CAM-capable head
 * all give a clear error. Small layers models, and a small tfjs graph model written out node by node as the tfjs
 * converter writes one, are built here and served from memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadGraphArtifacts, loadModelArtifacts, type ReadModelFile } from '../../src/model/artifacts';
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

/**
 * A tiny graph model as the tfjs converter writes a frozen TensorFlow graph: image -> 3x3 conv, stride 4 -> swish
 * (conv * sigmoid(conv), negative values like EfficientNet's top activation) -> Mean over H, W -> _FusedMatMul with
 * BiasAdd (the logits) -> Softmax. Its constants are the weights, in one shard.
 */
function graphFiles(): Map<string, ArrayBuffer> {
  const b64 = (s: string) => btoa(s);
  const F = { type: 'DT_FLOAT' };
  const wave = (n: number, phase: number) => Array.from({ length: n }, (_, i) => 0.8 * Math.sin(i * 12.9898 + phase));
  const consts: [string, number[], 'float32' | 'int32', number[]][] = [
    ['conv_w', [3, 3, 3, 4], 'float32', wave(108, 1)],
    ['axes', [2], 'int32', [1, 2]],
    ['fc_w', [4, 10], 'float32', wave(40, 2)],
    ['fc_b', [10], 'float32', wave(10, 3)],
  ];
  const node = (name: string, op: string, input: string[] = [], attr: Record<string, unknown> = {}) => ({ name, op, input, attr });
  const nodes = [
    node('image', 'Placeholder', [], { dtype: F, shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } } }),
    ...consts.map(([n, , dtype]) => node(n, 'Const', [], { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } })),
    node('conv', 'Conv2D', ['image', 'conv_w'], {
      T: F, strides: { list: { i: ['1', '4', '4', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } },
    }),
    node('sigmoid', 'Sigmoid', ['conv'], { T: F }),
    node('swish', 'Mul', ['sigmoid', 'conv'], { T: F }),
    node('pool', 'Mean', ['swish', 'axes'], { T: F, keep_dims: { b: false } }),
    node('logits', '_FusedMatMul', ['pool', 'fc_w', 'fc_b'], {
      T: F, transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: [b64('BiasAdd')] } }, num_args: { i: '1' },
    }),
    node('probs', 'Softmax', ['logits'], { T: F }),
  ];
  const bytes = consts.map(([, , dtype, v]) => new Uint8Array((dtype === 'int32' ? new Int32Array(v) : new Float32Array(v)).buffer));
  const shard = new Uint8Array(bytes.reduce((s, b) => s + b.length, 0));
  bytes.reduce((offset, b) => (shard.set(b, offset), offset + b.length), 0);
  const json = {
    format: 'graph-model',
    modelTopology: { node: nodes, versions: { producer: 175 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: consts.map(([name, shape, dtype]) => ({ name, shape, dtype })) }],
  };
  const enc = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
  return new Map([
    ['model.json', enc(JSON.stringify(json))],
    ['group1-shard1of1.bin', shard.buffer],
    ['labels.json', enc(JSON.stringify(Array.from({ length: 10 }, (_, i) => `class ${i}`)))],
  ]);
}
const graphAdapter: ModelAdapter = {
  id: 'efficientnet_b0',
  name: 'tiny graph net',
  folder: 'unused',
  format: 'graph-model',
  preprocessing: 'unit',
  featureLayer: 'swish',
  classifierLayer: 'logits',
  channels: 4,
  classes: 10,
  stride: 4,
};

describe('a CAM-capable tfjs graph model', () => {
  it('runs to its feature node at any input size; the classifier read from its weights gives the graph\'s own probabilities', async () => {
    const net = await loadNetwork(graphAdapter, reader(graphFiles()), { longSide: 16 });
    expect(net.head.w.shape).toEqual([4, 10]);
    const pixels = tf.randomUniform([16, 16, 3], 0, 255, 'float32', 7) as tf.Tensor3D;
    const r = net.forward(pixels);
    expect(r.X.shape).toEqual([4, 4, 4]);
    expect(await tf.min(r.X).data(), 'swish maps keep their negative values unless the adapter says otherwise').toSatisfy((m: Float32Array) => m[0] < 0);
    const graph = await loadGraphModel(tf.io.fromMemory(await loadGraphArtifacts(reader(graphFiles()))));
    const direct = graph.execute(tf.expandDims(tf.div(pixels, 255), 0), 'probs') as tf.Tensor;
    const [a, b] = [await r.probabilities.data(), await direct.data()];
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 6));
    const r2 = net.forward(tf.zeros([24, 40, 3]) as tf.Tensor3D, 40);
    expect(r2.X.shape).toEqual([6, 10, 4]);
    graph.dispose();
    net.dispose();
  });

  it('nonNegativeX: X = max(A, 0), while the probabilities still come from A (the graph\'s own)', async () => {
    const raw = await loadNetwork(graphAdapter, reader(graphFiles()), { longSide: 16 });
    const relu = await loadNetwork({ ...graphAdapter, nonNegativeX: true }, reader(graphFiles()), { longSide: 16 });
    const pixels = tf.randomUniform([16, 16, 3], 0, 255, 'float32', 8) as tf.Tensor3D;
    const [ra, rb] = [raw.forward(pixels), relu.forward(pixels)];
    expect(Array.from(await rb.X.data())).toEqual(Array.from(await tf.relu(ra.X).data()));
    expect(Array.from(await rb.probabilities.data())).toEqual(Array.from(await ra.probabilities.data()));
    raw.dispose();
    relu.dispose();
  });

  it('loading and disposing leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const net = await loadNetwork(graphAdapter, reader(graphFiles()), { longSide: 16 });
    const r = net.forward(tf.tidy(() => tf.zeros([16, 16, 3]) as tf.Tensor3D));
    tf.dispose([r.X, r.probabilities]);
    net.dispose();
    expect(tf.memory().numTensors - before).toBe(1); // the zeros input above
  });
});

describe('bad graph models give clear errors', () => {
  it('a feature node that does not feed global average pooling and then the classifier', async () => {
    await expect(loadNetwork({ ...graphAdapter, featureLayer: 'conv' }, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(
      /GAP\(conv\) \. w \+ b differs from the graph's classifier logits by .* \(the feature node does not feed global average pooling/,
    );
  });

  it('node names the graph does not have, or a classifier node without weights [K, C] and a bias', async () => {
    await expect(loadNetwork({ ...graphAdapter, featureLayer: 'top_activation' }, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(/has no feature node top_activation/);
    await expect(loadNetwork({ ...graphAdapter, classifierLayer: 'fc' }, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(/has no classifier node fc/);
    await expect(loadNetwork({ ...graphAdapter, classifierLayer: 'probs' }, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(
      /classifier node probs \(Softmax\) does not read weights \[4, 10\] and a bias \[10\]/,
    );
    await expect(loadNetwork({ ...graphAdapter, channels: 8 }, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(/does not read weights \[8, 10\]/);
  });

  it('a graph model where a layers model is expected, and the other way round', async () => {
    await expect(loadNetwork(adapter, reader(graphFiles()), { longSide: 16 })).rejects.toThrow(/not a TensorFlow.js layers model/);
    await expect(loadNetwork(graphAdapter, reader(await files(camNet())), { longSide: 16 })).rejects.toThrow(/not a TensorFlow.js graph model/);
  });

  it('a truncated or missing weight shard', async () => {
    const f = graphFiles();
    f.set('group1-shard1of1.bin', f.get('group1-shard1of1.bin')!.slice(0, 40));
    await expect(loadNetwork(graphAdapter, reader(f), { longSide: 16 })).rejects.toThrow(/hold 40 bytes but the manifest needs 640: truncated/);
    f.delete('group1-shard1of1.bin');
    await expect(loadNetwork(graphAdapter, reader(f), { longSide: 16 })).rejects.toThrow(/weight file group1-shard1of1.bin could not be loaded: HTTP 404/);
  });
});
