/**
 * Online aggregation (OnA) for many queries at once. An image's CW descriptor for a query's classes is
 * l2(sum over those classes of its class vectors, each whitened when whitening is on), and a class vector depends
 * on the image and the class alone (CAMs and their normalisation are per class). So the class vectors of the UNION
 * of a batch of queries' classes are computed once per image and each query's rows are sums of them: the rows
 * onlineDescriptors() (src/search/search.ts) computes query by query, up to float rounding, for a fraction of the
 * work when the queries share classes (UKBench: about 1/6).
 */
import * as tf from '@tensorflow/tfjs-core';
import { classColumns } from '../../src/cw/cam';
import { classVectorsFromColumns, padCellBatch } from '../../src/cw/descriptor';
import { l2Normalize } from '../../src/cw/tensorMath';
import { applyWhitening, type WhiteningOnDevice } from '../../src/cw/whitening';
import type { Collection } from '../../src/search/types';

/**
 * For each class list (a query's top-NC classes, most probable first), the OnA rows of every image of the collection:
 * one Float32Array [size * D] per list, row i = image i.
 */
export async function onlineRowsForQueries(
  size: number,
  maps: Collection['maps'],
  w: tf.Tensor2D,
  classLists: readonly (readonly number[])[],
  whitening: WhiteningOnDevice | null,
  log?: (line: string) => void,
): Promise<Float32Array[]> {
  if (classLists.length === 0) return [];
  const union = [...new Set(classLists.flat())];
  const position = new Map(union.map((c, i) => [c, i]));
  const unionT = tf.tensor1d(union, 'int32');
  const columns = classColumns(w, unionT);
  // Each list's sum of class vectors as one product: select [L, U] (1 where the list has the class) x V [U, D]
  // (a gather of the rows costs ~0.2 us per value on wasm, hundreds of ms per image here).
  const selection = new Float32Array(classLists.length * union.length);
  classLists.forEach((l, j) => l.forEach((c) => (selection[j * union.length + position.get(c)!] = 1)));
  const select = tf.tensor2d(selection, [classLists.length, union.length]);
  const out: Float32Array[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const [X] = await maps([i]);
      const rows = tf.tidy(() => {
        const V = tf.squeeze(classVectorsFromColumns(padCellBatch([X]), columns), [0]) as tf.Tensor2D; // [U, K]
        return l2Normalize(tf.matMul(select, whitening ? applyWhitening(V, whitening) : V)); // [L, D]
      });
      X.dispose();
      const data = (await rows.data()) as Float32Array;
      const D = rows.shape[1]!;
      rows.dispose();
      if (out.length === 0) classLists.forEach(() => out.push(new Float32Array(size * D)));
      out.forEach((o, j) => o.set(data.subarray(j * D, (j + 1) * D), i * D));
      if (log && ((i + 1) % 250 === 0 || i + 1 === size)) log(`OnA rows of ${classLists.length} class lists (${union.length} classes): ${i + 1}/${size} images`);
    }
  } finally {
    tf.dispose([unionT, columns, select]);
  }
  return out;
}
