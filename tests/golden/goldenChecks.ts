/**
 * Every value of fixtures/cw-golden.json recomputed with the CW core on the ACTIVE tfjs backend.
 * Shared by the Node test (cpu backend) and the browser page (webgpu backend), so both check the same things.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classActivationMaps } from '../../src/cw/cam';
import { classProbabilities, topClasses } from '../../src/cw/classifier';
import { aggregate, classVectors } from '../../src/cw/classVectors';
import { crowChannelWeights } from '../../src/cw/crow';
import { cwDescriptor, cwDescriptors, padCellBatch, regionDescriptors } from '../../src/cw/descriptor';
import { fitWhitening, uploadWhitening } from '../../src/cw/whitening';
import { cosineScores, queryExpansion, rankDescending } from '../../src/cw/ranking';
import { regionBoxes } from '../../src/cw/boxes';
import { oxfordAveragePrecision } from '../../src/cw/oxfordAp';
import type { Whitening } from '../../src/cw/types';

export interface GoldenCheck {
  name: string;
  /** Largest absolute difference from the fixture (0 for exact matches, Infinity for a shape or value mismatch). */
  maxAbsError: number;
  count: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GoldenFixture = any;

function diff(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): GoldenCheck {
  if (actual.length !== expected.length) return { name, maxAbsError: Infinity, count: expected.length };
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return { name, maxAbsError: m, count: expected.length };
}
const exact = (name: string, actual: unknown, expected: unknown): GoldenCheck => ({
  name,
  maxAbsError: JSON.stringify(actual) === JSON.stringify(expected) ? 0 : Infinity,
  count: Array.isArray(expected) ? expected.length : 1,
});

async function dataAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

