/**
 * The real ImageNet networks, with their real weights (public/models, fetched by scripts/fetch-models.mjs),
 * on the tfjs wasm backend in Node: they load, classify real Paris photos sensibly, and the CAM of the top class
 * peaks where the object is. Photos come from ../shared (never committed). A missing model or ../shared skips the
 * tests that need it, or fails them under CI=true (tests/helpers/requirements.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { classActivationMaps } from '../../src/cw/cam';
import { topClasses } from '../../src/cw/classifier';
import { cwDescriptor } from '../../src/cw/descriptor';
import { pixelBoxToCells } from '../../src/cw/boxes';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { MODELS, type ModelId } from '../../src/model/adapters';
import { loadGraphArtifacts } from '../../src/model/artifacts';
import type { CwNetwork } from '../../src/model/network';
import { inputSize, toNetworkInput } from '../../src/model/preprocess';
import type { Manifest } from '../../scripts/lib/evaluate';
import { decodeImageFile, loadNodeNetwork, projectRoot, useNodeBackend } from '../../scripts/lib/node';
import { needsDevSet, needsModels } from '../helpers/requirements';

const devSet = needsDevSet();
const photo = (name: string) => join(devSet ?? '', 'jpg', `${name}.jpg`);

/** Photos whose class is unambiguous to ImageNet (checked by hand: a dome, a cinema front, an arch, a glass pyramid). */
const EXPECTED: [string, string][] = [
  ['paris_invalides_000007', 'dome'],
  ['paris_moulinrouge_000003', 'cinema'],
  ['paris_defense_000038', 'triumphal arch'],
  ['paris_louvre_000061', 'greenhouse'],
];

const CAM_CASES: [string, string][] = [
  ['invalides_2', 'dome'],
  ['invalides_5', 'dome'],
  ['triomphe_5', 'triumphal arch'],
];

const shortName = (label: string) => label.split(',')[0].trim().toLowerCase();
const manifest = (): Manifest => JSON.parse(readFileSync(join(devSet!, 'MANIFEST.json'), 'utf8'));

for (const id of Object.keys(MODELS) as ModelId[]) {
  describe.skipIf(!needsModels(id))(`${MODELS[id].name} with real weights (wasm)`, () => {
    let net: CwNetwork;
    beforeAll(async () => {
      await useNodeBackend('wasm');
      net = await loadNodeNetwork(id, 448);
    });
    afterAll(() => net?.dispose());

    it('loads with a CAM-capable head and 1000 labels; any input size gives maps at stride 32', () => {
      expect(net.head.w.shape).toEqual([MODELS[id].channels, 1000]);
      expect(net.head.b.shape).toEqual([1000]);
      expect(net.labels).toHaveLength(1000);
      const pixels = tf.zeros([300, 200, 3]) as tf.Tensor3D; // resized to 448 x 299
      const r = net.forward(pixels);
      expect(r.X.shape).toEqual([14, 10, MODELS[id].channels]);
      expect(r.grid.cellWidth).toBeCloseTo((32 * 200) / 299, 6);
      tf.dispose([pixels, r.X, r.probabilities]);
    });

    it.skipIf(!devSet).each(EXPECTED)('%s: top-5 includes "%s"', async (name, label) => {
      const pixels = await decodeImageFile(photo(name));
      const r = net.forward(pixels);
      const probs = await r.probabilities.data();
      const top5 = Array.from(await topClasses(r.probabilities, 5).data());
      const names = top5.map((c) => shortName(net.labels[c]));
      expect(names, `top-5 was ${names.join(', ')}`).toContain(label);
      expect(Array.from(probs).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
      tf.dispose([pixels, r.X, r.probabilities]);
    });

    // Query photos whose top class is the landmark itself (a dome, an arch): the CAM of that class must peak inside
    // the ground-truth box, and follow it when the photo is mirrored (the boxes are off-centre, so a transposed or
    // flipped CAM would miss).
    it.skipIf(!devSet).each(CAM_CASES)('%s: the CAM of the top class "%s" peaks inside the landmark box, mirrored too', async (query, label) => {
      const q = manifest().queries.find((x) => x.id === query)!;
      const image = await decodeImageFile(photo(q.image!));
      const width = image.shape[1];
      const [x1, y1, x2, y2] = q.bbox_xyxy;
      for (const mirrored of [false, true]) {
        const pixels = mirrored ? (tf.reverse(image, 1) as tf.Tensor3D) : image;
        const r = net.forward(pixels);
        const top = topClasses(r.probabilities, 1);
        expect(shortName(net.labels[(await top.data())[0]])).toBe(label);
        const cam = await classActivationMaps(r.X, net.head.w, top).data();
        const peak = cam.indexOf(Math.max(...cam));
        const [px, py] = [peak % r.grid.W, Math.floor(peak / r.grid.W)];
        const box = pixelBoxToCells(mirrored ? { x1: width - x2, y1, x2: width - x1, y2 } : { x1, y1, x2, y2 }, r.grid);
        const inside = px >= box.x && px < box.x + box.w && py >= box.y && py < box.y + box.h;
        expect(inside, `${mirrored ? 'mirrored: ' : ''}peak cell (${px}, ${py}), box ${JSON.stringify(box)}`).toBe(true);
        tf.dispose([r.X, r.probabilities, top, ...(mirrored ? [pixels] : [])]);
      }
      image.dispose();
    });

    it('leaks no tensors over repeated forward passes and descriptors', () => {
      const pixels = tf.randomUniform([96, 128, 3], 0, 255) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const r = net.forward(pixels, 128);
        const classes = topClasses(r.probabilities, 8);
        const d = cwDescriptor(r.X, net.head.w, classes);
        tf.dispose([r.X, r.probabilities, classes, d]);
      }
      expect(tf.memory().numTensors).toBe(before);
      pixels.dispose();
    });
  });
}

