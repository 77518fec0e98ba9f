import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import golden from '../fixtures/cw-golden.json';
import { runGoldenChecks, type GoldenCheck } from '../golden/goldenChecks';

describe('CW core reproduces fixtures/cw-golden.json on the cpu backend', () => {
  let checks: GoldenCheck[];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    checks = await runGoldenChecks(golden);
  });
  it('covers every step of the fixture', () => {
    expect(checks.length).toBeGreaterThanOrEqual(25);
  });
  it.each([
    'probabilities', 'topClasses', 'cams', 'channelWeights', 'classVectors', 'descriptorNoPca', 'descriptor',
    'descriptorNoPca (batched path)', 'pca.mean', 'pca.explainedVariance', 'pca.components (|cos| with fixture rows)',
    'rerank.boxes', 'rerank.regionDescriptor', 'rerank.regionDescriptor (all regions as masks)', 'search.offline.topClasses', 'search.offline.descriptors',
    'search.offline.scores', 'search.offline.ranking', 'search.queryExpansion.expandedQuery', 'search.queryExpansion.scores',
    'search.queryExpansion.ranking', 'search.online.queryClasses', 'search.online.descriptors', 'search.online.scores',
    'search.online.ranking', 'oxfordAp.ap', 'no leaked tensors',
  ])('%s within 1e-4', (name) => {
    const check = checks.find((c) => c.name === name);
    expect(check, `check ${name} was not run`).toBeDefined();
    expect(check!.maxAbsError).toBeLessThanOrEqual(1e-4);
  });
});