export async function runGoldenChecks(g: GoldenFixture): Promise<GoldenCheck[]> {
  const { H, W, K, C, NC } = g.shape;
  const checks: GoldenCheck[] = [];
  const tensorsBefore = tf.memory().numTensors;

  const X = tf.tensor3d(g.input.features, [H, W, K]);
  const w = tf.tensor2d(g.input.classifierWeights, [K, C]);
  const b = tf.tensor1d(g.input.classifierBias);
  const fixturePca: Whitening = {
    inputDim: K,
    outputDim: g.pca.componentsShape[0],
    mean: Float32Array.from(g.pca.mean),
    components: Float32Array.from(g.pca.components),
    variance: Float32Array.from(g.pca.explainedVariance),
    shrinkage: 0,
    trainedOn: g.pca.trainingVectors.length,
  };
  const pca = uploadWhitening(fixturePca);

  const probs = classProbabilities(X, w, b);
  checks.push(diff('probabilities', await probs.data(), g.expected.probabilities));
  const top = topClasses(probs, NC);
  checks.push(exact('topClasses', Array.from(await top.data()), g.expected.topClasses));
  const cams = classActivationMaps(X, w, top);
  checks.push(diff('cams', await cams.data(), g.expected.cams));
  const cw = crowChannelWeights(X);
  checks.push(diff('channelWeights', await cw.data(), g.expected.channelWeights));
  const vectors = classVectors(X, cams, cw);
  checks.push(diff('classVectors', await vectors.data(), g.expected.classVectors));
  const plain = aggregate(vectors);
  checks.push(diff('descriptorNoPca', await plain.data(), g.expected.descriptorNoPca));
  const query = cwDescriptor(X, w, top, pca);
  checks.push(diff('descriptor', await query.data(), g.expected.descriptor));
  const queryNoPca = cwDescriptor(X, w, top, null);
  checks.push(diff('descriptorNoPca (batched path)', await queryNoPca.data(), g.expected.descriptorNoPca));

  // PCA-whitening fit: mean and variances exactly; components up to sign (|cos| with the fixture's rows).
  const train = g.pca.trainingVectors as number[][];
  const fitted = await fitWhitening(Float32Array.from(train.flat()), train.length, K);
  checks.push(diff('pca.mean', fitted.mean, g.pca.mean));
  checks.push(diff('pca.explainedVariance', fitted.variance, g.pca.explainedVariance));
  const absCos = Array.from({ length: fitted.outputDim }, (_, r) => {
    let dot = 0;
    for (let k = 0; k < K; k++) dot += fitted.components[r * K + k] * g.pca.components[r * K + k];
    return Math.abs(dot);
  });
  checks.push(diff('pca.components (|cos| with fixture rows)', absCos, new Array(fitted.outputDim).fill(1)));

  // Re-ranking boxes on the heatmap = mean of the top-2 CAMs, and the region descriptor of the chosen box.
  const heat = tf.tidy(() => tf.mean(tf.slice(cams, [0, 0], [2, H * W]), 0));
  const boxes = regionBoxes(await heat.data(), H, W, g.rerank.thresholds);
  checks.push(exact('rerank.boxes', boxes.map((bx) => [bx.x, bx.y, bx.w, bx.h]), g.rerank.boxes));
  const region = cwDescriptor(X, w, top, pca, boxes[g.rerank.regionBoxIndex]);
  checks.push(diff('rerank.regionDescriptor', await region.data(), g.rerank.regionDescriptor));
  const regions = regionDescriptors(X, w, top, boxes, pca);
  const regionRow = tf.slice(regions, [g.rerank.regionBoxIndex, 0], [1, -1]);
  checks.push(diff('rerank.regionDescriptor (all regions as masks)', await regionRow.data(), g.rerank.regionDescriptor));

  // Search over the 12-image database, batched (padding is a no-op here: all maps are H x W).
  const dbFeatures = (g.search.database.features as number[][]).map((f) => tf.tensor3d(f, [H, W, K]));
  const batch = padCellBatch(dbFeatures);
  const dbProbs = tf.tidy(() => tf.stack(dbFeatures.map((f) => classProbabilities(f, w, b))));
  const dbTop = tf.tidy(() => tf.topk(dbProbs, NC).indices as tf.Tensor2D);
  checks.push(exact('search.offline.topClasses', await dbTop.array(), g.search.offline.topClasses));
  const offline = cwDescriptors(batch, w, dbTop, pca);
  checks.push(diff('search.offline.descriptors', await offline.data(), (g.search.offline.descriptors as number[][]).flat()));
  const offScores = cosineScores(offline, query);
  const offScoresData = await offScores.data();
  checks.push(diff('search.offline.scores', offScoresData, g.search.offline.scores));
  const offRanking = rankDescending(offScoresData);
  checks.push(exact('search.offline.ranking', Array.from(offRanking), g.search.offline.ranking));

  const expanded = queryExpansion(offline, offRanking, g.search.queryExpansion.n, query);
  checks.push(diff('search.queryExpansion.expandedQuery', await expanded.data(), g.search.queryExpansion.expandedQuery));
  const qeScores = await dataAndDispose(cosineScores(offline, expanded));
  checks.push(diff('search.queryExpansion.scores', qeScores, g.search.queryExpansion.scores));
  checks.push(exact('search.queryExpansion.ranking', Array.from(rankDescending(qeScores)), g.search.queryExpansion.ranking));

  checks.push(exact('search.online.queryClasses', Array.from(await top.data()), g.search.online.queryClasses));
  const online = cwDescriptors(batch, w, top, pca);
  checks.push(diff('search.online.descriptors', await online.data(), (g.search.online.descriptors as number[][]).flat()));
  const onScores = await dataAndDispose(cosineScores(online, query));
  checks.push(diff('search.online.scores', onScores, g.search.online.scores));
  checks.push(exact('search.online.ranking', Array.from(rankDescending(onScores)), g.search.online.ranking));

  const ap = oxfordAveragePrecision(g.oxfordAp.ranked, new Set(g.oxfordAp.positives), new Set(g.oxfordAp.junk));
  checks.push(diff('oxfordAp.ap', [ap], [g.oxfordAp.ap]));

  tf.dispose([X, w, b, probs, top, cams, cw, vectors, plain, query, queryNoPca, heat, region, regions, regionRow, batch.X, batch.cellCounts, dbProbs, dbTop, offline, offScores, expanded, online, ...dbFeatures]);
  pca.dispose();
  // Leak check: every tensor made above was disposed.
  checks.push({ name: 'no leaked tensors', maxAbsError: tf.memory().numTensors - tensorsBefore, count: 1 });
  return checks;
}