// A graph model's classifier is not a layer: the loader reads w and b out of the graph's weights. Here the graph runs
// whole, to its own output, on real photos, and the network's probabilities (GAP of the feature node, then w, b)
// must be the graph's.
describe.skipIf(!needsModels('efficientnet_b0'))('EfficientNet-B0 (a tfjs graph model) with real weights (wasm)', () => {
  const folder = join(projectRoot, 'public', MODELS.efficientnet_b0.folder);
  const read = async (p: string) => {
    const b = readFileSync(join(folder, p));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };

  it.skipIf(!devSet)('X = max(top_activation, 0), and the probabilities from GAP(top_activation) . w + b are the graph\'s own output, on real photos', async () => {
    await useNodeBackend('wasm');
    const net = await loadNodeNetwork('efficientnet_b0', 320);
    const graph = await loadGraphModel(tf.io.fromMemory(await loadGraphArtifacts(read)));
    for (const name of ['paris_invalides_000007', 'paris_moulinrouge_000003']) {
      const pixels = await decodeImageFile(photo(name));
      const r = net.forward(pixels);
      const input = toNetworkInput(pixels, inputSize(pixels.shape[1], pixels.shape[0], 320, 32), 'unit');
      const [own, A] = graph.execute(input, [graph.outputs[0].name, MODELS.efficientnet_b0.featureLayer]) as tf.Tensor[];
      // X = max(A, 0) of the top activation (swish, with negative values), the maps the app stores.
      expect(await tf.min(A).data(), 'the top activation has negative values').toSatisfy((m: Float32Array) => m[0] < 0);
      expect(Array.from(await r.X.data())).toEqual(Array.from(await tf.relu(tf.squeeze(A, [0])).data()));
      const [mine, theirs] = [await r.probabilities.data(), await own.data()];
      expect(mine.length).toBe(1000);
      const worst = Math.max(...Array.from(mine, (p, i) => Math.abs(p - theirs[i])));
      expect(worst, `${name}: max |probability difference|`).toBeLessThan(1e-5);
      expect(mine.indexOf(Math.max(...mine))).toBe(theirs.indexOf(Math.max(...theirs)));
      tf.dispose([pixels, r.X, r.probabilities, input, own, A]);
    }
    graph.dispose();
    net.dispose();
  });

  it('its labels are the ImageNet names and order of resnet50\'s', () => {
    const labels = JSON.parse(readFileSync(join(folder, 'labels.json'), 'utf8')) as string[];
    expect(labels.slice(0, 3)).toEqual(['tench', 'goldfish', 'great white shark']);
    const resnet = join(projectRoot, 'public', MODELS.resnet50.folder, 'labels.json');
    if (needsModels('resnet50')) expect(labels).toEqual(JSON.parse(readFileSync(resnet, 'utf8')));
  });
});
